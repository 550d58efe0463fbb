"""Content as JSON for integrations (webhook bodies): the API's field names and IDs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cms.content import ids, visibility
from cms.content.links import Links
from cms.content.records import AuthorRecord, ContentRecord, MediaRecord
from cms.models import ContentKind

__all__ = ["content_payload"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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


def content_payload(record: ContentRecord, links: Links, now: datetime) -> dict[str, Any]:
    is_article = record.kind == ContentKind.ARTICLE
    payload: dict[str, Any] = {
        "id": ids.content_id(record.kind, record.id),
        "kind": record.kind.name,
        "title": record.title,
        "slug": record.slug,
        "dek": record.dek,
        "status": visibility.status_at(record, now).name,
        "publishedAt": _iso(record.published_at),
        "updatedAt": _iso(record.updated_at),
        "version": record.version,
        "locale": record.locale,
        "url": links.content_url(record.kind, record.slug),
        "section": (
            {
                "id": ids.encode("Section", record.section.id),
                "name": record.section.name,
                "slug": record.section.slug,
            }
            if record.section
            else None
        ),  # fmt: skip
        "authors": [_author(author, links) for author in record.authors],
        "tags": [
            {"id": ids.encode("Tag", tag.id), "name": tag.name, "slug": tag.slug}
            for tag in record.tags
        ],
        "heroImage": _media(record.hero_image, links),
    }
    if is_article:
        payload["body"] = record.body
        payload["readingTimeMinutes"] = record.reading_time_minutes
    else:
        payload |= {
            "description": record.description,
            "videoUrl": record.video_url,
            "durationSeconds": record.duration_seconds,
            "show": record.show,
            "episodeNumber": record.episode_number,
        }
    return payload
