"""Outbox lag under a newsroom's load (`make bench-outbox`): how late subscribers and
webhooks hear of changes while the desk writes through the API.

    python -m bench.outbox_lag [--seconds 120] [--rate 200] [--in-flight 12]
                               [--workers 1] [--database-url URL] [--redis-url URL]

Starts `cms serve` on PostgreSQL (BENCH_OUTBOX_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_outbox, dropped and made again each run) and
Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/0), pinned to core 0 as `make
bench` runs its servers. Then, from core 1: one subscriber over graphql-transport-ws
(an editor's token, so it hears drafts' events too), one webhook subscribed to every
event type whose receiver counts what arrives, and --in-flight editors sending --rate
mutations a second in all (each story: createArticle, publish, then updateArticle
twice) for --seconds. Reported:

- outbox lag: each event's occurred_at to dispatched_at, from the database, p50/p99/max;
- to the subscriber: occurred_at to the moment the subscriber read it;
- to the webhook receiver: occurredAt to the moment the receiver read it;
- the events still waiting when the load ended, and how long they took to drain;
- then a backlog (--backlog events recorded at once, copies of the load's, as after an
  outage of every dispatcher): how long the outbox, and the webhooks, take to drain.

`--cms-root DIR` serves the cms package of another checkout (`git archive <commit>`
unpacked there) against the same load, to compare with an earlier dispatcher.

The numbers are for reading (bench/RESULTS.md), not asserting; the machine's load
average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson
import uvicorn
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from bench import pgload, queries, servers

__all__ = ["main", "summary"]

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_outbox"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
WORK_DIR = Path(__file__).resolve().parent / "work" / "outbox"
SUBSCRIBE = "subscription { feedEvents { type contentId at } }"
CREATE_WEBHOOK = """mutation($url: String!, $events: [WebhookEventType!]!) {
  createWebhook(url: $url, events: $events) { __typename } }"""
EVENTS = ["CONTENT_PUBLISHED", "CONTENT_UPDATED", "CONTENT_UNPUBLISHED", "CONTENT_DELETED"]
# Each story's mutations, in order.
STORY = ("create", "publish", "update", "update")
DRAIN_LIMIT_SECONDS = 600.0


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """count, p50, p99 and max of `values` (seconds), rounded to the millisecond."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "p50": math.nan, "p99": math.nan, "max": math.nan}

    def at(share: float) -> float:
        return ordered[max(0, math.ceil(len(ordered) * share) - 1)]

    return {
        "count": len(ordered),
        "p50": round(at(0.50), 3),
        "p99": round(at(0.99), 3),
        "max": round(ordered[-1], 3),
    }


class Pacer:
    """Hands out send times `1 / rate` apart from the start, to whichever editor asks
    next: `rate` a second in all while the server keeps up, fewer when it does not (an
    editor waits for its answer before asking again)."""

    def __init__(self, rate: float, until: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.until = until

    async def slot(self) -> bool:
        at, self.next = self.next, max(self.next + self.interval, time.monotonic() - 1.0)
        if at >= self.until:
            return False
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        return True


class Counts:
    def __init__(self) -> None:
        self.sent = 0
        self.failed = 0
        self.subscriber_lags: list[float] = []
        self.webhook_lags: list[float] = []


def _lag(occurred: str) -> float:
    return time.time() - datetime.fromisoformat(occurred).timestamp()


async def _editor(http: httpx.AsyncClient, pacer: Pacer, counts: Counts, number: int) -> None:
    story = 0
    content_id: str | None = None
    while True:
        for step in STORY:
            if not await pacer.slot():
                return
            variables: dict[str, Any]
            if step == "create":
                query = queries.CREATE_ARTICLE
                title = f"Desk {number} story {story}"
                body = "Written under load by `make bench-outbox`."
                variables = {"input": {"title": title, "body": body, "tagSlugs": ["desk"]}}
                story += 1
            elif step == "publish":
                query, variables = queries.PUBLISH, {"id": content_id}
            else:
                query = queries.UPDATE_ARTICLE
                variables = {"id": content_id, "input": {"dek": f"Update {time.time_ns()}"}}
            try:
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}
                )
                data = response.json()["data"]
                counts.sent += 1
                if step == "create":
                    content_id = data["createArticle"]["id"]
            except Exception:  # counted; the story goes on with a new article
                counts.failed += 1
                break


async def _subscriber(url: str, token: str, counts: Counts, ready: asyncio.Event) -> None:
    address = url.replace("http://", "ws://") + "/graphql"
    async with connect(address, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        message = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}
        await ws.send(json.dumps(message))
        ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "next":
                event = message["payload"]["data"]["feedEvents"]
                counts.subscriber_lags.append(_lag(event["at"]))


