from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["OutboxEvent"]


class OutboxEvent(Model):
    # A content event recorded in the same transaction as the change it describes.

    id = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=32)
    content_id = fields.IntField()
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    occurred_at = fields.DatetimeField()
    dispatched_at = fields.DatetimeField(null=True)
    # A dispatcher claims a batch (claimed_by) until claimed_until; after that another
    # may take it over, so a crashed worker's events are still dispatched.
    claimed_by = fields.CharField(max_length=32, null=True)
    claimed_until = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_event"
        indexes = (("dispatched_at", "id"),)
