"""The desk's review: an author submits its draft (IN_REVIEW), an editor publishes it or
sends it back with a note (DRAFT). Each step is a revision keeping its note and an outbox
event (CONTENT_SUBMITTED, CONTENT_CHANGES_REQUESTED) for webhooks and token-holding
subscribers; the item is not public, so anonymous subscribers never hear of it."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, lookups, text, visibility
from cms.content.records import ContentRecord
from cms.errors import Conflict, Invalid
from cms.events import outbox
from cms.models import Content, ContentStatus

__all__ = ["MAX_NOTE_LENGTH", "note", "request_changes", "submit"]

MAX_NOTE_LENGTH = 2000
"""The longest note a review step keeps."""


def note(value: str | None, *, required: bool = False) -> str | None:
    """A review note as kept: trimmed, None when blank (Invalid when `required`)."""
    if value is not None:
        value = text.check(value, field="note").strip() or None
    if value is None and required:
        raise Invalid("note must say what to change", field="note")
    if value is not None and len(value) > MAX_NOTE_LENGTH:
        raise Invalid(f"note must be at most {MAX_NOTE_LENGTH} characters", field="note")
    return value


async def submit(
    *,
    id: int,
    viewer: Viewer,
    note_text: str | None = None,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """DRAFT -> IN_REVIEW: into the desk's queue (oldest submission first)."""
    kept = note(note_text)

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        if current.status != ContentStatus.DRAFT:
            shown = visibility.status_at(current, clock.utcnow()).name
            raise Conflict(f"only a draft can be submitted for review; the item is {shown}")
        return editing.Change(
            {"status": ContentStatus.IN_REVIEW, "submitted_at": clock.utcnow()},
            event=outbox.EventType.SUBMITTED,
            event_data={"note": kept} if kept else {},
            note=kept,
        )

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.SUBMIT_FOR_REVIEW,
        expected_version=expected_version, change=change, include=include,
    )  # fmt: skip


async def request_changes(
    *,
    id: int,
    viewer: Viewer,
    note_text: str,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """IN_REVIEW -> DRAFT, with the editor's note kept on the revision: back to the author,
    who may edit its draft again and resubmit it."""
    kept = note(note_text, required=True)

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        if current.status != ContentStatus.IN_REVIEW:
            shown = visibility.status_at(current, clock.utcnow()).name
            raise Conflict(f"only an item in review can be sent back; the item is {shown}")
        return editing.Change(
            {"status": ContentStatus.DRAFT, "submitted_at": None},
            event=outbox.EventType.CHANGES_REQUESTED,
            event_data={"note": kept},
            note=kept,
        )

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.REQUEST_CHANGES,
        expected_version=expected_version, change=change, include=include,
    )  # fmt: skip
