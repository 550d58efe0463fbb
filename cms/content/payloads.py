"""Content as JSON for integrations (webhook bodies): the API's field names, values and IDs.

Built from the record's own description (`records.public_fields`), so a new field reaches
integrations with no change here; a test holds it equal to the GraphQL answer for the
same fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from cms.content import ids, pins, records, visibility
from cms.content.links import Links
from cms.content.records import AuthorRecord, ContentRecord, CorrectionRecord, MediaRecord

__all__ = ["content_payload"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _json(value: Any) -> Any:
    """A scalar as GraphQL serialises it: enums by name, times in ISO 8601."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _media(media: MediaRecord | None, links: Links) -> dict[str, Any] | None:
    if media is None:
        return None
    return {
        "id": ids.encode("Media", media.id),
        "url": links.media_url(media.key),
        "mimeType": media.mime_type,
        "width": media.width,
        "height": media.height,
        "altText": media.alt_text,
        "caption": media.caption,
        "credit": media.credit,
    }


def _author(author: AuthorRecord, links: Links) -> dict[str, Any]:
    return {
        "id": ids.encode("Author", author.id),
        "name": author.name,
        "slug": author.slug,
        "kind": author.kind.name,
        "bio": author.bio,
        "email": author.email,
        "avatar": _media(author.avatar, links),
    }


def content_payload(
    record: ContentRecord,
    links: Links,
    now: datetime,
    corrections: Sequence[CorrectionRecord] = (),
) -> dict[str, Any]:
    """The item as the API shows it, with its `corrections` (cms.content.lookups)."""
    payload = {
        _camel(name): _json(getattr(record, name)) for name in records.public_fields(record.kind)
    }
    section = record.section
    payload |= {
        "id": ids.content_id(record.kind, record.id),
        "status": visibility.status_at(record, now).name,
        "pinnedAt": _json(pin.at) if (pin := pins.current(record, now)) else None,
        "pinnedUntil": _json(pin.until) if pin else None,
        "url": links.content_url(record.kind, record.slug, record.locale),
        "section": (
            {"id": ids.encode("Section", section.id), "name": section.name, "slug": section.slug}
            if section
            else None
        ),
        "authors": [_author(author, links) for author in record.authors],
        "tags": [
            {"id": ids.encode("Tag", tag.id), "name": tag.name, "slug": tag.slug}
            for tag in record.tags
        ],
        "heroImage": _media(record.hero_image, links),
        "corrections": [
            {"id": ids.encode("Correction", c.id), "at": _json(c.at), "text": c.text}
            for c in corrections
        ],
    }
    return payload
