"""The Redis broker without Redis: it starts anyway, this worker's subscribers still hear
what it publishes, and it subscribes again when Redis comes back (against a redis-server
of the test's own, never the machine's Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from cms.events.broker import FeedMessage, RedisBroker
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]

PATIENCE = 10.0


def _message(content_id: int) -> FeedMessage:
    return FeedMessage(
        type="CONTENT_PUBLISHED", content_id=content_id, at="2026-01-01T00:00:00+00:00",
        kind="article", section=None, public=True,
    )  # fmt: skip


async def _connected(broker: RedisBroker, state: bool = True) -> None:
    for _ in range(int(PATIENCE / 0.05)):
        if broker.connected == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the broker's subscription never became {state}")


@pytest.fixture
async def broker(redis_server: RedisServer) -> AsyncIterator[RedisBroker]:
    redis_server.stop()
    started = RedisBroker(redis_server.url, retry_seconds=0.1)
    await started.start()  # Redis is down: it starts anyway
    yield started
    await started.close()


async def test_a_broker_started_without_redis_delivers_to_its_own_subscribers(
    broker: RedisBroker,
) -> None:
    async with broker.subscribe() as messages:
        await broker.publish(_message(1))
        heard = await asyncio.wait_for(anext(messages), PATIENCE)

    assert heard == _message(1)
    assert (broker.connected, broker.outages, broker.fallbacks) == (False, 1, 1)


async def test_it_subscribes_when_redis_comes_and_hears_other_workers_again(
    broker: RedisBroker, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cms.events.broker")
    await asyncio.sleep(0.3)  # attempts that fail again log nothing more
    redis_server.start()
    await _connected(broker)
    other = RedisBroker(redis_server.url)
    await other.start()
    try:
        async with broker.subscribe() as messages:
            await other.publish(_message(2))  # another worker's event, through Redis
            heard = await asyncio.wait_for(anext(messages), PATIENCE)
    finally:
        await other.close()

    assert heard == _message(2)
    lines = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert [level for level, _ in lines] == ["INFO"], lines  # the warning came at start
    assert "answers again" in lines[0][1]


async def test_losing_redis_while_subscribed_falls_back_to_local_delivery(
    redis_server: RedisServer,
) -> None:
    broker = RedisBroker(redis_server.url, retry_seconds=0.1)
    await broker.start()
    try:
        assert broker.connected
        redis_server.stop()
        async with broker.subscribe() as messages:
            await broker.publish(_message(3))  # the listener may not have noticed yet
            heard = await asyncio.wait_for(anext(messages), PATIENCE)
            await _connected(broker, False)  # now it has
            await broker.publish(_message(4))
            heard_later = await asyncio.wait_for(anext(messages), PATIENCE)
        redis_server.start()
        await _connected(broker)
    finally:
        await broker.close()

    assert (heard, heard_later) == (_message(3), _message(4))
    assert broker.outages == 1
