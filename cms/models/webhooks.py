from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index

from cms.models.base import TimestampedModel

__all__ = ["DeliveryStatus", "Webhook", "WebhookDelivery"]


class DeliveryStatus(StrEnum):
    """Where a delivery stands: waiting for its next attempt, delivered, or out of attempts."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Webhook(TimestampedModel):
    # A receiver of signed content events. The signing secret is kept (it signs every
    # delivery) but shown only once, when the webhook is created.
    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    events: fields.Field[list[str]] = fields.JSONField(default=list)
    secret = fields.CharField(max_length=100)
    created_by = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "webhook"


class WebhookDelivery(TimestampedModel):
    # One event for one webhook: recorded before it is sent, retried until delivered or
    # out of attempts. message_id is the webhook-id header, the same on every retry.
    id = fields.IntField(primary_key=True)
    message_id = fields.CharField(max_length=64, unique=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", on_delete=fields.CASCADE, related_name="deliveries"
    )
    event_type = fields.CharField(max_length=32)
    body: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=32, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (
            Index(fields=("status", "next_attempt_at"), name="webhook_delivery_due_idx"),
            Index(fields=("webhook_id", "id"), name="webhook_delivery_webhook_idx"),
        )
