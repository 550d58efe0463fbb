"""Webhooks and their deliveries (admins only), and the result unions of their mutations."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from cms.models import Webhook as WebhookRow
from cms.models import WebhookDelivery as DeliveryRow
from cms.webhooks import service
from schema.types.errors import ConflictError, NotFoundError, ValidationError
from schema.types.nodes import Node, encode_id

__all__ = [
    "Webhook",
    "WebhookDelivery",
    "WebhookDeliveryResult",
    "WebhookDeliveryStatus",
    "WebhookEventType",
    "WebhookResult",
]


@strawberry.enum(description="Content events a webhook can subscribe to.")
class WebhookEventType(Enum):
    CONTENT_PUBLISHED = "CONTENT_PUBLISHED"
    CONTENT_UPDATED = "CONTENT_UPDATED"
    CONTENT_UNPUBLISHED = "CONTENT_UNPUBLISHED"
    CONTENT_DELETED = "CONTENT_DELETED"


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@strawberry.type(
    description="One event for one webhook: sent, retried with backoff until delivered or "
    "out of attempts. messageId is the webhook-id header, the same on every attempt."
)
class WebhookDelivery(Node):
    message_id: str
    event_type: WebhookEventType
    status: WebhookDeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: DeliveryRow) -> WebhookDelivery:
        return cls(
            id=encode_id("WebhookDelivery", row.id),
            message_id=row.message_id,
            event_type=WebhookEventType(row.event_type),
            status=WebhookDeliveryStatus(row.status),
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A receiver of signed content events (Standard Webhooks).")
class Webhook(Node):
    url: str
    events: list[WebhookEventType]
    created_at: datetime
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_…): in createWebhook's answer only.",
    )
    pk: strawberry.Private[int] = 0

    @strawberry.field(description="The newest deliveries first.")
    async def deliveries(self, first: int | None = 20) -> list[WebhookDelivery]:
        rows = await service.deliveries_of(webhook_id=self.pk, first=20 if first is None else first)
        return [WebhookDelivery.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: WebhookRow, *, secret: str | None = None) -> Webhook:
        return cls(
            id=encode_id("Webhook", row.id),
            url=row.url,
            events=[WebhookEventType(event) for event in row.events],
            created_at=row.created_at,
            secret=secret,
            pk=row.id,
        )


WebhookResult = Annotated[
    Webhook | ValidationError | NotFoundError | ConflictError, strawberry.union("WebhookResult")
]
WebhookDeliveryResult = Annotated[
    WebhookDelivery | NotFoundError, strawberry.union("WebhookDeliveryResult")
]
