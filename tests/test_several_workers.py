"""Two `cms serve` processes on one PostgreSQL and one Redis, each with its dispatcher, as
docker-compose runs app replicas: a subscriber on one hears what is published through the
other, a webhook gets one delivery per event across both dispatchers, the response cache is
shared, and a worker killed with SIGKILL while it delivers loses nothing (the other takes
over its claims once CMS_DISPATCH_LEASE_SECONDS has passed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from redis.asyncio import Redis
from standardwebhooks.webhooks import Webhook as StandardWebhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection

from tests import serving
from tests.conftest import POSTGRES_URL, REDIS_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL),
        reason="several workers need CMS_TEST_DATABASE_URL and CMS_TEST_REDIS_URL",
    ),
]

CREATE = "mutation($t: String!) { createArticle(input: {title: $t}) { ... on Article { id } } }"
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename ... on Article { id status } } }"
CREATE_WEBHOOK = """
mutation($url: String!) {
  createWebhook(url: $url, events: [CONTENT_PUBLISHED]) { ... on Webhook { id secret } }
}
"""
DELETE_WEBHOOK = "mutation($id: ID!) { deleteWebhook(id: $id) { __typename } }"
FEED = "{ feed(first: 5) { edges { node { id title } } } }"
HITS = re.compile(r'^newsdesk_response_cache_total\{result="hit"\} (\S+)$', re.MULTILINE)
WEBHOOK_TIMEOUT_SECONDS = 5  # generous for a receiver that answers at once, under load
LEASE_SECONDS = 2


# --- a real webhook receiver on 127.0.0.1 ----------------------------------------------


@dataclass
class Receipt:
    message_id: str
    content_id: str
    peer_port: int
    verified: bool


@dataclass
class Receiver:
    """Starlette under uvicorn in a thread. Records every delivery on arrival; while
    `stalled` it holds the answer (a delivery in flight), then answers 200."""

    url: str = ""
    secret: str = ""
    stalled: bool = False
    receipts: list[Receipt] = field(default_factory=list)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            payload = StandardWebhook(self.secret).verify(body, request.headers)
            verified = True
        except Exception:
            payload, verified = json.loads(body), False
        self.receipts.append(
            Receipt(
                message_id=request.headers.get("webhook-id", ""),
                content_id=payload["data"]["content"]["id"],
                peer_port=request.client.port if request.client else 0,
                verified=verified,
            )
        )
        deadline = time.monotonic() + 120
        while self.stalled and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return Response(status_code=200)

    def content_ids(self) -> set[str]:
        return {receipt.content_id for receipt in self.receipts}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    app = Starlette(routes=[Route("/hooks", found.receive, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", ws="none", log_level="error",
        timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    found.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hooks"
    yield found
    found.stalled = False
    server.should_exit = True
    thread.join(timeout=10)


# --- two workers on one PostgreSQL and one Redis ----------------------------------------


@dataclass
class Pair:
    a: serving.Served
    b: serving.Served
    admin: str
    database_url: str


async def _reset(database_url: str, redis_url: str) -> None:
    """Empty every table the migrations made (the schema stays) and the Redis database."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@contextlib.contextmanager
def _two_workers(request: pytest.FixtureRequest, workdir: Path) -> Iterator[Pair]:
    database_url: str = request.getfixturevalue("postgres_migrated")
    assert REDIS_URL
    asyncio.run(_reset(database_url, REDIS_URL))
    env = serving.base_env(
        CMS_DATABASE_URL=database_url,
        CMS_REDIS_URL=REDIS_URL,
        CMS_MEDIA_DIR=str(workdir / "media"),
        CMS_AUTO_MIGRATE="false",
        CMS_DISPATCH_LEASE_SECONDS=str(LEASE_SECONDS),
        CMS_WEBHOOK_TIMEOUT_SECONDS=str(WEBHOOK_TIMEOUT_SECONDS),
        CMS_WEBHOOK_RETRY_SCHEDULE="1,1,1,1,1,1,1,1,1,1",
        # Changes reach a worker through the tag versions both share in Redis, never
        # through its own periodic look at the outbox.
        CMS_CACHE_GENERATION_SECONDS="3600",
    )
    admin = serving.token(env, workdir, "admin", "admin")
    with serving.served(env, workdir, ["a", "b"]) as [a, b]:
        yield Pair(a=a, b=b, admin=admin, database_url=database_url)


