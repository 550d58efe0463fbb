"""The byte stores (cms.cache.stores): the same contract in process and in Redis, the
memory store's byte budget with least-recently-used eviction, and Redis expiry, prefixes
and counters shared by every worker (real Redis, needs CMS_TEST_REDIS_URL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from cms.cache.stores import MemoryStore, RedisStore, Store


def _prefix() -> str:
    """A prefix of a test's own, so that concurrent runs never share a key."""
    return f"newsdesk-test:{uuid.uuid4().hex}:"


async def _forget(redis: Redis, prefix: str) -> None:
    async for key in redis.scan_iter(match=f"{prefix}*"):
        await redis.delete(key)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client, to look at Redis from outside the stores."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def new_prefix(redis: Redis) -> AsyncIterator[Callable[[], str]]:
    """Makes prefixes for the test; their keys are deleted afterwards."""
    made: list[str] = []

    def new() -> str:
        made.append(_prefix())
        return made[-1]

    yield new
    for prefix in made:
        await _forget(redis, prefix)


@pytest.fixture(params=[pytest.param("memory"), pytest.param("redis", marks=pytest.mark.redis)])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for the memory store; the Redis URL (or a skip) for the Redis store."""
    return None if request.param == "memory" else str(request.getfixturevalue("redis_url"))


@pytest.fixture
async def store(store_url: str | None) -> AsyncIterator[Store]:
    if store_url is None:
        memory = MemoryStore(max_bytes=1024)
        yield memory
        await memory.close()
        return
    prefix = _prefix()
    shared = RedisStore(store_url, prefix=prefix)
    yield shared
    await shared.close()
    client = Redis.from_url(store_url)
    await _forget(client, prefix)
    await client.aclose()


# --- the contract both stores keep ------------------------------------------------------


async def test_get_gives_what_set_stored_and_none_for_unknown_keys(store: Store) -> None:
    assert await store.get("response:1") is None

    await store.set("response:1", b'"etag"{"data":1}')
    await store.set("response:2", b"second")

    assert await store.get("response:1") == b'"etag"{"data":1}'
    assert await store.get("response:2") == b"second"
    assert await store.get("response:3") is None


async def test_set_replaces_a_value(store: Store) -> None:
    await store.set("persisted:abc", b"query { a }")

    await store.set("persisted:abc", b"query { b }", ttl=60)

    assert await store.get("persisted:abc") == b"query { b }"


async def test_counters_start_at_zero_and_count_up(store: Store) -> None:
    assert await store.read_int("generation:writes") == 0

    counts = [await store.incr("generation:writes") for _ in range(3)]

    assert counts == [1, 2, 3]
    assert await store.read_int("generation:writes") == 3
    assert await store.read_int("generation:other") == 0


async def test_many_counters_move_and_read_in_one_call(store: Store) -> None:
    assert await store.read_ints([]) == []
    await store.incr_many([])

    await store.incr_many(["tag:feed", "tag:item:1"])
    await store.incr_many(["tag:feed"])

    assert await store.read_ints(["tag:feed", "tag:item:1", "tag:search"]) == [2, 1, 0]


# --- MemoryStore: a byte budget, least recently used out first ------------------------


async def test_memory_store_evicts_the_least_recently_used_past_its_budget() -> None:
    store = MemoryStore(max_bytes=10)
    await store.set("a", b"aaaa")
    await store.set("b", b"bbbb")
    assert await store.get("a") == b"aaaa"  # a is now the more recently used

    await store.set("c", b"cccc")

    assert (await store.get("a"), await store.get("b"), await store.get("c")) == (
        b"aaaa",
        None,
        b"cccc",
    )
    assert (len(store), store.size) == (2, 8)


async def test_memory_store_counts_the_bytes_of_a_replaced_value_once() -> None:
    store = MemoryStore(max_bytes=10)
    await store.set("a", b"aaaa")
    await store.set("b", b"bb")

    await store.set("a", b"aaaaaaaa")  # 8 + 2 = 10: still within the budget

    assert (len(store), store.size) == (2, 10)
    await store.set("a", b"a")
    assert (await store.get("b"), store.size) == (b"bb", 3)


async def test_memory_store_keeps_no_value_larger_than_its_budget() -> None:
    store = MemoryStore(max_bytes=10)
    await store.set("small", b"12345")

    await store.set("huge", b"x" * 11)

    assert await store.get("huge") is None
    assert (await store.get("small"), len(store), store.size) == (b"12345", 1, 5)


async def test_memory_store_close_drops_every_entry() -> None:
    store = MemoryStore(max_bytes=100)
    await store.set("a", b"aaaa")

    await store.close()

    assert (await store.get("a"), len(store), store.size) == (None, 0, 0)


# --- RedisStore: expiry, prefixes, shared counters --------------------------------------


@pytest.mark.redis
async def test_redis_store_keeps_values_under_its_prefix_until_they_expire(
    redis_url: str, redis: Redis, new_prefix: Callable[[], str]
) -> None:
    prefix = new_prefix()
    store = RedisStore(redis_url, prefix=prefix, default_ttl=3600)
    try:
        await store.set("default", b"one")
        await store.set("short", b"two", ttl=60)
    finally:
        await store.close()

    assert await redis.get(f"{prefix}default") == b"one"
    assert 3500 < await redis.ttl(f"{prefix}default") <= 3600
    assert 0 < await redis.ttl(f"{prefix}short") <= 60


@pytest.mark.redis
async def test_redis_stores_with_other_prefixes_do_not_see_each_others_keys(
    redis_url: str, new_prefix: Callable[[], str]
) -> None:
    mine = RedisStore(redis_url, prefix=new_prefix())
    theirs = RedisStore(redis_url, prefix=new_prefix())
    try:
        await mine.set("response:1", b"mine")
        await mine.incr("generation:writes")

        assert await theirs.get("response:1") is None
        assert await theirs.read_int("generation:writes") == 0
    finally:
        await mine.close()
        await theirs.close()


@pytest.mark.redis
async def test_workers_sharing_a_prefix_share_values_and_counters(
    redis_url: str, new_prefix: Callable[[], str]
) -> None:
    prefix = new_prefix()
    first, second = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    try:
        await first.set("persisted:abc", b"query { feed { edges { cursor } } }")
        await first.incr("generation:writes")
        await second.incr("generation:writes")

        assert await second.get("persisted:abc") == b"query { feed { edges { cursor } } }"
        assert await first.read_int("generation:writes") == 2
    finally:
        await first.close()
        await second.close()
