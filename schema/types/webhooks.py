"""Webhooks and their deliveries (admins only), and the result unions of their mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from cms.webhooks import service
from cms.webhooks.records import DeliveryRecord, WebhookRecord
from schema.types.enums import DeliveryStatus, EventType
from schema.types.errors import ConflictError, NotFoundError, ValidationError
from schema.types.nodes import Node, encode_id

__all__ = [
    "Webhook",
    "WebhookDelivery",
    "WebhookDeliveryResult",
    "WebhookResult",
]


@strawberry.type(
    description="One event for one webhook: sent, retried with backoff until delivered or "
    "out of attempts. messageId is the webhook-id header, the same on every attempt."
)
class WebhookDelivery(Node):
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
    def from_record(cls, record: DeliveryRecord) -> WebhookDelivery:
        return cls(
            id=encode_id("WebhookDelivery", record.id),
            message_id=record.message_id,
            event_type=record.event_type,
            status=record.status,
            attempts=record.attempts,
            last_status_code=record.last_status_code,
            last_error=record.last_error,
            last_attempt_at=record.last_attempt_at,
            next_attempt_at=record.next_attempt_at,
            created_at=record.created_at,
        )


@strawberry.type(description="A receiver of signed content events (Standard Webhooks).")
class Webhook(Node):
    url: str
    events: list[EventType]
    created_at: datetime
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_…): in createWebhook's answer only.",
    )
    pk: strawberry.Private[int] = 0

    @strawberry.field(description="The newest deliveries first.")
    async def deliveries(self, first: int | None = 20) -> list[WebhookDelivery]:
        records = await service.deliveries_of(
            webhook_id=self.pk, first=20 if first is None else first
        )
        return [WebhookDelivery.from_record(record) for record in records]

    @classmethod
    def from_record(cls, record: WebhookRecord, *, secret: str | None = None) -> Webhook:
        return cls(
            id=encode_id("Webhook", record.id),
            url=record.url,
            events=list(record.events),
            created_at=record.created_at,
            secret=secret,
            pk=record.id,
        )


WebhookResult = Annotated[
    Webhook | ValidationError | NotFoundError | ConflictError, strawberry.union("WebhookResult")
]
WebhookDeliveryResult = Annotated[
    WebhookDelivery | NotFoundError, strawberry.union("WebhookDeliveryResult")
]
