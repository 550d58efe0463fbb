"""Corrections: the public record of what a published story got wrong. Appended only: no
mutation edits or removes one, and restoring an older revision keeps them (they are not
part of a revision's fields). Each is a new version of the item and a CONTENT_CORRECTED
event; RSS, JSON Feed and every read path show them under the item."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, ids, lookups, text, visibility
from cms.content.records import ContentRecord
from cms.errors import Conflict, Invalid
from cms.events import outbox
from cms.models import Content, Correction

__all__ = ["MAX_LENGTH", "add"]

MAX_LENGTH = 5000
"""The longest correction."""


async def add(
    *,
    id: int,
    viewer: Viewer,
    correction: str,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """Append a dated correction to a public item."""
    words = text.check(correction, field="text").strip()
    if not words:
        raise Invalid("text must say what was corrected", field="text")
    if len(words) > MAX_LENGTH:
        raise Invalid(f"text must be at most {MAX_LENGTH} characters", field="text")

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        now = clock.utcnow()
        if not visibility.is_public(current, now):
            shown = visibility.status_at(current, now).name
            raise Conflict(f"only a published item can be corrected; the item is {shown}")
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
