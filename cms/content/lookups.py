"""Batch readers: content rows and their relations, one query per relation per page.

A page of any size costs at most three queries: the items (with section and hero image
joined in), their bylines (with avatars joined in) and their tags. Rows come back as
plain records; no ORM model is instantiated on the read path.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tortoise.queryset import QuerySet, ValuesQuery

from cms import prepared
from cms.content import slugs, text
from cms.content.records import (
    CONTENT_COLUMNS,
    LAZY_COLUMNS,
    AuthorRecord,
    ContentRecord,
    CorrectionRecord,
    MediaRecord,
    SectionRecord,
    TagRecord,
)
from cms.content.revisions import RevisionRecord
from cms.models import (
    Author,
    Content,
    ContentAuthor,
    ContentTag,
    Correction,
    Media,
    Revision,
    Section,
    Tag,
)

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "Include",
    "attach_relations",
    "author",
    "authors_for",
    "content_query",
    "content_records",
    "media",
    "prepared_records",
    "prepared_statements",
    "records_by_ids",
    "corrections_for",
    "revisions_for",
    "section",
    "sections",
    "tag",
    "tags_for",
]

_MEDIA_COLUMNS = ("id", "key", "mime_type", "width", "height", "alt_text", "caption", "credit")


@dataclass(frozen=True, slots=True)
class Include:
    """Which parts of a content item a read needs (chosen from the GraphQL selection)."""

    body: bool = False
    section: bool = False
    hero_image: bool = False
    authors: bool = False
    avatars: bool = False
    tags: bool = False


EVERYTHING = Include(
    body=True, section=True, hero_image=True, authors=True, avatars=True, tags=True
)
NOTHING = Include()
"""The item's own columns only (no body, no relations)."""


def _joined(prefix: str, relation: str, columns: Iterable[str]) -> dict[str, str]:
    return {f"{prefix}{column}": f"{relation}__{column}" for column in columns}


def _media(row: dict[str, Any], prefix: str) -> MediaRecord | None:
    if row.get(f"{prefix}id") is None:
        return None
    return MediaRecord(**{column: row[f"{prefix}{column}"] for column in _MEDIA_COLUMNS})


def content_query(query: QuerySet[Content], include: Include) -> ValuesQuery[Literal[False]]:
    """The one SELECT that reads `query`'s items, with their section and hero image joined
    in when `include` asks for them (tests EXPLAIN it)."""
    columns = CONTENT_COLUMNS + (LAZY_COLUMNS if include.body else ())
    joined: dict[str, str] = {}
    if include.section:
        joined |= _joined("section__", "section", ("id", "name", "slug"))
    if include.hero_image:
        joined |= _joined("hero__", "hero_image", _MEDIA_COLUMNS)
    return query.values(*columns, **joined)


async def content_records(query: QuerySet[Content], include: Include) -> list[ContentRecord]:
    """Run `query` (filtered, ordered, limited) as one SELECT and return records."""
    return _records(await content_query(query, include), include)


_CONTENT = prepared.Statements(Content)


def prepared_statements() -> prepared.Statements:
    """The prepared reads of content (their count is bounded; tests check it)."""
    return _CONTENT


async def prepared_records(
    shape: Hashable,
    build: Callable[[prepared.Markers], QuerySet[Content]],
    values: Mapping[str, Any],
    include: Include,
    *,
    seeks: bool,
) -> list[ContentRecord]:
    """`content_records` of the query `build` makes, prepared once per `shape` (and the
    columns `include` reads) and run with `values` bound to its markers. A query that
    `seeks` finds its rows through an index without scanning (`Statement.rows`)."""
    columns = (include.body, include.section, include.hero_image)
    connection, statement = _CONTENT.get(
        (shape, columns), lambda markers: content_query(build(markers), include)
    )
    return _records(await statement.rows(connection, values, seeks=seeks), include)


