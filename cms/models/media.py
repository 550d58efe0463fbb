from __future__ import annotations

from tortoise import fields

from cms.models.base import TimestampedModel

__all__ = ["Media"]


class Media(TimestampedModel):
    # An image or other upload. the key names the stored file under CMS_MEDIA_DIR.

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)
    mime_type = fields.CharField(max_length=100)
    size_bytes = fields.IntField(null=True)
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    alt_text = fields.CharField(max_length=500, null=True)
    caption = fields.TextField(null=True)
    credit = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "media"
