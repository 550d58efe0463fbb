"""What changed since this worker last looked: the outbox, scheduled publications,
expiries and pins that ended.

The outbox is the record of every content change, whoever made it (this worker, another
one, the command line). Each worker reads the events recorded since it last looked, at
most every `refresh_seconds`, at once after a write by one of its own callers
(read-your-writes), and as soon as a scheduled publication's, an expiry's or a pin's time
comes; it bumps the tags each change invalidates. With Redis the versions are shared, so
the first worker to look invalidates for all; with the in-process store each worker keeps its own.

On PostgreSQL two writers may commit out of id order, so a reader by id can step over an
event not committed yet: the ids stepped over are looked for again for a minute (an id
never committed, a rolled-back transaction's, is then forgotten). The dispatcher also
bumps each event's tags when it dispatches it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Literal, cast

from tortoise.functions import Max, Min
from tortoise.queryset import ValuesListQuery

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.cache import tags
from cms.cache.versions import TagVersions
from cms.content import items, lookups
from cms.content.records import ContentRecord
from cms.models import Content, ContentStatus, OutboxEvent

__all__ = ["LISTS", "Changes", "due_query", "record_for"]

log = logging.getLogger(__name__)
SYSTEM = Viewer(name="response-cache", role=Role.ADMIN)
# How long an id stepped over is looked for again, and how many are remembered at most.
GAP_SECONDS = 60.0
MAX_GAPS = 1000
# What an item's tags are made of: its section, bylines and tags.
LISTS = lookups.Include(section=True, authors=True, tags=True)


async def record_for(content_id: int, now: datetime) -> ContentRecord | None:
    """The item as it is now, whatever its status, with what its tags are made of."""
    return await items.by_id(id=content_id, viewer=SYSTEM, now=now, include=LISTS)


def due_query(since: datetime, now: datetime) -> ValuesListQuery[Literal[False]]:
    """(id, status) of the items whose announcement time falls in (since, now]."""
    return Content.filter(announce_at__gt=since, announce_at__lte=now).values_list("id", "status")


# The moments the rule alone changes what readers see: a scheduled publication, an expiry,
# the end of a pin. Each is a seek in its column's index (by time alone where a status in
# the WHERE clause would walk the feed's index instead; a time left on an unpublished item
# costs one look more, nothing else).
_MOMENTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("published_at", {"status": ContentStatus.PUBLISHED}),
    ("expires_at", {}),
    ("pinned_until", {}),
)


async def _next_moment(now: datetime) -> datetime | None:
    """The next time, after `now`, that the visibility rule or a pin changes a list."""
    found: list[datetime] = []
    for column, rule in _MOMENTS:
        upcoming = (
            await Content.filter(**rule, **{f"{column}__gt": now})
            .annotate(next=Min(column))
            .values_list("next", flat=True)
        )
        if upcoming and upcoming[0] is not None:
            found.append(upcoming[0])  # type: ignore[arg-type]
    return min(found, default=None)


class Changes:
    def __init__(self, versions: TagVersions, *, refresh_seconds: float, batch: int = 200) -> None:
        self.versions = versions
        self.refresh_seconds = refresh_seconds
        self.batch = batch
        self._seen: int | None = None  # the newest outbox event applied
        self._gaps: dict[int, float] = {}  # ids stepped over -> when first missed
        self._looked_at = 0.0
        self._due_checked: datetime | None = None
        self._next_due: datetime | None = None
        self._lock = asyncio.Lock()

    def _stale(self, now: datetime) -> bool:
        return (
            self._seen is None
            or time.monotonic() - self._looked_at > self.refresh_seconds
            or (self._next_due is not None and self._next_due <= now)
        )

    async def catch_up(self, *, force: bool = False) -> None:
        """Apply what changed since the last look, when it is time to look (or `force`)."""
        if not force and not self._stale(clock.utcnow()):
            return
        async with self._lock:
            now = clock.utcnow()
            if force or self._stale(now):
                try:
                    await self._look(now)
                except Exception:  # the database blinked: look again on the next request
                    log.warning("could not read the outbox for the response cache", exc_info=True)

    async def _look(self, now: datetime) -> None:
        if self._seen is None:
            # The first look (at start-up): where this worker starts reading. What other
            # workers cached before it is theirs (and the dispatcher's) to invalidate.
            newest = await OutboxEvent.all().annotate(m=Max("id")).values_list("m", flat=True)
            self._seen = int(cast(int | None, newest[0]) or 0) if newest else 0
            self._due_checked = now
        else:
            await self._apply_events(now)
            await self._apply_due(now)
        self._next_due = await _next_moment(now)
        self._looked_at = time.monotonic()

    async def _apply_events(self, now: datetime) -> None:
        if self._gaps:
            late = await OutboxEvent.filter(id__in=sorted(self._gaps)).order_by("id")
            for event in late:
                del self._gaps[event.id]
            await self._apply(late, now)
            expired = time.monotonic() - GAP_SECONDS
            self._gaps = {id: at for id, at in self._gaps.items() if at > expired}
        while True:
            events = await OutboxEvent.filter(id__gt=self._seen).order_by("id").limit(self.batch)
            if not events:
                return
            self._note_gaps([event.id for event in events])
            await self._apply(events, now)
            self._seen = events[-1].id
            if len(events) < self.batch:
                return

    def _note_gaps(self, ids: list[int]) -> None:
        """Remember the ids between the last one seen and these that are not (yet) there."""
        expected, missed_at = (self._seen or 0) + 1, time.monotonic()
        for id in ids:
            if id - expected <= MAX_GAPS:
                self._gaps.update(dict.fromkeys(range(expected, id), missed_at))
            expected = id + 1
        while len(self._gaps) > MAX_GAPS:
            del self._gaps[min(self._gaps)]

    async def _apply(self, events: list[OutboxEvent], now: datetime) -> None:
        records: dict[int, ContentRecord | None] = {}
        invalidated: set[str] = set()
        for event in events:
            if event.content_id not in records:
                records[event.content_id] = await record_for(event.content_id, now)
            invalidated.update(
                tags.for_event(
                    type=event.type,
                    content_id=event.content_id,
                    payload=event.payload,
                    occurred_at=event.occurred_at,
                    record=records[event.content_id],
                )
            )
        await self.versions.bump(invalidated)

    async def _apply_due(self, now: datetime) -> None:
        """Scheduled items whose time came since the last look are public now: they enter
        their lists at once, before the scheduler records their PUBLISHED event."""
        # Not yet announced (`announce_at` is cleared in the transaction that records the
        # PUBLISHED event, which the next look reads): either way each is seen once.
        # By time alone, so that the announce_at index answers: with the status in the
        # WHERE clause SQLite walks the (status, published_at) index over every public item
        # (300 ms a look at 100,000 items, on every write). The few rows due are then
        # narrowed to the published ones here.
        assert self._due_checked is not None  # set by the first look
        due = [
            content_id
            for content_id, status in await due_query(self._due_checked, now)
            if status == ContentStatus.PUBLISHED
        ]
        # Items that expired since the last look leave their lists the same way, before
        # the scheduler records their EXPIRED event; pins that ended leave the pinned lists.
        since = self._due_checked
        expired = await Content.filter(expires_at__gt=since, expires_at__lte=now).values_list(
            "id", flat=True
        )
        invalidated: set[str] = set()
        for content_id in [*due, *expired]:
            record = await record_for(int(content_id), now)
            if record is not None:
                invalidated |= tags.for_publication(record)
        # Pins that ended: the pinned lists, and every response showing the item's pin.
        unpinned = await Content.filter(pinned_until__gt=since, pinned_until__lte=now).values_list(
            "id", flat=True
        )
        if unpinned:
            invalidated.add(tags.PINNED)
            invalidated.update(tags.item(cast(int, content_id)) for content_id in unpinned)
        await self.versions.bump(invalidated)
        self._due_checked = now
