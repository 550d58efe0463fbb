"""Plain read-side records: what the read paths return (no live ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cms.models import AuthorKind, ContentKind, ContentStatus

__all__ = ["AuthorRecord", "ContentRecord", "MediaRecord", "SectionRecord", "TagRecord"]


@dataclass(slots=True)
class MediaRecord:
    id: int
    key: str
    mime_type: str
    width: int | None = None
    height: int | None = None
    alt_text: str | None = None
    caption: str | None = None
    credit: str | None = None


@dataclass(slots=True)
class SectionRecord:
    id: int
    name: str
    slug: str


@dataclass(slots=True)
class TagRecord:
    id: int
    name: str
    slug: str


@dataclass(slots=True)
class AuthorRecord:
    id: int
    name: str
    slug: str
    kind: AuthorKind
    bio: str | None = None
    email: str | None = None
    avatar: MediaRecord | None = None


@dataclass(slots=True)
class ContentRecord:
    id: int
    kind: ContentKind
    status: ContentStatus
    title: str
    slug: str
    locale: str
    version: int
    updated_at: datetime
    published_at: datetime | None = None
    dek: str | None = None
    body: str | None = None
    reading_time_minutes: int = 1
    description: str | None = None
    video_url: str | None = None
    duration_seconds: int | None = None
    show: str | None = None
    episode_number: int | None = None
    created_by_token_id: int | None = None
    section: SectionRecord | None = None
    hero_image: MediaRecord | None = None
    authors: list[AuthorRecord] = field(default_factory=list)
    tags: list[TagRecord] = field(default_factory=list)
