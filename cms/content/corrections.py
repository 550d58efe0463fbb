"""Corrections: the public record of what a published story got wrong. Appended only: no
mutation edits or removes one, and restoring an older revision keeps them (they are not
part of a revision's fields). Each is a new version of the item and a CONTENT_CORRECTED
event; RSS, JSON Feed and every read path show them under the item."""

from __future__ import annotations

from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, ids, lookups, text, visibility
from cms.content.records import ContentRecord
from cms.errors import Conflict, Invalid
from cms.events import outbox
from cms.models import Content, Correction

__all__ = ["MAX_LENGTH", "RETRY_WINDOW", "add"]

MAX_LENGTH = 5000
"""The longest correction."""
RETRY_WINDOW = timedelta(minutes=10)
"""The same text again within this time of the item's latest correction is a retry (a
client that timed out, a double click): it answers the item as it is, adding nothing. A
correction is never removed, so a duplicate would stay for good."""


async def add(
    *,
    id: int,
    viewer: Viewer,
    correction: str,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """Append a dated correction to a public item (a retry of its latest one, within
    RETRY_WINDOW, adds nothing)."""
    words = text.check(correction, field="text").strip()
    if not words:
        raise Invalid("text must say what was corrected", field="text")
    if len(words) > MAX_LENGTH:
        raise Invalid(f"text must be at most {MAX_LENGTH} characters", field="text")

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change | None:
        now = clock.utcnow()
        if not visibility.is_public(current, now):
            shown = visibility.status_at(current, now).name
            raise Conflict(f"only a published item can be corrected; the item is {shown}")
        latest = (
            await Correction.filter(content_id=current.id)
            .using_db(connection)
            .order_by("-id")
            .first()
        )
        if latest is not None and latest.text == words and now - latest.created_at < RETRY_WINDOW:
            return None  # a retry of the same correction: it is there already, once
        row = await Correction.create(
            content_id=current.id,
            text=words,
            created_by=viewer.name,
            created_at=now,
            using_db=connection,
        )
        return editing.Change(
            {},
            event=outbox.EventType.CORRECTED,
            event_data={
                "correction": {
                    "id": ids.encode("Correction", row.id),  # as the API shows it
                    "at": now.isoformat(),
                    "text": words,
                },
            },
            note=words,
        )

    return await editing.save(
        id=id, viewer=viewer, action=policy.Action.CORRECT, expected_version=expected_version,
        change=change, include=include,
    )  # fmt: skip
