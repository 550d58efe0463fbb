"""`cms serve` with CMS_REDIS_URL pointing at a Redis that is down: it starts (two worker
processes) and serves, /healthz says Redis is down; when that Redis starts, the workers'
caches use it. A redis-server of the test's own, never the machine's Redis."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.live import run_live_server
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]

FEED = "{ feed(first: 2) { edges { node { title } } } }"
PATIENCE = 20.0  # seconds


def _health(url: str) -> dict[str, str]:
    response = httpx.get(f"{url}/healthz", timeout=5, trust_env=False)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_cms_serve_starts_and_serves_while_redis_is_down(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    redis_server.stop()
    extra = {"CMS_REDIS_URL": redis_server.url, "CMS_REDIS_RETRY_SECONDS": "0.2"}
    with run_live_server(tmp_path, workers=2, extra_env=extra) as live:
        health = _health(live.url)
        read = httpx.get(f"{live.url}/graphql", params={"query": FEED}, timeout=10, trust_env=False)

        redis_server.start()
        deadline = time.monotonic() + PATIENCE
        # A worker sees Redis back at its next check; each worker answers some requests.
        while not redis_server.keys("newsdesk:response:*"):
            assert time.monotonic() < deadline, "no worker cached in Redis once it was back"
            httpx.get(f"{live.url}/graphql", params={"query": FEED}, timeout=10, trust_env=False)
            time.sleep(0.1)
        log = live.log.read_text()

    assert health == {"status": "ok", "redis": "down"}
    assert read.status_code == 200, read.text
    assert "errors" not in read.json()
    assert len(read.json()["data"]["feed"]["edges"]) == 2
    assert "is unreachable" in log
    assert "Traceback" not in log
