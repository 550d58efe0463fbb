from __future__ import annotations

import strawberry

from cms.content.links import Links
from cms.content.records import MediaRecord
from schema.types.nodes import Node, encode_id

__all__ = ["Media"]


@strawberry.type(description="An image or other stored upload.")
class Media(Node):
    url: str
    mime_type: str
    width: int | None
    height: int | None
    alt_text: str | None
    caption: str | None
    credit: str | None

    @classmethod
    def from_record(cls, record: MediaRecord | None, links: Links) -> Media | None:
        if record is None:
            return None
        return cls(
            id=encode_id("Media", record.id),
            url=links.media_url(record.key),
            mime_type=record.mime_type,
            width=record.width,
            height=record.height,
            alt_text=record.alt_text,
            caption=record.caption,
            credit=record.credit,
        )
