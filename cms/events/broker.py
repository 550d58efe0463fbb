"""The broker: content events to this process's subscribers; through Redis pub/sub to
every worker's when CMS_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

__all__ = ["Broker", "FeedMessage", "InMemoryBroker", "RedisBroker", "make_broker"]

log = logging.getLogger(__name__)
# Events waiting for one subscriber (with cms.http.fanout, one stream of a subscription
# shape); past it the oldest is dropped, so one slow subscriber holds no one up.
QUEUE_SIZE = 64
CHANNEL = "newsdesk:feed-events"


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
    own included) to the local subscribers."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.redis: Redis = Redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="newsdesk-redis-broker")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()
        await super().close()

    async def publish(self, message: FeedMessage) -> None:
        await self.redis.publish(CHANNEL, message.encode())

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._ready.set()
                    async for raw in pubsub.listen():
                        if raw.get("type") == "message":
                            self.deliver_locally(FeedMessage.decode(raw["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection: log, wait, subscribe again
                log.exception("Redis broker lost its subscription; retrying in 1 s")
                await asyncio.sleep(1)


def make_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else InMemoryBroker()
