"""The dispatcher in batches: a round costs the same statements for one event as for
many, subscribers hear events in outbox order across batches, two dispatchers share
the outbox with each event sent once, and a stop finishes the round and hands the
rest over at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events import outbox
from cms.events.broker import Broker, FeedMessage, InMemoryBroker, RedisBroker
from cms.models import OutboxEvent, WebhookDelivery
from cms.webhooks import service
from tests import factories
from tests.statements import counting

ADMIN = Viewer(name="tests", role=Role.ADMIN)
EVERY_EVENT = ["CONTENT_PUBLISHED", "CONTENT_UPDATED", "CONTENT_UNPUBLISHED", "CONTENT_DELETED"]


class RecordingBroker(InMemoryBroker):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[FeedMessage] = []

    async def publish(self, message: FeedMessage) -> None:
        self.published.append(message)
        await super().publish(message)


class SlowBroker(RecordingBroker):
    """A broker whose batches take `seconds` (forever: None) to go out."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__()
        self.seconds = seconds
        self.entered = asyncio.Event()

    async def publish_many(self, messages: Sequence[FeedMessage]) -> None:
        self.entered.set()
        if self.seconds is None:
            await asyncio.Event().wait()
        await asyncio.sleep(self.seconds or 0)
        await super().publish_many(messages)


async def _newsroom() -> None:
    await factories.make_section(slug="city", name="City")
    await factories.make_author(slug="news-desk", name="News Desk", avatar=True)


async def _stories(count: int, *, prefix: str = "Story") -> None:
    """`count` published articles with a section, bylines and tags: two events each."""
    for number in range(count):
        await factories.make_article(
            title=f"{prefix} {number}",
            section="city",
            authors=["news-desk"],
            tags=["budget", f"t{number}"],
            hero_image=number % 2 == 0,
            published_at=clock.utcnow(),
        )


async def _outbox_order() -> list[tuple[str, int]]:
    rows = await OutboxEvent.all().order_by("id").values_list("type", "content_id")
    return [(str(type), int(content_id)) for type, content_id in rows]


async def _statements_of_one_round(settings: Settings) -> list[str]:
    dispatcher = Dispatcher(settings, RecordingBroker())
    with counting() as statements:
        await dispatcher.dispatch_outbox()
    assert not await OutboxEvent.filter(dispatched_at__isnull=True).exists()
    return list(statements)


async def test_a_batch_costs_the_same_statements_for_forty_events_as_for_two(
    db: None, settings: Settings
) -> None:
    await _newsroom()
    for url in ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b"):
        await service.create(viewer=ADMIN, url=url, events=EVERY_EVENT, settings=settings)
    await _stories(1, prefix="Alone")
    one = await _statements_of_one_round(settings)
    await _stories(20)
    many = await _statements_of_one_round(settings)

    assert await WebhookDelivery.all().count() == 2 * 42  # every event, to both webhooks
    assert len(many) == len(one), "\n".join(many)
    # Claim (2), items with their section and hero image, bylines, tags, corrections (4),
    # webhooks, deliveries recorded already, one INSERT, mark dispatched (4).
    assert len(one) <= 10, "\n".join(one)


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    chosen: Broker = InMemoryBroker()
    if request.param == "redis":
        chosen = RedisBroker(request.getfixturevalue("redis_url"))
    await chosen.start()
    yield chosen
    await chosen.close()


async def test_subscribers_hear_events_in_outbox_order_across_batches(
    db: None, settings: Settings, broker: Broker
) -> None:
    if isinstance(broker, RedisBroker):
        assert broker.connected  # through Redis, not the fallback
    await _newsroom()
    await _stories(12)  # 24 events, in batches of 5
    dispatcher = Dispatcher(settings.model_copy(update={"dispatch_batch_size": 5}), broker)
    heard: list[tuple[str, int]] = []

    async with broker.subscribe() as messages:
        while await dispatcher.dispatch_outbox():
            pass

        async def listen() -> None:
            async for message in messages:
                heard.append((message.type, message.content_id))
                if len(heard) == 24:
                    return

        await asyncio.wait_for(listen(), 10)

    assert heard == await _outbox_order()


async def test_two_dispatchers_share_the_outbox_and_send_each_event_once(
    db: None, settings: Settings
) -> None:
    await _newsroom()
    await _stories(30)  # 60 events
    small = settings.model_copy(update={"dispatch_batch_size": 4})
    brokers = RecordingBroker(), RecordingBroker()
    first, second = (Dispatcher(small, broker) for broker in brokers)

    while await OutboxEvent.filter(dispatched_at__isnull=True).exists():
        claimed = await asyncio.gather(first.dispatch_outbox(), second.dispatch_outbox())
        assert max(claimed) <= 4  # a claim takes one batch, never more

    sent = [(m.type, m.content_id) for broker in brokers for m in broker.published]
    assert sorted(sent) == sorted(await _outbox_order())  # each event once, none lost
    if not settings.is_sqlite:
        # Side by side, not queued for the same rows: each claimed batches of its own.
        assert brokers[0].published and brokers[1].published


async def test_stop_lets_the_current_round_finish(db: None, settings: Settings) -> None:
    await _newsroom()
    await _stories(3)
    broker = SlowBroker(0.3)
    dispatcher = Dispatcher(settings, broker)
    await dispatcher.start()
    await asyncio.wait_for(broker.entered.wait(), 5)

    await dispatcher.stop()

    assert len(broker.published) == 6
    assert not await OutboxEvent.filter(dispatched_at__isnull=True).exists()


async def test_stop_releases_the_claims_of_a_round_it_had_to_end(
    db: None, settings: Settings
) -> None:
    await _newsroom()
    await _stories(3)
    stuck = SlowBroker(None)  # never gets its batch out
    dispatcher = Dispatcher(settings, stuck)
    await dispatcher.start()
    await asyncio.wait_for(stuck.entered.wait(), 5)
    assert await OutboxEvent.filter(claimed_by__isnull=False).count() == 6

    await dispatcher.stop(timeout=0.2)

    assert stuck.published == []
    assert (
        await OutboxEvent.filter(claimed_by__isnull=True, dispatched_at__isnull=True).count() == 6
    )
    # Another worker takes them at once, the clock unmoved (the lease is 30 s).
    other = RecordingBroker()
    assert await Dispatcher(settings, other).dispatch_outbox() == 6
    assert [(m.type, m.content_id) for m in other.published] == await _outbox_order()


async def test_an_event_that_cannot_go_out_holds_up_none_of_its_batch(
    db: None, settings: Settings
) -> None:
    await _newsroom()
    await _stories(1)
    story = await OutboxEvent.all().order_by("id").first()
    assert story is not None
    async with in_transaction() as connection:  # a payload no rule can read
        broken = await outbox.record(
            type=outbox.EventType.UPDATED,
            content_id=story.content_id,
            payload={"status": "PUBLISHED", "published_at": "not a time"},
            connection=connection,
        )
    await _stories(1, prefix="After")
    broker = RecordingBroker()

    assert await Dispatcher(settings, broker).dispatch_outbox() == 5

    assert len(broker.published) == 4  # all but the broken one, in order
    waiting = await OutboxEvent.filter(dispatched_at__isnull=True)
    assert [event.id for event in waiting] == [broken.id]
    assert waiting[0].claimed_by is not None  # it waits for its lease, then goes again
