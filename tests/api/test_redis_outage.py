"""Redis going away costs nothing: over real HTTP (uvicorn in the test's loop, on both
databases), with a redis-server of the test's own that the test stops and starts again on
the same port. Reads, writes, persisted queries, the feeds and subscriptions keep
answering; /healthz and /metrics say so; when Redis is back the cache uses it again and a
change still invalidates what it cached."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms import clock
from cms.auth import tokens
from cms.config import Settings
from tests import factories
from tests.api.conftest import global_id
from tests.realtime import free_port, next_event, post, serve, subscribe
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]

FEED = "{ feed(first: 5) { edges { node { title } } } }"
LATEST = "{ feed(first: 1) { edges { node { title } } } }"
LATEST_HASH = hashlib.sha256(LATEST.encode()).hexdigest()
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename } }"
RETITLE = """
mutation($id: ID!, $title: String!) {
  updateArticle(id: $id, input: {title: $title}) { __typename }
}
"""
CREATE_WEBHOOK = """
mutation($url: String!) {
  createWebhook(url: $url, events: [CONTENT_PUBLISHED]) { __typename }
}
"""
PATIENCE = 10.0  # seconds: how long a test waits for what must happen


@pytest.fixture
async def editor(db: None) -> str:
    _, secret = await tokens.create(name="outage-editor", role="editor")
    return secret


@pytest.fixture
def with_redis(settings: Settings, redis_server: RedisServer) -> Settings:
    return settings.model_copy(
        update={"redis_url": redis_server.url, "redis_retry_seconds": 0.2, "run_dispatcher": True}
    )


@pytest.fixture
async def http(with_redis: Settings, db: None) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serve(with_redis) as address,
        httpx.AsyncClient(base_url=f"http://{address}", trust_env=False) as client,
    ):
        yield client


async def _titles(http: httpx.AsyncClient, query: str = FEED) -> list[str]:
    """The feed's titles, through an anonymous GET (the response cache's path)."""
    response = await http.get("/graphql", params={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["feed"]["edges"]]


async def _redis_is(http: httpx.AsyncClient, state: str) -> None:
    for _ in range(int(PATIENCE / 0.05)):
        response = await http.get("/healthz")
        assert response.status_code == 200, response.text  # Redis never fails liveness
        if response.json().get("redis") == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"/healthz never said redis {state}")


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


def _persisted(query_hash: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash}}


async def test_with_redis_gone_reads_writes_persisted_queries_feeds_and_subscriptions_answer(
    http: httpx.AsyncClient, redis_server: RedisServer, editor: str
) -> None:
    await factories.make_article(title="Before the outage", published_at=clock.utcnow())
    draft = await factories.make_article(title="During the outage")
    address = str(http.base_url.netloc.decode())
    assert await _titles(http) == ["Before the outage"]
    assert redis_server.keys("newsdesk:response:*")  # cached in Redis

    async with subscribe(address) as ws:
        redis_server.stop()
        get = await _titles(http)
        again = await _titles(http)
        posted = await http.post("/graphql", json={"query": FEED})
        unknown = await http.get(
            "/graphql", params={"extensions": json.dumps(_persisted(LATEST_HASH))}
        )
        registered = await http.post(
            "/graphql", json={"query": LATEST, "extensions": _persisted(LATEST_HASH)}
        )
        by_hash = await http.get(
            "/graphql", params={"extensions": json.dumps(_persisted(LATEST_HASH))}
        )
        rss, json_feed = await http.get("/feed.xml"), await http.get("/feed.json")
        await post(address, PUBLISH, editor, id=global_id("Article", draft.id))
        event = await next_event(ws, timeout=PATIENCE)
        after_publish = await _titles(http)
        health = await http.get("/healthz")
        metrics = (await http.get("/metrics")).text

    assert get == again == ["Before the outage"]
    assert (posted.status_code, posted.json()) == (
        200,
        {
            "data": {"feed": {"edges": [{"node": {"title": "Before the outage"}}]}},
            "extensions": {"cost": 5},
        },
    )
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.status_code == by_hash.status_code == 200
    assert registered.json() == by_hash.json()
    assert by_hash.json()["data"]["feed"]["edges"] == [{"node": {"title": "Before the outage"}}]
    assert (rss.status_code, json_feed.status_code) == (200, 200)
    assert "Before the outage" in rss.text
    assert (event["type"], event["content"]["title"]) == ("CONTENT_PUBLISHED", "During the outage")
    assert after_publish == ["During the outage", "Before the outage"]  # invalidated in memory
    assert (health.status_code, health.json()) == (200, {"status": "ok", "redis": "down"})
    assert _metric(metrics, "newsdesk_redis_up") == 0
    assert _metric(metrics, "newsdesk_redis_fallbacks_total") > 0
    assert _metric(metrics, "newsdesk_redis_outages_total") >= 1


async def test_when_redis_is_back_the_cache_uses_it_and_a_change_still_invalidates(
    http: httpx.AsyncClient, redis_server: RedisServer, editor: str
) -> None:
    story = await factories.make_article(title="First words", published_at=clock.utcnow())
    address = str(http.base_url.netloc.decode())
    redis_server.stop()
    assert await _titles(http) == ["First words"]  # filled in memory
    await _redis_is(http, "down")

    redis_server.start()  # the same port, empty
    await _redis_is(http, "up")
    first = await _titles(http)
    cached = redis_server.keys("newsdesk:response:*")
    hit = await _titles(http)
    await post(address, RETITLE, editor, id=global_id("Article", story.id), title="New words")
    changed = await _titles(http)
    metrics = (await http.get("/metrics")).text

    assert first == hit == ["First words"]
    assert len(cached) == 1  # the cache uses Redis again
    assert changed == ["New words"]
    assert _metric(metrics, "newsdesk_redis_up") == 1


async def test_an_entry_cached_before_an_outage_is_not_served_after_it(
    http: httpx.AsyncClient, redis_server: RedisServer, editor: str
) -> None:
    """Redis keeps what it held across the outage (paused, as in a network split), and
    the change made meanwhile moved only the worker's memory: still not served stale."""
    story = await factories.make_article(title="Old words", published_at=clock.utcnow())
    address = str(http.base_url.netloc.decode())
    assert await _titles(http) == await _titles(http) == ["Old words"]  # cached in Redis

    redis_server.pause()
    await _titles(http)  # one timeout, then this worker's memory
    await post(address, RETITLE, editor, id=global_id("Article", story.id), title="Fresh words")
    during = await _titles(http)
    redis_server.resume()
    await _redis_is(http, "up")
    after = await _titles(http)

    assert during == after == ["Fresh words"]


