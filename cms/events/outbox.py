"""The outbox: an event row written in the same transaction as the change it describes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from cms import clock
from cms.models import OutboxEvent

__all__ = ["EventType", "record"]


class EventType(StrEnum):
    PUBLISHED = "CONTENT_PUBLISHED"
    UPDATED = "CONTENT_UPDATED"
    UNPUBLISHED = "CONTENT_UNPUBLISHED"
    DELETED = "CONTENT_DELETED"


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
