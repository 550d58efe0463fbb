"""The dispatcher: outbox events reach the broker once per claim, survive a restart,
and scheduled publications are announced when their time comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from cms import clock
from cms.cache import tags
from cms.cache.stores import MemoryStore
from cms.cache.versions import TagVersions
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import FeedMessage, InMemoryBroker
from cms.models import OutboxEvent
from tests import factories


class RecordingBroker(InMemoryBroker):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[FeedMessage] = []

    async def publish(self, message: FeedMessage) -> None:
        self.published.append(message)
        await super().publish(message)


@pytest.fixture
async def broker() -> AsyncIterator[RecordingBroker]:
    recording = RecordingBroker()
    yield recording
    await recording.close()


async def test_events_recorded_while_no_dispatcher_ran_are_sent_on_start(
    db: None, settings: Settings, broker: RecordingBroker
) -> None:
    # Written while "the app was down": only outbox rows exist.
    story = await factories.make_article(title="While down", published_at=clock.utcnow())
    assert await OutboxEvent.filter(dispatched_at__isnull=True).count() == 2

    await Dispatcher(settings, broker).run_once()

    assert [(m.type, m.content_id, m.public) for m in broker.published] == [
        ("CONTENT_UPDATED", story.id, False),  # created as a draft
        ("CONTENT_PUBLISHED", story.id, True),
    ]
    assert not await OutboxEvent.filter(dispatched_at__isnull=True).exists()


async def test_two_dispatchers_never_send_one_event_twice(
    db: None, settings: Settings, broker: RecordingBroker
) -> None:
    for number in range(10):
        await factories.make_article(title=f"Item {number}", published_at=clock.utcnow())
    first, second = Dispatcher(settings, broker), Dispatcher(settings, broker)

    await asyncio.gather(first.dispatch_outbox(), second.dispatch_outbox())
    await asyncio.gather(first.dispatch_outbox(), second.dispatch_outbox())

    ids = [(m.content_id, m.type) for m in broker.published]
    assert len(ids) == 20
    assert len(set(ids)) == 20


async def test_a_claim_left_by_a_crashed_worker_is_taken_over_after_its_lease(
    db: None, settings: Settings, broker: RecordingBroker
) -> None:
    await factories.make_article(title="Orphan", published_at=clock.utcnow())
    crashed = Dispatcher(settings, broker)
    claimed = await crashed._claim(100)  # claimed, then the worker died
    assert len(claimed) == 2

    await Dispatcher(settings, broker).dispatch_outbox()
    assert broker.published == []  # still leased to the dead worker
    with clock.frozen(clock.utcnow() + timedelta(minutes=1)):
        await Dispatcher(settings, broker).dispatch_outbox()

    assert len(broker.published) == 2


async def test_a_scheduled_item_is_announced_once_its_time_has_come(
    db: None, settings: Settings, broker: RecordingBroker
) -> None:
    now = clock.utcnow()
    story = await factories.make_article(title="At nine", published_at=now + timedelta(hours=1))
    dispatcher = Dispatcher(settings, broker)
    await dispatcher.run_once()
    broker.published.clear()

    await dispatcher.run_once()
    assert broker.published == []  # not yet
    with clock.frozen(now + timedelta(hours=1, seconds=1)):
        await dispatcher.run_once()
        await dispatcher.run_once()  # announced once, not every round

    assert [(m.type, m.content_id, m.public) for m in broker.published] == [
        ("CONTENT_PUBLISHED", story.id, True)
    ]


async def test_the_dispatcher_invalidates_the_tags_of_each_event(
    db: None, settings: Settings, broker: RecordingBroker
) -> None:
    versions = TagVersions(MemoryStore(max_bytes=1000))
    story = await factories.make_article(title="Tagged", published_at=clock.utcnow())

    await Dispatcher(settings, broker, versions=versions).run_once()

    _, moved = await versions.read([tags.item(story.id), tags.FEED, tags.item(story.id + 1)])
    # Created (a draft: the item only), then published (its lists): one batch, each tag
    # moved once however many of its events the batch holds.
    assert moved == [1, 1, 0]
