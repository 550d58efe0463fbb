"""The store in front of Redis (cms.cache.fallback): while Redis is unreachable every call
is answered from the worker's memory, the outage is logged once, and Redis is used again
when it answers, what it cached before the outage no longer being served. Against a
redis-server of the test's own, stopped and paused (never the machine's Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from cms.cache.fallback import FallbackStore
from cms.cache.stores import RedisStore
from cms.cache.versions import EVERYTHING, TagVersions
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]

RETRY_SECONDS = 0.1
PATIENCE = 10.0  # seconds: how long a test waits for what must happen


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(int(PATIENCE / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[FallbackStore]:
    fallback = FallbackStore(
        RedisStore(redis_server.url, timeout=0.5),
        max_bytes=10_000,
        retry_seconds=RETRY_SECONDS,
        on_return=TagVersions.keys([EVERYTHING]),
    )
    yield fallback
    await fallback.close()


async def _back(store: FallbackStore) -> bool:
    return store.up


async def test_calls_go_to_memory_while_redis_is_down_and_to_redis_once_it_is_back(
    store: FallbackStore, redis_server: RedisServer
) -> None:
    await store.set("apq:before", b"query { a }")
    assert redis_server.keys("newsdesk:apq:*") == ["newsdesk:apq:before"]

    redis_server.stop()
    missing = await store.get("apq:before")
    await store.set("apq:during", b"query { b }")
    kept = await store.get("apq:during")
    counters = [await store.read_int("tags:clock"), await store.incr("tags:clock")]
    await store.incr_many(["tag:feed"])
    versions = await store.read_ints(["tags:clock", "tag:feed", "tag:search"])

    assert (missing, kept) == (None, b"query { b }")
    assert counters == [-1, -2]  # memory counters read below 0, where Redis's never go
    assert versions == [-2, -2, -1]
    assert (store.up, store.outages, store.fallbacks) == (False, 1, 7)

    redis_server.start()  # the same port, empty
    await eventually(lambda: _back(store))
    await store.set("apq:after", b"query { c }")

    assert await store.get("apq:during") is None  # the outage's memory is let go
    assert redis_server.keys("newsdesk:apq:*") == ["newsdesk:apq:after"]
    assert await store.read_int("tag:feed") == 0
    assert (store.up, store.outages, store.fallbacks) == (True, 1, 7)


async def test_an_outage_is_logged_once_when_it_begins_and_once_when_it_ends(
    store: FallbackStore, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cms.cache.fallback")
    redis_server.stop()

    for _ in range(20):
        await store.get("response:1")
        await store.set("response:1", b"body")
    await asyncio.sleep(3 * RETRY_SECONDS)  # checks that find Redis still down log nothing
    redis_server.start()
    await eventually(lambda: _back(store))

    lines = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0][0] == "WARNING"
    assert f"Redis at 127.0.0.1:{redis_server.port}/0 is unreachable" in lines[0][1]
    assert lines[1][0] == "INFO"
    assert "answers again" in lines[1][1]


async def test_an_unanswering_redis_is_left_after_its_timeout_and_stale_entries_stay_unserved(
    store: FallbackStore, redis_server: RedisServer
) -> None:
    """A Redis that stops answering but keeps its data (paused, as in a network split):
    an entry it cached before the outage is not served after it, since the change made
    meanwhile moved only this worker's memory."""
    versions = TagVersions(store)
    _, cached_with = await versions.read([EVERYTHING, "feed"])

    redis_server.pause()
    await versions.bump(["feed"])  # a change during the outage: one timeout, then memory
    assert not store.up
    redis_server.resume()
    await eventually(lambda: _back(store))

    _, now = await versions.read([EVERYTHING, "feed"])
    assert cached_with == [0, 0]
    # EVERYTHING moved when Redis came back: the entry is stale. (The bump that timed out
    # may or may not have reached Redis when it woke: "feed" is not to be relied on.)
    assert now[0] == 1


async def test_a_store_whose_redis_never_answered_starts_and_serves_from_memory(
    redis_server: RedisServer,
) -> None:
    redis_server.stop()
    store = FallbackStore(
        RedisStore(redis_server.url, timeout=0.5), max_bytes=100, retry_seconds=RETRY_SECONDS
    )
    try:
        healthy = await store.check()
        await store.set("response:1", b"body")

        assert (healthy, store.up, await store.get("response:1")) == (False, False, b"body")
    finally:
        await store.close()


async def _set(store: FallbackStore) -> object:
    return await store.set("response:1", b"body")


async def _incr(store: FallbackStore) -> object:
    return await store.incr("tags:clock")


async def _read_int(store: FallbackStore) -> object:
    return await store.read_int("tags:clock")


async def _read_ints(store: FallbackStore) -> object:
    return await store.read_ints(["tags:clock", "tag:feed"])


@pytest.mark.parametrize(
    ("call", "answer"),
    [(_set, None), (_incr, -2), (_read_int, -1), (_read_ints, [-1, -1])],
    ids=["set", "incr", "read_int", "read_ints"],
)
async def test_whichever_call_first_finds_redis_gone_is_answered_from_memory(
    store: FallbackStore,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    call: Callable[[FallbackStore], Awaitable[object]],
    answer: object,
) -> None:
    caplog.set_level(logging.WARNING, logger="cms.cache.fallback")
    redis_server.stop()

    result = await call(store)

    assert result == answer  # memory counters read below 0
    assert (store.up, store.outages, store.fallbacks) == (False, 1, 1)
    assert ["WARNING"] == [record.levelname for record in caplog.records]


async def test_calls_in_flight_when_redis_stops_answering_make_one_outage(
    store: FallbackStore, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cms.cache.fallback")
    await store.set("response:1", b"body")
    redis_server.pause()

    answers = await asyncio.gather(store.get("response:1"), store.get("response:2"))

    assert answers == [None, None]  # each timed out, then asked this worker's memory
    assert (store.up, store.outages, store.fallbacks) == (False, 1, 2)
    assert len(caplog.records) == 1
    redis_server.resume()
    await eventually(lambda: _back(store))
    assert await store.get("response:1") == b"body"


async def test_a_second_outage_is_noticed_checked_and_ended_like_the_first(
    store: FallbackStore, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cms.cache.fallback")
    for _ in range(2):
        redis_server.stop()
        await store.set("apq:during", b"query { a }")
        assert await store.get("apq:during") == b"query { a }"
        redis_server.start()
        await eventually(lambda: _back(store))
        assert await store.get("apq:during") is None  # that outage's memory is let go

    assert (store.up, store.outages, store.fallbacks) == (True, 2, 4)
    levels = [record.levelname for record in caplog.records]
    assert levels == ["WARNING", "INFO", "WARNING", "INFO"]
