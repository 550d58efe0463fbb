"""Token buckets for the rate limits: in this process (bounded), or shared through Redis.

A policy lets `requests` through per `seconds`: a bucket holds up to `requests` tokens
(the burst) and refills at requests/seconds a second; a request takes one token, or is
refused when there is less than one. A bucket left idle until it is full again is the
same as a new one, so memory forgets it; Redis lets it expire.

In Redis one Lua script (EVALSHA) refills and takes atomically, so every worker draws on
the same bucket. The time comes from the caller (`clock`, seconds since the epoch), so
keep the workers' clocks in step (NTP); a clock behind the others refills nothing, never
more.
When Redis fails, requests are let through (fail open) and the failure is logged once,
and Redis is left alone for a second before it is asked again.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["Decision", "MemoryBuckets", "Policy", "RedisBuckets"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Policy:
    """A named limit: `requests` per `seconds`, with a burst of `requests`."""

    __slots__ = ("header", "name", "rate", "requests", "seconds", "_state")

    def __init__(self, name: str, requests: int, seconds: float) -> None:
        self.name = name
        self.requests = requests
        self.seconds = seconds
        self.rate = requests / seconds  # tokens a second
        window = math.ceil(seconds)
        self.header = f'"{name}";q={requests};w={window}'.encode()  # RateLimit-Policy
        self._state = b'"' + name.encode() + b'";r=%d;t=%d'  # RateLimit

    def state(self, level: float) -> bytes:
        """The RateLimit value of a bucket left at `level` tokens: whole requests left
        and the seconds until it is full again."""
        missing = self.requests - level
        reset = math.ceil(missing / self.rate) if missing > 0 else 0
        return self._state % (level, reset)


class Decision(NamedTuple):
    allowed: bool
    policy: Policy
    level: float  # tokens left in the bucket

    @property
    def retry_after(self) -> int:
        """Seconds until a refused client may ask again (0 when it need not wait)."""
        if self.allowed or self.level >= 1:
            return 0
        return max(1, math.ceil((1 - self.level) / self.policy.rate))

    def headers(self) -> list[tuple[bytes, bytes]]:
        """RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers)."""
        policy = self.policy
        return [(b"ratelimit-policy", policy.header), (b"ratelimit", policy.state(self.level))]


class MemoryBuckets:
    """One policy's buckets in this process, least recently used first; at most
    `max_buckets` (the least recently used goes first)."""

    def __init__(self, policy: Policy, *, clock: Clock, max_buckets: int = 100_000) -> None:
        self.policy = policy
        self.clock = clock
        self.max_buckets = max_buckets
        self.refill_seconds = policy.seconds  # from empty to full
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # key -> [level, stamp]

    def __len__(self) -> int:
        return len(self._buckets)

    def level(self, key: str) -> float:
        """Tokens in `key`'s bucket now, nothing taken."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(self.policy.requests)
        return self._refilled(bucket, self.clock())

    def take(self, key: str, *, force: bool = False) -> Decision:
        """Take a token from `key`'s bucket if it has one; with `force`, take what is
        there (a charge after the fact, never below empty)."""
        now = self.clock()
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = [float(self.policy.requests), now]
            self._evict(now)
        else:
            buckets.move_to_end(key)
            bucket[0] = self._refilled(bucket, now)
            bucket[1] = now
        allowed = bucket[0] >= 1
        if allowed or force:
            bucket[0] = max(0.0, bucket[0] - 1)
        return Decision(allowed, self.policy, bucket[0])

    def _refilled(self, bucket: list[float], now: float) -> float:
        elapsed = max(0.0, now - bucket[1])
        return min(float(self.policy.requests), bucket[0] + elapsed * self.policy.rate)

    def _evict(self, now: float) -> None:
        """Forget buckets idle long enough to be full again (two a call: amortised,
        the idle ones leave as fast as new ones come), then any past `max_buckets`."""
        buckets = self._buckets
        for _ in range(2):
            oldest = next(iter(buckets.values()))
            if now - oldest[1] < self.refill_seconds:
                break
            buckets.popitem(last=False)
        while len(buckets) > self.max_buckets:
            buckets.popitem(last=False)


# KEYS[1]: the bucket to take from; KEYS[2], when given: a bucket that must not be empty
# (looked at, never taken from). ARGV: now, rate, burst, force (1: take even the last
# fraction), then the rate and burst of KEYS[2]. Returns {allowed, level, which key decided}.
# Levels go back as strings: Redis would truncate a Lua number to an integer.
_SCRIPT = """
local now = tonumber(ARGV[1])
local function level(key, rate, burst)
  local state = redis.call('HMGET', key, 'l', 's')
  local l = tonumber(state[1])
  if l == nil then return burst end
  return math.min(burst, l + math.max(0, now - tonumber(state[2])) * rate)
end
if KEYS[2] then
  local guard = level(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]))
  if guard < 1 then return {0, tostring(guard), 2} end
end
local rate, burst = tonumber(ARGV[2]), tonumber(ARGV[3])
local l = level(KEYS[1], rate, burst)
local allowed = 0
if l >= 1 then allowed = 1 end
if allowed == 1 or ARGV[4] == '1' then
  l = math.max(0, l - 1)
  redis.call('HSET', KEYS[1], 'l', tostring(l), 's', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
end
return {allowed, tostring(l), 1}
"""


class RedisBuckets:
    """Buckets in Redis under `prefix`, shared by every worker that uses the same Redis."""

    RETRY_SECONDS = 1.0  # after a failure, requests pass without asking Redis this long

    def __init__(self, url: str, *, clock: Clock, prefix: str = "newsdesk:ratelimit:") -> None:
        # Short timeouts: a Redis that hangs must not hold every request up with it.
        self.redis: Redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.script = self.redis.register_script(_SCRIPT)
        self.clock = clock
        self.prefix = prefix
        self._down_until = 0.0
        self._failing = False

    async def take(
        self,
        policy: Policy,
        key: str,
        *,
        guard: tuple[Policy, str] | None = None,
        force: bool = False,
    ) -> Decision | None:
        """Take a token from `key`'s bucket of `policy`, unless `guard`'s bucket (looked
        at, not taken from) is empty; None when Redis failed (the request passes)."""
        now = self.clock()
        if now < self._down_until:
            return None
        keys = [f"{self.prefix}{policy.name}:{key}"]
        args: list[str | float] = [repr(now), repr(policy.rate), policy.requests, int(force)]
        if guard is not None:
            keys.append(f"{self.prefix}{guard[0].name}:{guard[1]}")
            args += [repr(guard[0].rate), guard[0].requests]
        try:
            allowed, level, which = await self.script(keys=keys, args=args)
        except (RedisError, OSError) as error:
            self._down_until = now + self.RETRY_SECONDS
            if not self._failing:
                self._failing = True
                log.warning("rate limits: Redis failed (%s); requests pass unlimited", error)
            return None
        if self._failing:
            self._failing = False
            log.warning("rate limits: Redis answers again; requests are limited again")
        decided_by = guard[0] if which == 2 and guard is not None else policy
        return Decision(bool(allowed), decided_by, float(level))

    async def close(self) -> None:
        await self.redis.aclose()
