"""A dispatcher that stops (a worker's graceful shutdown) gives back the outbox events it
claimed and did not dispatch, so another worker takes them at once instead of after the
lease (CMS_DISPATCH_LEASE_SECONDS); what other workers claimed, or what is done, stays."""

from __future__ import annotations

from datetime import timedelta

from cms import clock
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import InMemoryBroker
from cms.models import OutboxEvent


async def _event(claimed_by: str | None, *, dispatched: bool = False) -> OutboxEvent:
    now = clock.utcnow()
    return await OutboxEvent.create(
        type="CONTENT_PUBLISHED",
        content_id=1,
        payload={},
        occurred_at=now,
        dispatched_at=now if dispatched else None,
        claimed_by=claimed_by,
        claimed_until=now + timedelta(seconds=30) if claimed_by else None,
    )


async def test_stop_releases_this_workers_unfinished_claims_only(
    settings: Settings, db: None
) -> None:
    dispatcher = Dispatcher(settings, InMemoryBroker())
    mine = await _event(f"{dispatcher.worker}0a1b2c3d")
    done = await _event(f"{dispatcher.worker}0a1b2c3d", dispatched=True)
    theirs = await _event("ffffffffffffffff0a1b2c3d")

    await dispatcher.stop()

    released = await OutboxEvent.get(id=mine.id)
    assert (released.claimed_by, released.claimed_until) == (None, None)
    assert (await OutboxEvent.get(id=done.id)).claimed_by == done.claimed_by
    assert (await OutboxEvent.get(id=theirs.id)).claimed_by == theirs.claimed_by
