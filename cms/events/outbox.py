"""The outbox: an event row written in the same transaction as the change it describes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from cms import clock
from cms.models import Content, OutboxEvent

__all__ = ["EventType", "record", "record_change", "snapshot"]


class EventType(StrEnum):
    PUBLISHED = "CONTENT_PUBLISHED"
    UPDATED = "CONTENT_UPDATED"
    UNPUBLISHED = "CONTENT_UNPUBLISHED"
    DELETED = "CONTENT_DELETED"
    SUBMITTED = "CONTENT_SUBMITTED"
    CHANGES_REQUESTED = "CONTENT_CHANGES_REQUESTED"
    CORRECTED = "CONTENT_CORRECTED"
    KILLED = "CONTENT_KILLED"
    EXPIRED = "CONTENT_EXPIRED"


async def record(
    *,
    type: EventType,
    content_id: int,
    payload: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> OutboxEvent:
    """Write the event inside the caller's transaction (`connection`)."""
    return await OutboxEvent.create(
        type=type.value,
        content_id=content_id,
        payload=payload,
        occurred_at=clock.utcnow(),
        using_db=connection,
    )


def snapshot(content: Content) -> dict[str, Any]:
    """What an event remembers of the item as it was when recorded: enough to judge then
    whether it was public (`cms.content.visibility`) and to name it once it is gone."""
    return {
        "id": content.id,
        "kind": str(content.kind),
        "status": str(content.status),
        "version": content.version,
        "slug": content.slug,
        "title": content.title,
        "published_at": content.published_at.isoformat() if content.published_at else None,
        "expires_at": content.expires_at.isoformat() if content.expires_at else None,
        "story_id": content.story_id,
    }


async def record_change(
    *,
    type: EventType,
    content: Content,
    connection: BaseDBAsyncClient,
    changed: Iterable[str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> OutboxEvent:
    """Record an event about `content`, with its snapshot, in the caller's transaction.
    `changed` names the fields the change wrote (columns, `author_ids`, `tag_ids`), when
    the caller knows them: the response cache then knows whether the item moved in or out
    of lists, or only changed its words. `data` is what the event carries besides (a
    kill's `reason`, a correction, `withdrawn` when a public item left the public paths)."""
    payload = snapshot(content) | dict(data or {})
    if changed is not None:
        payload["changed"] = sorted(set(changed))
    return await record(type=type, content_id=content.id, payload=payload, connection=connection)