@pytest.fixture(scope="module")
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Two workers shared by the tests that leave both running."""
    with _two_workers(request, tmp_path_factory.mktemp("workers")) as workers:
        yield workers


@pytest.fixture
def doomed_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    """Two workers of the test's own, one of which it kills."""
    with _two_workers(request, tmp_path) as workers:
        yield workers


async def _post(server: serving.Served, query: str, token: str, **variables: Any) -> Any:
    return (await asyncio.to_thread(server.post, query, token, **variables))["data"]


async def _publish(server: serving.Served, token: str, title: str) -> str:
    created = await _post(server, CREATE, token, t=title)
    published = await _post(server, PUBLISH, token, id=created["createArticle"]["id"])
    assert published["publish"]["status"] == "PUBLISHED", published
    item_id: str = published["publish"]["id"]
    return item_id


async def _wait(condition: Any, *, seconds: float, what: str) -> None:
    """Wait for `condition()` (sync or async) without holding the event loop."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.1)


@dataclass
class Heard:
    """Every feed event a subscriber's socket delivered: (type, contentId)."""

    events: list[tuple[str, str]] = field(default_factory=list)

    def published(self) -> set[str]:
        return {content for kind, content in self.events if kind == "CONTENT_PUBLISHED"}


@pytest.fixture
async def listen() -> AsyncIterator[Any]:
    sockets: list[tuple[ClientConnection, asyncio.Task[None]]] = []

    async def start(server: serving.Served) -> Heard:
        heard = Heard()
        ws = await serving.subscribe(server)

        async def read() -> None:
            async for raw in ws:
                message = json.loads(raw)
                assert message["type"] == "next", message
                event = message["payload"]["data"]["feedEvents"]
                heard.events.append((event["type"], event["contentId"]))

        sockets.append((ws, asyncio.create_task(read())))
        return heard

    yield start
    for ws, task in sockets:
        await ws.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _heard_through(
    subscriber: Heard, publisher: serving.Served, token: str, title: str
) -> str:
    """Publish through `publisher` until `subscriber` hears one of them (its subscription
    may take a moment to reach the broker); the item it heard."""
    published: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        published.append(await _publish(publisher, token, f"{title} {len(published)}"))
        for _ in range(20):
            heard = subscriber.published() & set(published)
            if heard:
                return heard.pop()
            await asyncio.sleep(0.1)
    pytest.fail(f"the subscriber heard none of {published}: {subscriber.events}")


async def _outbox_settled(database_url: str) -> bool:
    """Every event dispatched and every webhook delivery delivered."""
    conn = await asyncpg.connect(database_url)
    try:
        undispatched = await conn.fetchval(
            "SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL"
        )
        pending = await conn.fetchval(
            "SELECT count(*) FROM webhook_delivery WHERE status <> 'delivered'"
        )
    finally:
        await conn.close()
    return bool(undispatched == 0 and pending == 0)


async def _deliveries(database_url: str, *, webhook_url: str) -> list[asyncpg.Record]:
    """The deliveries recorded for the webhook at `webhook_url`, with their item's ID."""
    conn = await asyncpg.connect(database_url)
    try:
        return list(
            await conn.fetch(
                "SELECT d.message_id, d.attempts, d.body::jsonb #>> '{data,content,id}' "
                "AS content FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id "
                "WHERE w.url = $1",
                webhook_url,
            )
        )
    finally:
        await conn.close()


def _hits(server: serving.Served) -> float:
    found = HITS.search(server.get("/metrics").text)
    return float(found.group(1)) if found else 0.0


# --- the tests ---------------------------------------------------------------------------


async def test_a_subscriber_on_one_worker_hears_a_publish_through_the_other(
    pair: Pair, listen: Any
) -> None:
    on_a = await listen(pair.a)
    on_b = await listen(pair.b)

    heard_on_a = await _heard_through(on_a, pair.b, pair.admin, "Through B")
    heard_on_b = await _heard_through(on_b, pair.a, pair.admin, "Through A")

    assert heard_on_a != heard_on_b  # each heard an item published through the other