@contextlib.asynccontextmanager
async def _receiver(counts: Counts) -> Any:
    """A webhook receiver on 127.0.0.1 in this process: counts and times what arrives."""

    async def receive(request: Request) -> Response:
        body = orjson.loads(await request.body())
        counts.webhook_lags.append(_lag(body["occurredAt"]))
        return Response(status_code=200)

    app = Starlette(routes=[Route("/hooks", receive, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", ws="none", log_level="error",
        access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hooks"
    finally:
        server.should_exit = True
        await task


async def _waiting(db: asyncpg.Connection) -> int:
    count = await db.fetchval("SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL")
    return int(count)


async def _measure(args: argparse.Namespace, url: str, tokens: dict[str, str]) -> dict[str, Any]:
    counts = Counts()
    db = await asyncpg.connect(pgload.dsn(args.database_url))
    editor_headers = {"Authorization": f"Bearer {tokens['editor']}"}
    limits = httpx.Limits(max_connections=args.in_flight + 2)
    async with (
        _receiver(counts) as hook_url,
        httpx.AsyncClient(
            base_url=url, headers=editor_headers, timeout=60, trust_env=False, limits=limits
        ) as http,
    ):
        created = await http.post(
            "/graphql",
            json={"query": CREATE_WEBHOOK, "variables": {"url": hook_url, "events": EVENTS}},
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        assert created.json()["data"]["createWebhook"]["__typename"] == "Webhook", created.text
        ready = asyncio.Event()
        listener = asyncio.create_task(_subscriber(url, tokens["editor"], counts, ready))
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.sleep(0.5)  # the server subscribes to the broker
        first_event = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox_event"))
        started = time.monotonic()
        pacer = Pacer(args.rate, until=started + args.seconds)
        depth: list[int] = []

        async def sample() -> None:
            while True:
                await asyncio.sleep(1.0)
                depth.append(await _waiting(db))

        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(_editor(http, pacer, counts, n) for n in range(args.in_flight)))
        load_seconds = time.monotonic() - started
        sampler.cancel()
        left = await _waiting(db)
        drain = await _drained(db)
        await _all_delivered(db, counts)
        await asyncio.sleep(1.0)  # the subscriber's last events
        last_event = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox_event"))
        result = {
            "mutations": counts.sent,
            "mutations_failed": counts.failed,
            "mutations_per_second": round(counts.sent / load_seconds, 1),
            "events": last_event - first_event,
            "outbox_lag_s": await _outbox_lags(db, first_event, last_event),
            "subscriber_lag_s": summary(counts.subscriber_lags),
            "webhook_lag_s": summary(counts.webhook_lags),
            "waiting_max_during_load": max(depth, default=0),
            "waiting_when_load_ended": left,
            "drain_seconds": round(drain, 2),
        }
        if args.backlog:
            result["backlog"] = await _backlog(db, counts, args.backlog, first_event, last_event)
        listener.cancel()
    await db.close()
    return result


async def _drained(db: asyncpg.Connection) -> float:
    """Seconds until nothing waits in the outbox."""
    started = time.monotonic()
    while await _waiting(db) and time.monotonic() - started < DRAIN_LIMIT_SECONDS:
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _all_delivered(db: asyncpg.Connection, counts: Counts) -> float:
    """Seconds until the receiver has had every delivery recorded (at most a minute)."""
    started = time.monotonic()
    wanted = await db.fetchval("SELECT count(*) FROM webhook_delivery WHERE status <> 'failed'")
    while len(counts.webhook_lags) < wanted and time.monotonic() - started < 60:
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _outbox_lags(db: asyncpg.Connection, after: int, upto: int) -> dict[str, float | int]:
    rows = await db.fetch(
        "SELECT extract(epoch FROM dispatched_at - occurred_at) AS lag FROM outbox_event "
        "WHERE id > $1 AND id <= $2 AND dispatched_at IS NOT NULL",
        after,
        upto,
    )
    return summary([float(row["lag"]) for row in rows])


async def _backlog(
    db: asyncpg.Connection, counts: Counts, size: int, after: int, upto: int
) -> dict[str, Any]:
    """`size` events recorded at once (copies of the load's, in one INSERT, as after an
    outage of the dispatcher): how long the outbox and the webhooks take to drain."""
    delivered_before = len(counts.webhook_lags)
    await db.execute(
        "INSERT INTO outbox_event (type, content_id, payload, occurred_at) "
        "SELECT e.type, e.content_id, e.payload, clock_timestamp() "
        "FROM generate_series(0, $1 - 1) AS g JOIN ("
        "  SELECT row_number() OVER (ORDER BY id) - 1 AS n, type, content_id, payload"
        "  FROM outbox_event WHERE id > $2 AND id <= $3) AS e ON e.n = g % ($3 - $2) "
        "ORDER BY g",
        size,
        after,
        upto,
    )
    drain = await _drained(db)
    webhooks = await _all_delivered(db, counts)
    return {
        "events": size,
        "drain_seconds": round(drain, 2),
        "events_per_second": round(size / drain, 1) if drain else None,
        "webhooks_delivered": len(counts.webhook_lags) - delivered_before,
        "webhooks_done_seconds": round(drain + webhooks, 2),
    }


def _cms(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cms", *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"cms {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Outbox lag under the desk's load.")
    parser.add_argument("--seconds", type=float, default=120.0, help="load duration")
    parser.add_argument("--rate", type=float, default=200.0, help="mutations a second in all")
    parser.add_argument("--in-flight", type=int, default=12, help="editors writing at once")
    parser.add_argument("--workers", type=int, default=1, help="cms serve --workers")
    parser.add_argument(
        "--backlog",
        type=int,
        default=20_000,
        help="after the load: this many events recorded at once, timed until drained (0: none)",
    )
    parser.add_argument(
        "--cms-root",
        type=Path,
        default=None,
        help="serve the cms package of another checkout (to compare with an earlier commit)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_OUTBOX_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database (named bench…), dropped and made again",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args()
    name = args.database_url.rsplit("/", 1)[-1]
    if not name.startswith("bench"):
        parser.error(f"the database must be called bench…, not {name!r}: the run drops it")
    if args.seconds <= 0 or args.rate <= 0 or args.in_flight < 1 or args.workers < 1:
        parser.error("--seconds and --rate above 0, --in-flight and --workers at least 1")
    if args.backlog < 0:
        parser.error("--backlog is 0 or more")
    return args


def _where(url: str) -> str:
    """host:port/database of a URL, without its password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}{parts.path}"


def _reachable(args: argparse.Namespace) -> str | None:
    """Why the run cannot happen here (no PostgreSQL or no Redis), or None."""

    async def check() -> str | None:
        try:
            connection = await asyncpg.connect(pgload.dsn(args.database_url, "postgres"))
            await connection.close()
        except (OSError, asyncpg.PostgresError) as error:
            return f"PostgreSQL at {_where(args.database_url)}: {error}"
        redis = Redis.from_url(args.redis_url, socket_connect_timeout=2)
        try:
            await redis.ping()
        except (OSError, RedisError) as error:
            return f"Redis at {_where(args.redis_url)}: {error}"
        finally:
            await redis.aclose()
        return None

    return asyncio.run(check())


def main() -> None:
    args = _arguments()
    missing = _reachable(args)
    if missing is not None:
        print(f"outbox lag not measured: it needs PostgreSQL and Redis ({missing})")
        return
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the server has core 0, the load core 1
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    asyncio.run(pgload._recreate(args.database_url))  # noqa: SLF001 - the bench's own helper
    env = servers.base_env(args.database_url, WORK_DIR)
    if args.cms_root is not None:
        env["PYTHONPATH"] = str(args.cms_root.resolve())
    env |= {
        "CMS_REDIS_URL": args.redis_url,
        "CMS_WEBHOOK_ALLOW_PRIVATE": "true",
        "CMS_ACCESS_LOG": "false",
    }
    _cms(["migrate"], env, WORK_DIR)
    tokens = {
        role: _cms(["token", "create", "--name", f"bench-{role}", "--role", role], env, WORK_DIR)
        .strip()
        .splitlines()[-1]
        for role in ("editor", "admin")
    }
    load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
    program = ["cms", "serve", "--workers", str(args.workers)]
    with servers.serve("newsdesk-outbox", program, env, log_dir=WORK_DIR) as server:
        started = time.time()
        result = asyncio.run(_measure(args, server.url, tokens))
    result = {
        "date": datetime.fromtimestamp(started).astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.outbox_lag " + " ".join(sys.argv[1:]),
        "seconds": args.seconds,
        "rate": args.rate,
        "in_flight": args.in_flight,
        "workers": args.workers,
        "load_average_before": load_before,
        "load_average_after": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    } | result
    (WORK_DIR / "result.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    for key, value in result.items():
        print(f"{key:<28} {value}")


if __name__ == "__main__":
    main()
