"""Plain read-side records: what the read paths return (no live ORM rows)."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any

from cms.models import AuthorKind, ContentKind, ContentStatus

__all__ = [
    "CONTENT_COLUMNS",
    "LAZY_COLUMNS",
    "RESTORABLE",
    "AuthorRecord",
    "ContentRecord",
    "CorrectionRecord",
    "MediaRecord",
    "SectionRecord",
    "TagRecord",
    "public_fields",
]


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


@dataclass(frozen=True, slots=True)
class CorrectionRecord:
    """A public correction of an item: when it was made and what it says."""

    id: int
    at: datetime
    text: str


_ARTICLE = (ContentKind.ARTICLE,)
_VIDEO = (ContentKind.VIDEO_EPISODE,)


def _column(
    default: Any = MISSING,
    *,
    restorable: bool = False,
    lazy: bool = False,
    internal: bool = False,
    kinds: tuple[ContentKind, ...] = tuple(ContentKind),
) -> Any:
    """A column of the content table. `restorable`: a restore brings it back from a revision
    (content, not publication state); `lazy`: read only when a read asks for it;
    `internal`: never shown to integrations as it is (ids of relations, the creator);
    `kinds`: the kinds of content the field belongs to."""
    metadata = {
        "column": True,
        "restorable": restorable,
        "lazy": lazy,
        "internal": internal,
        "kinds": kinds,
    }
    return field(default=default, metadata=metadata)


@dataclass(slots=True, kw_only=True)
class ContentRecord:
    """A content item as every read path sees it: the one description of its shape.

    The content table's columns, what a revision restores and what a read selects are all
    derived from these fields (`CONTENT_COLUMNS`, `LAZY_COLUMNS`, `RESTORABLE`). A new plain
    field is a model field with its migration, a line here, and its GraphQL field."""

    id: int = _column()
    kind: ContentKind = _column()
    status: ContentStatus = _column()
    title: str = _column(restorable=True)
    slug: str = _column(restorable=True)
    locale: str = _column(restorable=True)
    version: int = _column()
    updated_at: datetime = _column()
    published_at: datetime | None = _column(None)
    first_published_at: datetime | None = _column(None)
    significantly_updated_at: datetime | None = _column(None)
    expires_at: datetime | None = _column(None)
    pinned_at: datetime | None = _column(None)
    pinned_until: datetime | None = _column(None)
    submitted_at: datetime | None = _column(None, internal=True)
    story_id: int | None = _column(None, internal=True)
    dek: str | None = _column(None, restorable=True)
    body: str | None = _column(None, restorable=True, lazy=True, kinds=_ARTICLE)
    reading_time_minutes: int = _column(1, restorable=True, kinds=_ARTICLE)
    description: str | None = _column(None, restorable=True, kinds=_VIDEO)
    video_url: str | None = _column(None, restorable=True, kinds=_VIDEO)
    duration_seconds: int | None = _column(None, restorable=True, kinds=_VIDEO)
    show: str | None = _column(None, restorable=True, kinds=_VIDEO)
    episode_number: int | None = _column(None, restorable=True, kinds=_VIDEO)
    section_id: int | None = _column(None, restorable=True, internal=True)
    hero_image_id: int | None = _column(None, restorable=True, internal=True)
    created_by_token_id: int | None = _column(None, internal=True)
    # Relations, filled by the read that needs them.
    section: SectionRecord | None = None
    hero_image: MediaRecord | None = None
    authors: list[AuthorRecord] = field(default_factory=list)
    tags: list[TagRecord] = field(default_factory=list)


def _columns(*, lazy: bool | None = None, restorable: bool | None = None) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in fields(ContentRecord)
        if f.metadata.get("column")
        and (lazy is None or f.metadata["lazy"] == lazy)
        and (restorable is None or f.metadata["restorable"] == restorable)
    )


CONTENT_COLUMNS = _columns(lazy=False)
"""The columns every read of content selects."""
LAZY_COLUMNS = _columns(lazy=True)
"""Columns read only when asked for (the body)."""
RESTORABLE = _columns(restorable=True)
"""The fields a restore brings back (status and publication times are not content)."""


def public_fields(kind: ContentKind) -> tuple[str, ...]:
    """The columns an item of `kind` shows as they are (ids of relations and the creator
    are internal; other kinds' fields are absent)."""
    return tuple(
        f.name
        for f in fields(ContentRecord)
        if f.metadata.get("column") and not f.metadata["internal"] and kind in f.metadata["kinds"]
    )
