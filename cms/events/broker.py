"""The broker: content events to this process's subscribers; through Redis pub/sub to
every worker's when CMS_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

__all__ = ["Broker", "FeedMessage", "InMemoryBroker", "RedisBroker", "address", "make_broker"]

log = logging.getLogger(__name__)
# Events waiting for one subscriber (with cms.http.fanout, one stream of a subscription
# shape); past it the oldest is dropped, so one slow subscriber holds no one up.
QUEUE_SIZE = 64
CHANNEL = "newsdesk:feed-events"
# The longest a worker's start waits for the broker's first subscription attempt.
START_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """What subscribers are told. `public` says whether anonymous readers may hear of it."""

    type: str
    content_id: int
    at: str
    kind: str
    section: str | None
    public: bool

    def encode(self) -> bytes:
        return orjson.dumps(
            {"type": self.type, "content_id": self.content_id, "at": self.at, "kind": self.kind,
             "section": self.section, "public": self.public}
        )  # fmt: skip

    @classmethod
    def decode(cls, raw: bytes) -> FeedMessage:
        data: dict[str, Any] = orjson.loads(raw)
        return cls(**data)


class Broker(Protocol):
    async def publish(self, message: FeedMessage) -> None: ...

    async def publish_many(self, messages: Sequence[FeedMessage]) -> None: ...

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[FeedMessage]]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class InMemoryBroker:
    """Fan-out to this process's subscribers. A slow subscriber loses its oldest events
    rather than holding everyone up."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[FeedMessage]] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._queues.clear()

    async def publish(self, message: FeedMessage) -> None:
        self.deliver_locally(message)

    async def publish_many(self, messages: Sequence[FeedMessage]) -> None:
        """Publish `messages` in their order (the dispatcher's batch, in outbox order)."""
        for message in messages:
            await self.publish(message)

    def deliver_locally(self, message: FeedMessage) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[FeedMessage]]:
        queue: asyncio.Queue[FeedMessage] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues.add(queue)

        async def messages() -> AsyncIterator[FeedMessage]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)


class RedisBroker(InMemoryBroker):
    """Publishes to a Redis channel; one listener per process relays every message (its
    own included) to the local subscribers.

    Redis going away costs nothing here: the listener subscribes in the background (at
    start, and again every `retry_seconds` after losing its subscription), and while it
    is not subscribed a message is delivered to this process's subscribers directly (other
    workers' subscribers miss it: they have no Redis to hear it through). The outage is
    logged once when it begins and once when it ends."""

    def __init__(self, url: str, *, timeout: float = 0.5, retry_seconds: float = 1.0) -> None:
        super().__init__()
        # No socket timeout for reads: the subscription waits for messages indefinitely
        # (redis-py's pub/sub reads block whatever it is); connecting and publishing are
        # bounded by `timeout`.
        self.redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.where = address(url)
        self.retry_seconds = retry_seconds
        self.connected = False  # subscribed: messages published through Redis reach us
        self.fallbacks = 0  # messages delivered here directly, Redis being unreachable
        self.outages = 0
        # Pub/sub ignores the database index that keeps two newsrooms' keys apart on one
        # Redis server; the channel carries it, so they do not hear each other's events.
        database = self.redis.connection_pool.connection_kwargs.get("db", 0)
        self.channel = f"{CHANNEL}:{database}"
        self._listener: asyncio.Task[None] | None = None
        self._tried = asyncio.Event()  # the first subscription attempt is over

    async def start(self) -> None:
        """Subscribe in the background; wait for the first attempt only (when Redis is
        down the app starts anyway, and the listener keeps trying)."""
        self._listener = asyncio.create_task(self._listen(), name="newsdesk-redis-broker")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tried.wait(), timeout=START_SECONDS)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()
        await super().close()

    async def publish(self, message: FeedMessage) -> None:
        if self.connected:
            try:
                await self.redis.publish(self.channel, message.encode())
                return
            except (RedisError, OSError):
                pass  # whether Redis is gone is the listener's to find out (and to say)
        self.fallbacks += 1
        self.deliver_locally(message)

    async def publish_many(self, messages: Sequence[FeedMessage]) -> None:
        """Publish `messages` in one round trip (a pipeline, not a transaction: Redis runs
        its commands in order, so every worker's subscribers hear them in that order).
        When Redis fails midway the whole batch goes to this worker's subscribers directly,
        some of them perhaps twice: at least once, as a single publish is."""
        if not messages:
            return
        if self.connected:
            try:
                async with self.redis.pipeline(transaction=False) as pipeline:
                    for message in messages:
                        pipeline.publish(self.channel, message.encode())
                    await pipeline.execute()
                return
            except (RedisError, OSError):
                pass  # as in `publish`: the listener finds out whether Redis is gone
        self.fallbacks += len(messages)
        for message in messages:
            self.deliver_locally(message)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed()
                    async for raw in pubsub.listen():
                        if raw.get("type") == "message":
                            self.deliver_locally(FeedMessage.decode(raw["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):  # refused, or a dropped connection
                pass
            except Exception:  # anything else: say what, then subscribe again
                log.exception("the Redis broker's listener failed")
            self._lost()
            self._tried.set()
            await asyncio.sleep(self.retry_seconds)

    def _subscribed(self) -> None:
        if self.outages:
            log.info(
                "Redis at %s answers again: feed events go through it to every worker",
                self.where,
            )
        self.connected = True
        self._tried.set()

    def _lost(self) -> None:
        if not self.connected and self.outages:
            return  # this outage is known and logged
        self.connected = False
        self.outages += 1
        log.warning(
            "Redis at %s is unreachable: feed events reach this worker's subscribers only, "
            "until it answers (checked every %g s)",
            self.where,
            self.retry_seconds,
        )


def address(url: str) -> str:
    """host:port/db of a Redis URL, without its password, for log lines."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or '/0'}"


def make_broker(
    redis_url: str | None, *, timeout: float = 0.5, retry_seconds: float = 1.0
) -> Broker:
    if redis_url:
        return RedisBroker(redis_url, timeout=timeout, retry_seconds=retry_seconds)
    return InMemoryBroker()
