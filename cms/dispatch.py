"""The dispatcher: drains the outbox to subscribers (the broker), the response cache
(the tags each event invalidates) and webhooks, and announces scheduled publications when
their time comes.

It composes the content services, the events and the webhooks, so it sits beside the
other composition roots (`cms.http`, `cms.cli`) rather than inside one of those packages:
`cms.content` records events in `cms.events.outbox`, and nothing in `cms.events` reads
content back.

Every app worker runs one. Events are claimed in id order with a lease, so two workers
never dispatch one event at once, and a crashed worker's events are taken over when its
lease runs out. Delivery is at-least-once: an event is marked dispatched only after the
broker has it and its webhook deliveries are recorded; undispatched events are picked up
on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import timedelta

import httpx
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.cache import tags
from cms.cache.versions import TagVersions
from cms.config import Settings
from cms.content import items, lookups, payloads, publishing
from cms.content.links import Links
from cms.events.broker import Broker, FeedMessage
from cms.models import OutboxEvent
from cms.webhooks import addresses, deliveries

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)
SYSTEM = Viewer(name="dispatcher", role=Role.ADMIN)


def _public_when_recorded(event: OutboxEvent) -> bool:
    """Whether anonymous readers may hear of the event: the item was public when the
    event was recorded (judged from the event, not from the item's state now, so a late
    dispatch of a draft's edit stays private)."""
    return tags.public_when_recorded(
        type=event.type, payload=event.payload, occurred_at=event.occurred_at
    )


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        *,
        poll_seconds: float = 0.25,
        versions: TagVersions | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.versions = versions  # the response cache's tag versions, when there is one
        self.poll_seconds = poll_seconds
        self.links = Links.from_settings(settings)
        self.worker = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = addresses.http_client(self.settings)
        self._task = asyncio.create_task(self._run(), name="newsdesk-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.aclose()
        await self._release()

    async def _release(self) -> None:
        """Give back the events this worker claimed and did not dispatch, so another
        worker takes them now rather than when the lease runs out."""
        try:
            await OutboxEvent.filter(
                claimed_by__startswith=self.worker, dispatched_at__isnull=True
            ).update(claimed_by=None, claimed_until=None)
        except Exception:  # the database is gone too: the lease frees them later
            log.warning("could not release this worker's outbox claims", exc_info=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database blinked: log, wait, go on
                log.exception("dispatcher round failed; retrying")
            await asyncio.sleep(self.poll_seconds)

    async def run_once(self) -> int:
        """One round: announce due schedules, dispatch the outbox, send due webhooks."""
        await self.announce_due()
        dispatched = await self.dispatch_outbox()
        if self._http is not None:
            await deliveries.deliver_due(client=self._http, settings=self.settings, limit=50)
        return dispatched

    async def announce_due(self) -> int:
        """Record the PUBLISHED event of scheduled items whose time has come."""
        return await publishing.announce_due(now=clock.utcnow())

    async def _claim(self, limit: int) -> list[OutboxEvent]:
        now = clock.utcnow()
        free = Q(dispatched_at__isnull=True) & (
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
        ids = (
            await OutboxEvent.filter(free).order_by("id").limit(limit).values_list("id", flat=True)
        )
        if not ids:
            return []
        token = f"{self.worker}{secrets.token_hex(4)}"
        # The conditions again in the outer WHERE: a row another worker claimed meanwhile
        # no longer matches, so each row has one owner.
        await OutboxEvent.filter(free, id__in=ids).update(
            claimed_by=token,
            claimed_until=now + timedelta(seconds=self.settings.dispatch_lease_seconds),
        )
        return await OutboxEvent.filter(claimed_by=token, dispatched_at__isnull=True).order_by("id")

    async def dispatch_outbox(self, limit: int = 100) -> int:
        events = await self._claim(limit)
        for event in events:
            try:
                await self._dispatch(event)
            except Exception:  # this one waits for its lease to run out; the rest go on
                log.exception("could not dispatch outbox event %s", event.id)
        return len(events)

    async def _dispatch(self, event: OutboxEvent) -> None:
        now = clock.utcnow()
        record = await items.by_id(id=event.content_id, viewer=SYSTEM, now=now)
        message = FeedMessage(
            type=event.type,
            content_id=event.content_id,
            at=event.occurred_at.isoformat(),
            kind=str(record.kind) if record else str(event.payload.get("kind", "")),
            section=record.section.slug if record and record.section else None,
            public=_public_when_recorded(event),
        )
        content = None
        if record is not None:
            corrections = await lookups.corrections_for([record.id])
            content = payloads.content_payload(
                record, self.links, now, corrections.get(record.id, ())
            )
        cache_tags = tags.for_event(
            type=event.type,
            content_id=event.content_id,
            payload=event.payload,
            occurred_at=event.occurred_at,
            record=record,
        )
        # Broker and cache first, then mark dispatched: a crash in between repeats the
        # event (at-least-once) rather than losing it.
        await self.broker.publish(message)
        if self.versions is not None:
            await self.versions.bump(cache_tags)
        async with in_transaction() as connection:
            await deliveries.enqueue(
                event=event, content=content, cache_tags=cache_tags, connection=connection
            )
            await OutboxEvent.filter(id=event.id).using_db(connection).update(dispatched_at=now)