async def test_a_webhook_gets_one_delivery_per_event_across_both_dispatchers(
    pair: Pair, receiver: Receiver
) -> None:
    created = await _post(pair.a, CREATE_WEBHOOK, pair.admin, url=receiver.url)
    receiver.secret = created["createWebhook"]["secret"]

    async def publish_through(server: serving.Served, name: str) -> list[str]:
        return [await _publish(server, pair.admin, f"{name} {n}") for n in range(10)]

    through_a, through_b = await asyncio.gather(
        publish_through(pair.a, "A"), publish_through(pair.b, "B")
    )
    items = set(through_a) | set(through_b)
    assert len(items) == 20
    await _wait(lambda: receiver.content_ids() >= items, seconds=45, what="every item's delivery")
    await _wait(lambda: _outbox_settled(pair.database_url), seconds=30, what="outbox settled")

    rows = await _deliveries(pair.database_url, webhook_url=receiver.url)
    # (Later tests on these workers publish too: their deliveries would find no receiver.)
    await _post(pair.a, DELETE_WEBHOOK, pair.admin, id=created["createWebhook"]["id"])

    assert all(receipt.verified for receipt in receiver.receipts)
    assert sorted(row["content"] for row in rows) == sorted(items), rows  # one per event
    assert {row["attempts"] for row in rows} == {1}, rows
    assert sorted(r.message_id for r in receiver.receipts) == sorted(r["message_id"] for r in rows)
    assert sorted(r.content_id for r in receiver.receipts) == sorted(items)


async def test_the_response_cache_is_shared(pair: Pair) -> None:
    first = await _publish(pair.b, pair.admin, "First")
    # The dispatcher invalidates each event's tags again when it dispatches it: let it
    # finish, so what A caches next stays valid until the next write.
    await _wait(lambda: _outbox_settled(pair.database_url), seconds=30, what="outbox settled")
    params = {"query": FEED}
    hits_on_b = _hits(pair.b)

    on_a = pair.a.get("/graphql", params=params)  # a miss, filled by A
    on_b = pair.b.get("/graphql", params=params)  # the same response, from the shared store

    assert on_a.status_code == on_b.status_code == 200
    assert on_a.json()["data"]["feed"]["edges"][0]["node"]["id"] == first
    assert on_b.content == on_a.content and on_b.headers["etag"] == on_a.headers["etag"]
    assert _hits(pair.b) == hits_on_b + 1

    second = await _publish(pair.b, pair.admin, "Second")  # a write on B ...
    fresh = pair.a.get("/graphql", params=params)  # ... is seen by A at once

    assert [edge["node"]["id"] for edge in fresh.json()["data"]["feed"]["edges"][:2]] == [
        second,
        first,
    ]


# --- a worker killed mid-delivery --------------------------------------------------------


def _socket_owner(client_port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the TCP socket bound to local port `client_port` (Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == client_port and fields[9] != "0":
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


async def test_a_worker_killed_mid_delivery_loses_no_event(
    doomed_pair: Pair, receiver: Receiver, listen: Any
) -> None:
    pair = doomed_pair
    victim, survivor = pair.a, pair.b
    created = await _post(survivor, CREATE_WEBHOOK, pair.admin, url=receiver.url)
    receiver.secret = created["createWebhook"]["secret"]
    heard = await listen(survivor)
    items = {await _heard_through(heard, victim, pair.admin, "Warm-up")}
    await _wait(lambda: _outbox_settled(pair.database_url), seconds=30, what="warm-up settled")
    items |= heard.published()

    # The receiver holds its answers: deliveries stay in flight, claimed by their worker.
    receiver.stalled = True
    # Only what arrives from now on is held (connections are kept between deliveries, so
    # an earlier receipt's port may still belong to the victim).
    start = len(receiver.receipts)
    held: Receipt | None = None
    pids = [victim.process.pid, survivor.process.pid]
    for n in range(12):
        server = (victim, survivor)[n % 2]
        items.add(await _publish(server, pair.admin, f"Stalled {n}"))
        for _ in range(30):
            owned = [
                r for r in receiver.receipts[start:] if _socket_owner(r.peer_port, pids) == pids[0]
            ]
            if owned:
                held = owned[0]
                break
            await asyncio.sleep(0.1)
        if held is not None:
            break
    assert held is not None, "the victim never had a delivery in flight"
    for n in range(3):  # and events recorded through it after that
        items.add(await _publish(victim, pair.admin, f"Late {n}"))

    os.killpg(victim.process.pid, signal.SIGKILL)
    victim.process.wait(timeout=10)
    receiver.stalled = False

    await _wait(lambda: _outbox_settled(pair.database_url), seconds=50, what="outbox settled")
    await _wait(lambda: heard.published() >= items, seconds=10, what="every item heard")
    assert receiver.content_ids() >= items
    again = [r for r in receiver.receipts if r.message_id == held.message_id]
    assert len(again) >= 2, "the survivor sent the delivery the victim held again"
    assert survivor.ready()
