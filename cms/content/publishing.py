"""Publishing actions: publish (now, scheduled or back-dated), unpublish, archive,
delete and restore a revision. Each is one versioned, recorded change.

A scheduled item is stored PUBLISHED with a future publishedAt: the visibility rule makes
it public at that moment with no job; it reads as SCHEDULED until then.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, lookups, revisions, times, visibility
from cms.content.records import ContentRecord
from cms.errors import NotFound
from cms.events import outbox
from cms.models import Content, ContentStatus, Revision

__all__ = ["announce_due", "archive", "delete", "publish", "restore_revision", "unpublish"]


async def publish(
    *,
    id: int,
    viewer: Viewer,
    at: datetime | None = None,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    now = clock.utcnow()
    # Stored in UTC: SQLite compares the stored text, so every time must share one offset.
    when = now if at is None else times.to_utc(at, field="at")

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        values: dict[str, object] = {"status": ContentStatus.PUBLISHED, "published_at": when}
        if not _has_been_public(current, now):
            values["first_published_at"] = when
        updated = current.significantly_updated_at
        if updated is not None and updated < when:
            values["significantly_updated_at"] = None  # an update of an earlier publication
        if when <= now:
            values["announce_at"] = None
            return editing.Change(values, event=outbox.EventType.PUBLISHED)
        # Scheduled: public at `when` by the visibility rule alone; the scheduler records
        # the PUBLISHED event then (announce_at), for subscribers and webhooks.
        values["announce_at"] = when
        return editing.Change(values, event=outbox.EventType.UPDATED)

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.PUBLISH, expected_version=expected_version,
        change=change, include=include,
    )  # fmt: skip


def _has_been_public(item: Content, now: datetime) -> bool:
    """Whether the item's first publication has happened (a scheduled one may not have)."""
    return item.first_published_at is not None and item.first_published_at <= now


async def _withdraw(
    *,
    id: int,
    viewer: Viewer,
    status: ContentStatus,
    expected_version: int | None,
    include: lookups.Include,
) -> ContentRecord:
    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        now = clock.utcnow()
        was_public = visibility.is_public(current, now)
        event = outbox.EventType.UNPUBLISHED if was_public else outbox.EventType.UPDATED
        values: dict[str, object] = {"status": status, "announce_at": None}
        if not _has_been_public(current, now):
            values["first_published_at"] = None  # a first publication that never came
        return editing.Change(values, event=event)

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.PUBLISH, expected_version=expected_version,
        change=change, include=include,
    )  # fmt: skip


async def unpublish(
    *,
    id: int,
    viewer: Viewer,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """Back to DRAFT; readers no longer see it."""
    return await _withdraw(
        id=id, viewer=viewer, status=ContentStatus.DRAFT, expected_version=expected_version,
        include=include,
    )  # fmt: skip


async def archive(
    *,
    id: int,
    viewer: Viewer,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """ARCHIVED: kept for the record, off every public read path."""
    return await _withdraw(
        id=id, viewer=viewer, status=ContentStatus.ARCHIVED, expected_version=expected_version,
        include=include,
    )  # fmt: skip


async def delete(*, id: int, viewer: Viewer) -> int:
    """Delete the item (with its bylines, tags and revisions); the outbox keeps the event."""
    async with in_transaction() as connection:
        current = await Content.get_or_none(id=id, using_db=connection)
        if current is None:
            raise NotFound("no content has that id")
        policy.require(viewer, policy.Action.DELETE_CONTENT, current)
        await outbox.record_change(
            type=outbox.EventType.DELETED, content=current, connection=connection
        )
        await current.delete(using_db=connection)
    return id


async def restore_revision(
    *, revision_id: int, viewer: Viewer, include: lookups.Include = lookups.EVERYTHING
) -> ContentRecord:
    """A new version carrying that revision's fields (history only grows)."""
    revision = await Revision.get_or_none(id=revision_id)
    if revision is None:
        raise NotFound("no revision has that id")
    snapshot = revision.snapshot

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        values = {name: snapshot.get(name) for name in revisions.RESTORABLE}
        return editing.Change(
            values, author_ids=snapshot.get("author_ids", []), tag_ids=snapshot.get("tag_ids", [])
        )

    return await editing.save(
        id=revision.content_id,
        viewer=viewer,
        action=policy.Action.RESTORE_REVISION,
        expected_version=None,
        change=change,
        include=include,
    )


async def announce_due(*, now: datetime, limit: int = 100) -> int:
    """Record the PUBLISHED event of scheduled items whose time has come (the item became
    public by the visibility rule alone; this tells subscribers and webhooks). Each item is
    claimed by clearing its `announce_at`, so two workers never announce it twice."""
    due = await Content.filter(announce_at__lte=now).order_by("announce_at").limit(limit)
    announced = 0
    for content in due:
        async with in_transaction() as connection:
            claimed = (
                await Content.filter(id=content.id, announce_at__lte=now)
                .using_db(connection)
                .update(announce_at=None)
            )
            if claimed:
                await outbox.record_change(
                    type=outbox.EventType.PUBLISHED, content=content, connection=connection
                )
                announced += 1
    return announced