async def test_a_server_started_while_redis_is_down_comes_up_and_serves(
    with_redis: Settings, redis_server: RedisServer, db: None
) -> None:
    await factories.make_article(title="Served anyway", published_at=clock.utcnow())
    redis_server.stop()
    async with (
        serve(with_redis) as address,
        httpx.AsyncClient(base_url=f"http://{address}", trust_env=False) as http,
    ):
        health = await http.get("/healthz")
        titles = await _titles(http)
        redis_server.start()
        await _redis_is(http, "up")
        await _titles(http)
        cached = redis_server.keys("newsdesk:response:*")

    assert (health.status_code, health.json()) == (200, {"status": "ok", "redis": "down"})
    assert titles == ["Served anyway"]
    assert len(cached) == 1


async def test_with_redis_gone_webhooks_are_still_delivered(
    http: httpx.AsyncClient, redis_server: RedisServer, editor: str
) -> None:
    """The outbox and the dispatcher never needed Redis: a publish made while it is down
    reaches a webhook receiver (a real one on 127.0.0.1)."""
    heard: list[str] = []

    async def receive(request: Request) -> Response:
        heard.append(request.headers.get("x-newsdesk-event", ""))
        return Response(status_code=200)

    port = free_port()
    receiver = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hooks", receive, methods=["POST"])]),
            host="127.0.0.1", port=port, lifespan="off", log_level="warning",
        )
    )  # fmt: skip
    task = asyncio.create_task(receiver.serve())
    _, admin = await tokens.create(name="outage-admin", role="admin")
    draft = await factories.make_article(title="Hooked")
    address = str(http.base_url.netloc.decode())
    try:
        redis_server.stop()
        await post(address, CREATE_WEBHOOK, admin, url=f"http://127.0.0.1:{port}/hooks")
        await post(address, PUBLISH, editor, id=global_id("Article", draft.id))
        for _ in range(int(PATIENCE / 0.05)):
            if heard:
                break
            await asyncio.sleep(0.05)
    finally:
        receiver.should_exit = True
        await task

    assert heard == ["CONTENT_PUBLISHED"]
