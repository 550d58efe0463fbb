"""Plain records of webhooks and their deliveries: what the webhook services return (no
live ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cms.events.outbox import EventType
from cms.models import DeliveryStatus, Webhook, WebhookDelivery

__all__ = ["DeliveryRecord", "DeliveryStatus", "EventType", "WebhookRecord"]


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """A receiver of signed content events. Its signing secret is not part of it."""

    id: int
    url: str
    events: tuple[EventType, ...]
    created_at: datetime

    @classmethod
    def of(cls, row: Webhook) -> WebhookRecord:
        return cls(
            id=row.id,
            url=row.url,
            events=tuple(EventType(event) for event in row.events),
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One event for one webhook. `message_id` is the webhook-id header of every attempt."""

    id: int
    message_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryRecord:
        return cls(
            id=row.id,
            message_id=row.message_id,
            event_type=EventType(row.event_type),
            status=DeliveryStatus(row.status),
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
        )
