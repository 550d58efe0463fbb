"""Byte stores: an in-process LRU bounded by memory, or Redis shared by every worker."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["MemoryStore", "RedisStore", "Store"]


class Store(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl: int | None = None) -> None: ...

    async def incr(self, key: str) -> int: ...

    async def read_int(self, key: str) -> int: ...

    async def incr_many(self, keys: Sequence[str]) -> None:
        """Add one to each counter, in one round trip."""
        ...

    async def read_ints(self, keys: Sequence[str]) -> list[int]:
        """The counters' values (0 for a counter never moved), in one round trip."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """Least recently used entries are evicted once the values pass `max_bytes`.

    No TTLs: callers check what invalidates an entry (its tags' versions) when reading it.
    """

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._counters: dict[str, int] = {}

    async def get(self, key: str) -> bytes | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, *, ttl: int | None = None) -> None:
        if len(value) > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old)
        self._entries[key] = value
        self.size += len(value)
        while self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted)

    async def incr(self, key: str) -> int:
        self._counters[key] = self._counters.get(key, 0) + 1
        return self._counters[key]

    async def read_int(self, key: str) -> int:
        return self._counters.get(key, 0)

    async def incr_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._counters[key] = self._counters.get(key, 0) + 1

    async def read_ints(self, keys: Sequence[str]) -> list[int]:
        return [self._counters.get(key, 0) for key in keys]

    async def close(self) -> None:
        self._entries.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


class RedisStore:
    """Entries in Redis under `prefix`, expiring after `ttl` seconds (Redis evicts too).

    A call fails at once (no retries) and within `timeout` seconds to connect or read:
    `cms.cache.fallback` decides what to do when Redis does not answer."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "newsdesk:",
        default_ttl: int = 3600,
        timeout: float | None = None,
    ) -> None:
        self.url = url
        self.redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.prefix = prefix
        self.default_ttl = default_ttl

    async def get(self, key: str) -> bytes | None:
        value = await self.redis.get(self.prefix + key)
        if value is None:
            return None
        return value if isinstance(value, bytes) else value.encode()

    async def set(self, key: str, value: bytes, *, ttl: int | None = None) -> None:
        await self.redis.set(self.prefix + key, value, ex=ttl or self.default_ttl)

    async def incr(self, key: str) -> int:
        return int(await self.redis.incr(self.prefix + key))

    async def read_int(self, key: str) -> int:
        value = await self.redis.get(self.prefix + key)
        return int(value) if value is not None else 0

    async def incr_many(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(self.prefix + key)
                # Outlives every entry that may have read the counter (entries live
                # `default_ttl`), so a counter gone back to 0 can never match an old entry.
                pipe.expire(self.prefix + key, 2 * self.default_ttl)
            await pipe.execute()

    async def read_ints(self, keys: Sequence[str]) -> list[int]:
        if not keys:
            return []
        values = await self.redis.mget([self.prefix + key for key in keys])
        return [int(value) if value is not None else 0 for value in values]

    async def close(self) -> None:
        await self.redis.aclose()
