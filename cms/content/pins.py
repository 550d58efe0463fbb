"""Pinned stories: an editor keeps a published item at the top of a page (the front page,
or its section's) until a time. `pinned` lists the public pinned items, most recently
pinned first, at most CMS_MAX_PINNED; a pin whose time has come drops out by the rule
alone (`is_pinned`), with no job running."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cms import clock, prepared
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, lookups, text, times, visibility
from cms.content.records import ContentRecord
from cms.errors import Conflict, Invalid
from cms.models import Content, ContentStatus

__all__ = ["Pin", "current", "pin", "pinned", "unpin"]

_PIN_FIELDS = ("pinned_at", "pinned_until")


@dataclass(frozen=True, slots=True)
class Pin:
    at: datetime
    until: datetime | None


def current(record: ContentRecord, now: datetime) -> Pin | None:
    """The item's pin, while it lasts (None once its time has come or when never pinned)."""
    if record.pinned_at is None:
        return None
    if record.pinned_until is not None and record.pinned_until <= now:
        return None
    return Pin(record.pinned_at, record.pinned_until)


def _pinned_q(now: datetime) -> Q:
    at = now.astimezone(UTC)
    return Q(pinned_at__isnull=False) & (Q(pinned_until__isnull=True) | Q(pinned_until__gt=at))


async def pin(
    *,
    id: int,
    viewer: Viewer,
    until: datetime | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """Pin a published (or scheduled) item until `until` (until unpinned when None). A
    pinned item pinned again moves to the top with its new time."""
    ends = None if until is None else times.to_utc(until, field="until")
    now = clock.utcnow()
    if ends is not None and ends <= now:
        raise Invalid("until must be in the future", field="until")

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        shown = visibility.status_at(current, clock.utcnow())
        if shown not in (ContentStatus.PUBLISHED, ContentStatus.SCHEDULED):
            raise Conflict(f"only a published item can be pinned; the item is {shown.name}")
        return editing.Change({"pinned_at": clock.utcnow(), "pinned_until": ends})

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.PIN, expected_version=None, change=change,
        include=include,
    )  # fmt: skip


async def unpin(
    *, id: int, viewer: Viewer, include: lookups.Include = lookups.EVERYTHING
) -> ContentRecord:
    """Take the item's pin off; an item that is not pinned stays as it is (no new version)."""

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change | None:
        if current.pinned_at is None:
            return None
        return editing.Change(dict.fromkeys(_PIN_FIELDS))

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.PIN, expected_version=None, change=change,
        include=include,
    )  # fmt: skip


async def pinned(
    *,
    now: datetime,
    limit: int,
    section: str | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> list[ContentRecord]:
    """Public pinned items (in `section`, a slug, when given), most recently pinned first."""
    if section is not None:
        text.check(section, field="section")
    values: dict[str, object] = {"now": now.astimezone(UTC), "limit": limit}
    if section is not None:
        values["section"] = section

    def build(markers: prepared.Markers) -> QuerySet[Content]:
        at = markers.datetime("now")
        query = Content.filter(visibility.public_q(at)).filter(_pinned_q(at))
        if section is not None:
            query = query.filter(section__slug=markers.str("section"))
        return query.order_by("-pinned_at", "-id").limit(markers.int("limit"))

    records = await lookups.prepared_records(
        ("pinned", section is not None), build, values, include, seeks=False
    )
    await lookups.attach_relations(records, include)
    return records
