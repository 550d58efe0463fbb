"""The dispatcher: drains the outbox to subscribers (the broker), the response cache
(the tags each event invalidates) and webhooks, and announces scheduled publications when
their time comes.

It composes the content services, the events and the webhooks, so it sits beside the
other composition roots (`cms.http`, `cms.cli`) rather than inside one of those packages:
`cms.content` records events in `cms.events.outbox`, and nothing in `cms.events` reads
content back.

Every app worker runs one. It works in batches, since a newsroom under load records
hundreds of events a second and one event at a time (a dozen statements each) fell
minutes behind: a round claims up to CMS_DISPATCH_BATCH_SIZE events in id order with one
UPDATE, loads their items in a few queries, publishes them to the broker in order in one
round trip, bumps their cache tags at once and, in one transaction, records their
webhook deliveries and marks them dispatched. A round costs the same number of
statements for one event as for two hundred. Webhooks are sent by the courier
(`cms.webhooks.courier`), a task of its own, so a slow receiver never delays subscribers
or the cache.

Claims carry a lease (CMS_DISPATCH_LEASE_SECONDS), so two workers never dispatch one event
at once, and a crashed worker's events are taken over when its lease runs out; a worker
that stops (`stop`) finishes its round and releases its claims, so another takes them at
once. Delivery is at-least-once: an event is marked dispatched only after the broker has
it and its webhook deliveries are recorded; undispatched events are picked up on the next
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from tortoise.transactions import in_transaction

from cms import clock
from cms.cache import tags
from cms.cache.versions import TagVersions
from cms.config import Settings
from cms.content import lookups, payloads, publishing, raw_sql
from cms.content.links import Links
from cms.content.records import ContentRecord, CorrectionRecord
from cms.events.broker import Broker, FeedMessage
from cms.models import OutboxEvent
from cms.webhooks import addresses, deliveries
from cms.webhooks.courier import Courier

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)
# How long `stop` waits beyond the webhook timeout for the round and the deliveries in
# flight (an attempt never outlasts CMS_WEBHOOK_TIMEOUT_SECONDS).
STOP_MARGIN_SECONDS = 2.0
# The most `stop` waits to hand back its claims (the lease frees them anyway).
RELEASE_SECONDS = 2.0


def _public_when_recorded(event: OutboxEvent) -> bool:
    """Whether anonymous readers may hear of the event: the item was public when the
    event was recorded (judged from the event, not from the item's state now, so a late
    dispatch of a draft's edit stays private)."""
    return tags.public_when_recorded(
        type=event.type, payload=event.payload, occurred_at=event.occurred_at
    )


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One event ready to go out: what subscribers hear, what webhooks get."""

    message: FeedMessage
    dispatched: deliveries.Dispatched


def _bucket(count: int) -> int:
    """The next power of two: a batch's items are read by a prepared statement per
    bucket of sizes, not per size (a few statements for any batch size)."""
    return 1 << max(0, count - 1).bit_length()


_Corrections = dict[int, list[CorrectionRecord]]


async def _items(ids: Sequence[int]) -> tuple[dict[int, ContentRecord], _Corrections]:
    """The items as they are now (any status, with their relations) and their
    corrections: four queries for any number."""
    if not ids:
        return {}, {}
    padded = [*ids, *[ids[-1]] * (_bucket(len(ids)) - len(ids))]
    records = await lookups.records_by_ids(padded, lookups.EVERYTHING)
    await lookups.attach_relations(records, lookups.EVERYTHING)
    found = {record.id: record for record in records}
    return found, await lookups.corrections_for(list(found))


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
        self.batch_size = settings.dispatch_batch_size
        self.lease = timedelta(seconds=settings.dispatch_lease_seconds)
        self.links = Links.from_settings(settings)
        self.worker = secrets.token_hex(8)  # every claim token of this worker starts so
        self.courier: Courier | None = None
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    async def start(self) -> None:
        self._http = addresses.http_client(self.settings)
        self.courier = Courier(self.settings, self._http, poll_seconds=self.poll_seconds)
        await self.courier.start()
        self._task = asyncio.create_task(self._run(), name="newsdesk-dispatcher")

    async def stop(self, timeout: float | None = None) -> None:
        """Stop cleanly (SIGTERM): let the current round and the webhook deliveries in
        flight finish, within `timeout` seconds (default: the webhook timeout and a
        margin), then release this worker's claims on events it has not dispatched, so
        another worker takes them at once instead of when the lease runs out."""
        if timeout is None:
            timeout = self.settings.webhook_timeout_seconds + STOP_MARGIN_SECONDS
        deadline = time.monotonic() + timeout
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            _, unfinished = await asyncio.wait({self._task}, timeout=timeout)
            for task in unfinished:  # a round stuck past the deadline: end it
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.courier is not None:
            await self.courier.stop(max(0.0, deadline - time.monotonic()))
        try:  # bounded: a database that is gone must not hold the worker's exit
            released = await asyncio.wait_for(self.release_claims(), RELEASE_SECONDS)
        except Exception:  # the database is gone too: the lease runs out on its own
            log.exception("could not release the dispatcher's claims")
        else:
            if released:
                log.info("released %d undispatched outbox event(s) to other workers", released)
        if self._http is not None:
            await self._http.aclose()

    async def release_claims(self) -> int:
        """Give up this worker's claims on events not dispatched yet."""
        return await OutboxEvent.filter(
            claimed_by__startswith=self.worker, dispatched_at__isnull=True
        ).update(claimed_by=None, claimed_until=None)

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                dispatched = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database blinked: log, wait, go on
                log.exception("dispatcher round failed; retrying")
                dispatched = 0
            if dispatched < self.batch_size:  # caught up: wait for more
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def run_once(self) -> int:
        """One round: announce due schedules, dispatch a batch of the outbox (the
        courier, once started, sends the webhook deliveries in the background)."""
        await self.announce_due()
        return await self.dispatch_outbox()

    async def announce_due(self) -> int:
        """Record the PUBLISHED event of scheduled items whose time has come."""
        return await publishing.announce_due(now=clock.utcnow())

    async def _claim(self, limit: int) -> list[OutboxEvent]:
        """Claim up to `limit` free events, oldest first: one UPDATE, then the rows won.

        The UPDATE picks its rows in a subquery and checks the conditions again in its
        own WHERE, so a row another worker claimed meanwhile no longer matches: each row
        has one owner. On PostgreSQL the subquery locks what it picks and skips what
        another worker's UPDATE holds (FOR UPDATE SKIP LOCKED), so two workers claim two
        batches side by side instead of queueing for the same rows; SQLite has one
        writer."""
        now = clock.utcnow()
        token = f"{self.worker}{secrets.token_hex(4)}"
        connection = OutboxEvent._choose_db(for_write=True)  # noqa: SLF001 - the ORM's own
        ph = raw_sql.Placeholders(raw_sql.dialect(connection))
        lock = " FOR UPDATE SKIP LOCKED" if ph.postgres else ""
        # Placeholders numbered in the order they appear (SQLite's are positional).
        set_claim = f"claimed_by = {ph(token)}, claimed_until = {ph(now + self.lease)}"
        outer = f"dispatched_at IS NULL AND (claimed_until IS NULL OR claimed_until < {ph(now)})"
        inner = f"dispatched_at IS NULL AND (claimed_until IS NULL OR claimed_until < {ph(now)})"
        limit_at = ph(limit)
        pick = f"SELECT id FROM outbox_event WHERE {inner} ORDER BY id LIMIT {limit_at}"
        update = f"UPDATE outbox_event SET {set_claim} WHERE {outer} AND id IN"
        if ph.postgres:
            # Picked once, in a CTE: a subquery under IN may be run again for each row
            # (and pick other rows each time, past the limit); numbered placeholders.
            sql = (
                f"WITH picked AS MATERIALIZED ({pick}{lock}) "
                f"{update} (SELECT id FROM picked) RETURNING id"
            )
        else:
            sql = f"{update} ({pick})"
        claimed, _ = await connection.execute_query(sql, ph.params)
        if not claimed:
            return []
        return await OutboxEvent.filter(claimed_by=token, dispatched_at__isnull=True).order_by("id")

    async def dispatch_outbox(self, limit: int | None = None) -> int:
        """Claim and send one batch (at most `limit`, default CMS_DISPATCH_BATCH_SIZE);
        the number of events claimed."""
        events = await self._claim(limit or self.batch_size)
        if events:
            try:
                await self._dispatch(events)
            except Exception:  # they wait for their lease to run out, then go again
                log.exception(
                    "could not dispatch outbox events %d to %d", events[0].id, events[-1].id
                )
        return len(events)

    async def _dispatch(self, events: Sequence[OutboxEvent]) -> None:
        now = clock.utcnow()
        records, corrections = await _items(sorted({event.content_id for event in events}))
        outgoing: list[_Outgoing] = []
        for event in events:
            try:
                outgoing.append(self._outgoing(event, records, corrections, now))
            except Exception:  # this one waits for its lease to run out; the rest go on
                log.exception("could not dispatch outbox event %s", event.id)
        if not outgoing:
            return
        # Broker and cache first, then mark dispatched: a crash in between repeats the
        # events (at-least-once) rather than losing them.
        await self.broker.publish_many([item.message for item in outgoing])
        if self.versions is not None:
            await self.versions.bump(
                {tag for item in outgoing for tag in item.dispatched.cache_tags}
            )
        try:
            created = await self._record(outgoing, now)
        except Exception:  # one event spoils the batch: record them one by one
            log.exception("recording a batch of outbox events failed; recording one by one")
            created = 0
            for item in outgoing:
                try:
                    created += await self._record([item], now)
                except Exception:
                    log.exception("could not record outbox event %s", item.dispatched.event.id)
        if created and self.courier is not None:
            self.courier.wake()

    def _outgoing(
        self,
        event: OutboxEvent,
        records: dict[int, ContentRecord],
        corrections: _Corrections,
        now: datetime,
    ) -> _Outgoing:
        record = records.get(event.content_id)
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
        return _Outgoing(message, deliveries.Dispatched(event, content, tuple(cache_tags)))

    async def _record(self, outgoing: Sequence[_Outgoing], now: datetime) -> int:
        """Record the webhook deliveries of `outgoing` and mark them dispatched, in one
        transaction; the number of deliveries created."""
        async with in_transaction() as connection:
            created = await deliveries.enqueue_many(
                events=[item.dispatched for item in outgoing], connection=connection
            )
            ids = [item.dispatched.event.id for item in outgoing]
            await OutboxEvent.filter(id__in=ids).using_db(connection).update(dispatched_at=now)
        return created
