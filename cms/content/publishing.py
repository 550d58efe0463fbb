"""Publishing actions: publish (now, scheduled or back-dated, with an expiry or not),
unpublish, archive, kill, delete and restore a revision. Each is one versioned, recorded
change.

A scheduled item is stored PUBLISHED with a future publishedAt: the visibility rule makes
it public at that moment with no job; it reads as SCHEDULED until then. An item published
`until` a time is stored PUBLISHED with that expiresAt: the rule takes it off every public
path then, and it reads as EXPIRED. The scheduler only announces both moments (their
PUBLISHED and EXPIRED events).

A killed item (withdrawn for legal or safety reasons) stays KILLED: only an admin may
publish, unpublish or archive it again.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, lookups, revisions, text, times, visibility
from cms.content.records import ContentRecord
from cms.errors import Conflict, Forbidden, Invalid, NotFound
from cms.events import outbox
from cms.models import Content, ContentStatus, Revision

__all__ = [
    "MAX_REASON_LENGTH",
    "announce_due",
    "archive",
    "delete",
    "kill",
    "publish",
    "restore_revision",
    "unpublish",
]

MAX_REASON_LENGTH = 2000
"""The longest kill reason (it goes to partners with the kill notice)."""


def _leave_killed(current: Content, viewer: Viewer) -> None:
    """A killed item leaves KILLED only by an admin's hand: Conflict for anyone else."""
    if current.status == ContentStatus.KILLED and not policy.can(
        viewer, policy.Action.REVIVE_KILLED
    ):
        raise Conflict("the item was killed; only an admin may publish it again")


def _off_the_desk() -> dict[str, object]:
    """What leaves an item when it stops being public: a pending announcement or expiry
    announcement, its pin, its place in the review queue."""
    return {
        "announce_at": None,
        "announce_expiry_at": None,
        "pinned_at": None,
        "pinned_until": None,
        "submitted_at": None,
    }


async def publish(
    *,
    id: int,
    viewer: Viewer,
    at: datetime | None = None,
    until: datetime | None = None,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """Public from `at` (now when None) until `until` (for good when None). An item that
    is public already, given `until` and no `at`, keeps its publication and only gains
    the expiry (it does not jump to the top of the feed)."""
    now = clock.utcnow()
    # Stored in UTC: SQLite compares the stored text, so every time must share one offset.
    when = now if at is None else times.to_utc(at, field="at")
    expires = None if until is None else times.to_utc(until, field="until")
    if expires is not None and expires <= max(when, now):
        raise Invalid("until must be later than the publication time and than now", field="until")

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        _leave_killed(current, viewer)
        if at is None and expires is not None and visibility.is_public(current, now):
            return editing.Change({"expires_at": expires, "announce_expiry_at": expires})
        values: dict[str, object] = {
            "status": ContentStatus.PUBLISHED,
            "published_at": when,
            "expires_at": expires,
            # The EXPIRED event goes out when the expiry comes (announce_due).
            "announce_expiry_at": expires,
            "submitted_at": None,
        }
        if not _has_been_public(current, now):
            values["first_published_at"] = when
        updated = current.significantly_updated_at
        if updated is not None and updated < when:
            values["significantly_updated_at"] = None  # an update of an earlier publication
        if when <= now:
            values["announce_at"] = None
            return editing.Change(values, event=outbox.EventType.PUBLISHED)
        # Scheduled: public at `when` by the visibility rule alone; the scheduler records
        # the PUBLISHED event then (announce_at), for subscribers and webhooks. A public
        # item moved into the future leaves the public paths until then.
        values["announce_at"] = when
        withdrawn = visibility.is_public(current, now)
        return editing.Change(
            values,
            event=outbox.EventType.UPDATED,
            event_data={"withdrawn": True} if withdrawn else {},
        )

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
        _leave_killed(current, viewer)
        now = clock.utcnow()
        was_public = visibility.is_public(current, now)
        event = outbox.EventType.UNPUBLISHED if was_public else outbox.EventType.UPDATED
        values: dict[str, object] = {"status": status, **_off_the_desk()}
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


async def kill(
    *,
    id: int,
    viewer: Viewer,
    reason: str,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """KILLED: off every public path from this transaction on. The CONTENT_KILLED event
    carries the reason (and webhooks the item's id, slug and url) so partners take the
    story down too; the revision keeps the reason as its note."""
    reason = text.check(reason, field="reason").strip()
    if not reason:
        raise Invalid("reason must say why the story is killed", field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(f"reason must be at most {MAX_REASON_LENGTH} characters", field="reason")

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        if current.status == ContentStatus.KILLED:
            raise Conflict("the item is killed already")
        now = clock.utcnow()
        was_public = visibility.is_public(current, now)
        values: dict[str, object] = {"status": ContentStatus.KILLED, **_off_the_desk()}
        if not _has_been_public(current, now):
            values["first_published_at"] = None  # a first publication that never came
        return editing.Change(
            values,
            event=outbox.EventType.KILLED,
            event_data={"reason": reason, "withdrawn": was_public},
            note=reason,
        )

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.KILL, expected_version=expected_version,
        change=change, include=include,
    )  # fmt: skip


async def delete(*, id: int, viewer: Viewer) -> int:
    """Delete the item (with its bylines, tags and revisions); the outbox keeps the event."""
    async with in_transaction() as connection:
        current = await Content.get_or_none(id=id, using_db=connection)
        if current is None:
            raise NotFound("no content has that id")
        policy.require(viewer, policy.Action.DELETE_CONTENT, current)
        if current.status == ContentStatus.KILLED and not policy.can(
            viewer, policy.Action.REVIVE_KILLED
        ):
            # Deleting would drop the kill's record (its reason, its history) and free its
            # slug for the same story to run again: an admin's decision.
            role = viewer.role.value if viewer.role else "anonymous"
            raise Forbidden(f"the {role} role may not delete killed content")
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
    """Record the PUBLISHED event of scheduled items whose time has come, and the EXPIRED
    event of items whose expiry has come (the item became public, or stopped being public,
    by the visibility rule alone; this tells subscribers and webhooks). Each item is claimed
    by clearing its `announce_at` or `announce_expiry_at`, so two workers never announce
    it twice."""
    announced = 0
    for column, type, data in (
        ("announce_at", outbox.EventType.PUBLISHED, {}),
        ("announce_expiry_at", outbox.EventType.EXPIRED, {"withdrawn": True}),
    ):
        due = await Content.filter(**{f"{column}__lte": now}).order_by(column, "id").limit(limit)
        for content in due:
            async with in_transaction() as connection:
                claimed = (
                    await Content.filter(id=content.id, **{f"{column}__lte": now})
                    .using_db(connection)
                    .update(**{column: None})
                )
                if claimed:
                    await outbox.record_change(
                        type=type, content=content, connection=connection, data=data
                    )
                    announced += 1
    return announced