async def records_by_ids(ids: Sequence[int], include: Include) -> list[ContentRecord]:
    """The items `ids` (any status; in no particular order): one prepared query."""
    if not ids:
        return []
    count = len(ids)
    return await prepared_records(
        ("ids", count),
        lambda markers: Content.filter(id__in=_ids(markers, count)),
        _id_values(ids),
        include,
        seeks=True,
    )


def _records(rows: list[dict[str, Any]], include: Include) -> list[ContentRecord]:
    columns = CONTENT_COLUMNS + (LAZY_COLUMNS if include.body else ())
    records = []
    for row in rows:
        record = ContentRecord(**{column: row[column] for column in columns})
        if include.section and row["section__id"] is not None:
            record.section = SectionRecord(
                row["section__id"], row["section__name"], row["section__slug"]
            )
        if include.hero_image:
            record.hero_image = _media(row, "hero__")
        records.append(record)
    return records


def _ids(markers: prepared.Markers, count: int) -> list[int]:
    return [markers.int(f"id{index}") for index in range(count)]


def _id_values(ids: Sequence[int]) -> dict[str, int]:
    return {f"id{index}": id for index, id in enumerate(ids)}


_AUTHOR_COLUMNS = ("id", "name", "slug", "kind", "bio", "email")


def _author(row: dict[str, Any], prefix: str, *, avatar: bool) -> AuthorRecord:
    """An author from a row whose author columns start with `prefix`."""
    return AuthorRecord(
        id=row[f"{prefix}id"],
        name=row[f"{prefix}name"],
        slug=row[f"{prefix}slug"],
        kind=row[f"{prefix}kind"],  # an AuthorKind already: the statement's converter
        bio=row[f"{prefix}bio"],
        email=row[f"{prefix}email"],
        avatar=_media(row, "avatar__") if avatar else None,
    )


_AUTHORS = prepared.Statements(Author)
_BYLINES = prepared.Statements(ContentAuthor)
_TAGS = prepared.Statements(ContentTag)


def _bylines_query(markers: prepared.Markers, count: int, avatars: bool) -> ValuesQuery[Any]:
    joined = _joined("author__", "author", _AUTHOR_COLUMNS)
    if avatars:
        joined |= _joined("avatar__", "author__avatar", _MEDIA_COLUMNS)
    return (
        ContentAuthor.filter(content_id__in=_ids(markers, count))
        .order_by("content_id", "position", "id")
        .values("content_id", **joined)
    )


async def authors_for(
    content_ids: Sequence[int], *, avatars: bool = False
) -> dict[int, list[AuthorRecord]]:
    """Bylines in order, per content id: one query."""
    if not content_ids:
        return {}
    connection, statement = _BYLINES.get(
        (len(content_ids), avatars),
        lambda markers: _bylines_query(markers, len(content_ids), avatars),
    )
    bylines: dict[int, list[AuthorRecord]] = {}
    for row in await statement.rows(connection, _id_values(content_ids), seeks=True):
        bylines.setdefault(row["content_id"], []).append(_author(row, "author__", avatar=avatars))
    return bylines


def _tags_query(markers: prepared.Markers, count: int) -> ValuesQuery[Any]:
    return (
        ContentTag.filter(content_id__in=_ids(markers, count))
        .order_by("content_id", "tag__name")
        .values("content_id", tag_id="tag__id", tag_name="tag__name", tag_slug="tag__slug")
    )


async def tags_for(content_ids: Sequence[int]) -> dict[int, list[TagRecord]]:
    """Tags by name, per content id: one query."""
    if not content_ids:
        return {}
    connection, statement = _TAGS.get(
        len(content_ids), lambda markers: _tags_query(markers, len(content_ids))
    )
    tags: dict[int, list[TagRecord]] = {}
    for row in await statement.rows(connection, _id_values(content_ids), seeks=True):
        tags.setdefault(row["content_id"], []).append(
            TagRecord(row["tag_id"], row["tag_name"], row["tag_slug"])
        )
    return tags


