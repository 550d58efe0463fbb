from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["TimestampedModel"]


class TimestampedModel(Model):
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True
