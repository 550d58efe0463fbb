"""Export: the whole newsroom as newline-delimited JSON, in constant memory.

Sections, tags, media metadata, authors, content (each item with its revisions,
corrections and the key of its story) and webhooks, in that order, each read by keyset
pages of `BATCH` rows and written as it is read. Never a token or a secret: API tokens are
not exported at all, webhooks without their signing secret, preview links' signing key
neither. Media files are not in it (only their metadata): copy the media volume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from tortoise import Tortoise
from tortoise.functions import Min
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.models import (
    Author,
    Content,
    ContentAuthor,
    ContentKind,
    ContentTag,
    Correction,
    Media,
    Revision,
    Section,
    Tag,
    Webhook,
)
from cms.portability.lines import FORMAT, FORMAT_VERSION, dumps, time

__all__ = [
    "ARTICLE_FIELDS",
    "BATCH",
    "CONTENT_TIMES",
    "VIDEO_FIELDS",
    "content_lines",
    "export",
    "item_key",
]

BATCH = 500
"""Rows read per query: memory stays flat at any size."""

CONTENT_TIMES = (
    "created_at",
    "updated_at",
    "published_at",
    "first_published_at",
    "significantly_updated_at",
    "expires_at",
    "announce_at",
    "announce_expiry_at",
    "submitted_at",
    "pinned_at",
    "pinned_until",
)
ARTICLE_FIELDS = ("body",)
VIDEO_FIELDS = ("description", "video_url", "duration_seconds", "show", "episode_number")

M = TypeVar("M", bound=Model)
Progress = Callable[[int, int], None]


def item_key(*, external_id: str | None, slug: str, locale: str) -> str:
    """How lines name an item (a story's first item): its external id, else locale/slug."""
    return f"external_id:{external_id}" if external_id else f"slug:{locale}/{slug}"


async def _pages(model: type[M], batch: int) -> AsyncIterator[list[M]]:
    """Every row of `model` by id, `batch` at a time (keyset: each page costs the same)."""
    last = 0
    while True:
        rows = await model.filter(id__gt=last).order_by("id").limit(batch)
        if not rows:
            return
        yield rows
        last = cast(int, rows[-1].pk)


async def _slugs(
    model: type[Model], ids: Iterable[int | None], column: str = "slug"
) -> dict[int, str]:
    wanted = sorted({id for id in ids if id is not None})
    if not wanted:
        return {}
    return dict(await model.filter(id__in=wanted).values_list("id", column))


def _section(row: Section) -> dict[str, Any]:
    return {"type": "section", "slug": row.slug, "name": row.name}


def _tag(row: Tag) -> dict[str, Any]:
    return {"type": "tag", "slug": row.slug, "name": row.name}


def _media(row: Media) -> dict[str, Any]:
    return {
        "type": "media",
        "key": row.key,
        "mime_type": row.mime_type,
        "size_bytes": row.size_bytes,
        "width": row.width,
        "height": row.height,
        "alt_text": row.alt_text,
        "caption": row.caption,
        "credit": row.credit,
    }


async def _authors(rows: Sequence[Author]) -> list[dict[str, Any]]:
    avatars = await _slugs(Media, (cast(Any, row).avatar_id for row in rows), "key")
    return [
        {
            "type": "author",
            "slug": row.slug,
            "name": row.name,
            "kind": str(row.kind),
            "bio": row.bio,
            "email": row.email,
            "avatar": avatars.get(cast(Any, row).avatar_id),
        }
        for row in rows
    ]


def _webhook(row: Webhook) -> dict[str, Any]:
    # Never the secret: an import makes a new one.
    return {
        "type": "webhook",
        "url": row.url,
        "events": list(row.events),
        "created_by": row.created_by,
    }


class _Names:
    """Slugs (and media keys) for the ids a batch of content refers to."""

    def __init__(self) -> None:
        self.authors: dict[int, str] = {}
        self.tags: dict[int, str] = {}
        self.sections: dict[int, str] = {}
        self.media: dict[int, str] = {}

    async def load(
        self, authors: set[int], tags: set[int], sections: set[int], media: set[int]
    ) -> None:
        self.authors = await _slugs(Author, authors)
        self.tags = await _slugs(Tag, tags)
        self.sections = await _slugs(Section, sections)
        self.media = await _slugs(Media, media, "key")


def _ids(value: Any) -> list[int]:
    return [id for id in value if isinstance(id, int)] if isinstance(value, list) else []


def _snapshot(snapshot: dict[str, Any], names: _Names) -> dict[str, Any]:
    """A revision's snapshot with its ids replaced by slugs (media by key); an id whose
    row is gone is left out."""
    plain = dict(snapshot)
    if "author_ids" in plain:
        ids = _ids(plain.pop("author_ids"))
        plain["authors"] = [names.authors[id] for id in ids if id in names.authors]
    if "tag_ids" in plain:
        ids = _ids(plain.pop("tag_ids"))
        plain["tags"] = [names.tags[id] for id in ids if id in names.tags]
    if "section_id" in plain:
        plain["section"] = names.sections.get(plain.pop("section_id"))
    if "hero_image_id" in plain:
        plain["hero_image"] = names.media.get(plain.pop("hero_image_id"))
    return plain


async def _story_keys(rows: Sequence[Content]) -> dict[int, str]:
    """For each story of `rows`, the key of its first item (the lowest id still there)."""
    stories = sorted({row.story_id for row in rows if row.story_id is not None})
    if not stories:
        return {}
    firsts = await (
        Content.filter(story_id__in=stories)
        .annotate(first=Min("id"))
        .group_by("story_id")
        .values_list("story_id", "first")
    )
    first_ids = {cast(int, story): cast(int, first) for story, first in firsts}
    keys = {
        row["id"]: item_key(external_id=row["external_id"], slug=row["slug"], locale=row["locale"])
        for row in await Content.filter(id__in=list(first_ids.values())).values(
            "id", "external_id", "slug", "locale"
        )
    }
    return {story: keys[first] for story, first in first_ids.items() if first in keys}


async def content_lines(rows: Sequence[Content]) -> list[dict[str, Any]]:
    """The lines of these items: a fixed number of queries for any number of rows."""
    ids = [row.id for row in rows]
    bylines = await (
        ContentAuthor.filter(content_id__in=ids)
        .order_by("content_id", "position")
        .values_list("content_id", "author_id")
    )
    taggings = await ContentTag.filter(content_id__in=ids).values_list("content_id", "tag_id")
    revisions = await Revision.filter(content_id__in=ids).order_by("content_id", "version")
    corrections = await Correction.filter(content_id__in=ids).order_by("content_id", "id")
    author_ids = {cast(int, author) for _, author in bylines}
    tag_ids = {cast(int, tag) for _, tag in taggings}
    section_ids = {row.section_id for row in rows if row.section_id is not None}
    media_ids = {row.hero_image_id for row in rows if row.hero_image_id is not None}
    for revision in revisions:
        snapshot = revision.snapshot
        author_ids.update(_ids(snapshot.get("author_ids")))
        tag_ids.update(_ids(snapshot.get("tag_ids")))
        if isinstance(snapshot.get("section_id"), int):
            section_ids.add(snapshot["section_id"])
        if isinstance(snapshot.get("hero_image_id"), int):
            media_ids.add(snapshot["hero_image_id"])
    names = _Names()
    await names.load(author_ids, tag_ids, section_ids, media_ids)
    stories = await _story_keys(rows)

    by_item: dict[int, dict[str, list[Any]]] = {
        id: {"authors": [], "tags": [], "revisions": [], "corrections": []} for id in ids
    }
    # An author or tag deleted between these queries (a server writing meanwhile) is left
    # out, as a revision's vanished names are.
    for content_id, author_id in bylines:
        if author_id in names.authors:
            by_item[content_id]["authors"].append(names.authors[author_id])
    for content_id, tag_id in taggings:
        if tag_id in names.tags:
            by_item[content_id]["tags"].append(names.tags[tag_id])
    for revision in revisions:
        by_item[revision.content_id]["revisions"].append(
            {
                "version": revision.version,
                "title": revision.title,
                "created_by": revision.created_by,
                "created_at": time(revision.created_at),
                "note": revision.note,
                "snapshot": _snapshot(revision.snapshot, names),
            }
        )
    for correction in corrections:
        by_item[correction.content_id]["corrections"].append(
            {
                "at": time(correction.created_at),
                "text": correction.text,
                "created_by": correction.created_by,
            }
        )

    lines = []
    for row in rows:
        related = by_item[row.id]
        own = ARTICLE_FIELDS if row.kind == ContentKind.ARTICLE else VIDEO_FIELDS
        line: dict[str, Any] = {
            "type": "content",
            "kind": str(row.kind),
            "external_id": row.external_id,
            "slug": row.slug,
            "locale": row.locale,
            "status": str(row.status),
            "version": row.version,
            "title": row.title,
            "dek": row.dek,
            **{name: getattr(row, name) for name in own},
            **{name: time(getattr(row, name)) for name in CONTENT_TIMES},
            "section": names.sections.get(row.section_id) if row.section_id else None,
            "hero_image": names.media.get(row.hero_image_id) if row.hero_image_id else None,
            "authors": related["authors"],
            "tags": sorted(related["tags"]),
            "story": stories.get(row.story_id) if row.story_id is not None else None,
            "revisions": related["revisions"],
            "corrections": related["corrections"],
        }
        lines.append(line)
    return lines


async def _total() -> int:
    models: tuple[type[Model], ...] = (Section, Tag, Media, Author, Content, Webhook)
    return sum([await model.all().count() for model in models])


async def export(
    *, write: Callable[[bytes], object], progress: Progress | None = None, batch: int = BATCH
) -> dict[str, int]:
    """Write every line through `write`; answer how many lines of each type.

    On PostgreSQL every page is read in one REPEATABLE READ, READ ONLY transaction: one
    moment of the newsroom however long the export takes, and no lock that holds a
    writer. SQLite's writers would wait for such a transaction (this project's SQLite
    takes its write lock at BEGIN): there, export a `cms backup` copy for a consistent
    file of a newsroom being edited."""
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect != "postgres":
        return await _export(write=write, progress=progress, batch=batch)
    async with in_transaction() as snapshot:  # the models' queries below run in it
        await snapshot.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return await _export(write=write, progress=progress, batch=batch)


async def _export(
    *, write: Callable[[bytes], object], progress: Progress | None, batch: int
) -> dict[str, int]:
    counts = {"section": 0, "tag": 0, "media": 0, "author": 0, "content": 0, "webhook": 0}
    total = await _total()
    done = 0

    def emit(lines: Iterable[dict[str, Any]]) -> None:
        nonlocal done
        for line in lines:
            write(dumps(line))
            counts[line["type"]] += 1
            done += 1
        if progress is not None:
            progress(done, total)

    write(dumps({"type": "export", "format": FORMAT, "version": FORMAT_VERSION}))
    async for sections in _pages(Section, batch):
        emit(_section(row) for row in sections)
    async for tags in _pages(Tag, batch):
        emit(_tag(row) for row in tags)
    async for media in _pages(Media, batch):
        emit(_media(row) for row in media)
    async for authors in _pages(Author, batch):
        emit(await _authors(authors))
    async for contents in _pages(Content, batch):
        emit(await content_lines(contents))
    async for webhooks in _pages(Webhook, batch):
        emit(_webhook(row) for row in webhooks)
    if progress is not None:
        progress(done, total)
    return counts