async def attach_relations(records: Sequence[ContentRecord], include: Include) -> None:
    """Fill bylines and tags of `records` in place: at most one query each."""
    ids = [record.id for record in records]
    if include.authors:
        bylines = await authors_for(ids, avatars=include.avatars)
        for record in records:
            record.authors = bylines.get(record.id, [])
    if include.tags:
        tags = await tags_for(ids)
        for record in records:
            record.tags = tags.get(record.id, [])


async def author(
    *, slug: str | None = None, id: int | None = None, avatar: bool = True
) -> AuthorRecord | None:
    """One author by slug or id, with the avatar joined in (a prepared seek)."""
    if slug is not None:
        text.check(slug, field="slug")
    by = "slug" if slug is not None else "id"

    def build(markers: prepared.Markers) -> ValuesQuery[Any]:
        key = markers.str("key") if by == "slug" else markers.int("key")
        joined = _joined("avatar__", "avatar", _MEDIA_COLUMNS) if avatar else {}
        return Author.filter(**{by: key}).limit(1).values(*_AUTHOR_COLUMNS, **joined)

    connection, statement = _AUTHORS.get((by, avatar), build)
    rows = await statement.rows(connection, {"key": slug if by == "slug" else id}, seeks=True)
    return _author(rows[0], "", avatar=avatar) if rows else None


async def sections() -> list[SectionRecord]:
    rows = await Section.all().order_by("name").values_list("id", "name", "slug")
    return [SectionRecord(*row) for row in rows]


async def section(*, id: int | None = None, slug: str | None = None) -> SectionRecord | None:
    """One section by id or slug."""
    if _longer_than_any(slug):
        return None
    rows = await Section.filter(**_key(id, slug)).values_list("id", "name", "slug")
    return SectionRecord(*rows[0]) if rows else None


async def tag(*, id: int | None = None, slug: str | None = None) -> TagRecord | None:
    """One tag by id or slug."""
    if _longer_than_any(slug):
        return None
    rows = await Tag.filter(**_key(id, slug)).values_list("id", "name", "slug")
    return TagRecord(*rows[0]) if rows else None


def _longer_than_any(slug: str | None) -> bool:
    """A tag's or section's slug longer than its column: there is none (and Tortoise
    refuses such a value in a filter on PostgreSQL)."""
    return slug is not None and len(slug) > slugs.MAX_TAXONOMY_LENGTH


def _key(id: int | None, slug: str | None) -> dict[str, int | str]:
    if slug is not None:
        text.check(slug, field="slug")
        return {"slug": slug}
    if id is None:
        raise TypeError("an id or a slug is needed")
    return {"id": id}


async def media(*, id: int) -> MediaRecord | None:
    rows = await Media.filter(id=id).values(*_MEDIA_COLUMNS)
    return MediaRecord(**rows[0]) if rows else None


async def revisions_for(content_ids: Sequence[int]) -> dict[int, list[RevisionRecord]]:
    """Revisions per content id, newest first: one query."""
    if not content_ids:
        return {}
    rows = await (
        Revision.filter(content_id__in=list(content_ids))
        .order_by("content_id", "-version")
        .values("id", "content_id", "version", "created_at", "created_by", "title", "note")
    )
    grouped: dict[int, list[RevisionRecord]] = {}
    for row in rows:
        grouped.setdefault(row["content_id"], []).append(RevisionRecord(**row))
    return grouped


async def corrections_for(content_ids: Sequence[int]) -> dict[int, list[CorrectionRecord]]:
    """Corrections per content id, oldest first: one query."""
    if not content_ids:
        return {}
    rows = await (
        Correction.filter(content_id__in=list(content_ids))
        .order_by("content_id", "id")
        .values("id", "content_id", "created_at", "text")
    )
    grouped: dict[int, list[CorrectionRecord]] = {}
    for row in rows:
        grouped.setdefault(row["content_id"], []).append(
            CorrectionRecord(id=row["id"], at=row["created_at"], text=row["text"])
        )
    return grouped
