"""Redis, with this worker's memory standing in while Redis is unreachable.

A request never fails because of Redis. A call Redis does not answer (refused, timed out,
an error) is answered from a `MemoryStore` of this worker's, and so is every call after
it, without touching Redis, until a background check (every `retry_seconds`) reaches
Redis again. An outage is logged twice: a warning when it begins, an info line when it
ends; `up`, `fallbacks` and `outages` are read by /healthz and /metrics.

What keeps the cache right across the switches:

- each outage starts with an empty memory store, whose counters read negative (-1 for
  a counter never moved), while Redis's are never below 0: a tag version or clock read
  on one side never equals one read on the other, so an answer begun before a switch is
  not stored after it, and no entry is judged by the other side's versions;
- the changes made during an outage moved only memory counters (this worker's and those
  of every other worker that lost Redis), so what Redis held from before may be stale.
  Before Redis is used again the `on_return` counters are moved (the tag versions'
  `EVERYTHING`: every response cached before is dropped) and the memory store is let go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from redis.exceptions import RedisError

from cms.cache.stores import MemoryStore, RedisStore
from cms.events.broker import address

__all__ = ["UNREACHABLE", "FallbackStore"]

log = logging.getLogger(__name__)
# What "Redis did not answer" looks like: redis-py's errors (connection refused or reset,
# timeouts, a server that answers with an error) and the socket's own.
UNREACHABLE = (RedisError, OSError)


class FallbackStore:
    def __init__(
        self,
        redis: RedisStore,
        *,
        max_bytes: int,
        retry_seconds: float,
        on_return: Sequence[str] = (),
    ) -> None:
        self.redis = redis
        self.where = address(redis.url)
        self.max_bytes = max_bytes
        self.retry_seconds = retry_seconds
        self.on_return = list(on_return)
        self.up = True  # until a call says otherwise
        self.fallbacks = 0  # calls answered from memory
        self.outages = 0
        self._memory = MemoryStore(max_bytes=max_bytes)  # replaced, empty, by each outage
        self._down_since = 0.0
        self._checker: asyncio.Task[None] | None = None

    # --- the Store protocol -------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        if self.up:
            try:
                return await self.redis.get(key)
            except UNREACHABLE:
                self._lost()
        return await self._standby().get(key)

    async def set(self, key: str, value: bytes, *, ttl: int | None = None) -> None:
        if self.up:
            try:
                return await self.redis.set(key, value, ttl=ttl)
            except UNREACHABLE:
                self._lost()
        await self._standby().set(key, value, ttl=ttl)

    async def incr(self, key: str) -> int:
        if self.up:
            try:
                return await self.redis.incr(key)
            except UNREACHABLE:
                self._lost()
        return -1 - await self._standby().incr(key)

    async def read_int(self, key: str) -> int:
        if self.up:
            try:
                return await self.redis.read_int(key)
            except UNREACHABLE:
                self._lost()
        return -1 - await self._standby().read_int(key)

    async def incr_many(self, keys: Sequence[str]) -> None:
        if self.up:
            try:
                return await self.redis.incr_many(keys)
            except UNREACHABLE:
                self._lost()
        await self._standby().incr_many(keys)

    async def read_ints(self, keys: Sequence[str]) -> list[int]:
        if self.up:
            try:
                return await self.redis.read_ints(keys)
            except UNREACHABLE:
                self._lost()
        return [-1 - value for value in await self._standby().read_ints(keys)]

    async def close(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        with contextlib.suppress(*UNREACHABLE):
            await self.redis.close()

    # --- outages ------------------------------------------------------------------------

    async def check(self) -> bool:
        """Whether Redis answers now (one PING while it is thought up; while it is down
        the background check decides, and this costs nothing)."""
        if not self.up:
            return False
        try:
            await self.redis.redis.ping()
        except UNREACHABLE:
            self._lost()
            return False
        return True

    def _standby(self) -> MemoryStore:
        self.fallbacks += 1
        return self._memory

    def _lost(self) -> None:
        if not self.up:
            return
        self.up = False
        self.outages += 1
        self._down_since = time.monotonic()
        self._memory = MemoryStore(max_bytes=self.max_bytes)
        log.warning(
            "Redis at %s is unreachable: the response cache and persisted queries use this "
            "worker's memory until it answers (checked every %g s)",
            self.where,
            self.retry_seconds,
        )
        # The last check (if any) ended when Redis came back: a new one is due.
        self._checker = asyncio.create_task(self._wait_for_redis(), name="newsdesk-redis-check")

    async def _wait_for_redis(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await self.redis.redis.ping()
                # Before any entry is read from Redis again: what it holds from before
                # the outage may be stale.
                await self.redis.incr_many(self.on_return)
            except UNREACHABLE:
                continue
            self.up = True
            self._memory = MemoryStore(max_bytes=self.max_bytes)  # the outage's is let go
            log.info(
                "Redis at %s answers again after %.0f s: the response cache and persisted "
                "queries use it again",
                self.where,
                time.monotonic() - self._down_since,
            )
            return
