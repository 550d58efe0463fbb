"""Content: the interface shared by articles and video episodes, and their types."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cms.auth import policy
from cms.cache import tags
from cms.content import ids, ninjs, pins, records, rendering, visibility
from cms.content.links import Links
from cms.content.records import ContentRecord, CorrectionRecord
from cms.content.revisions import RevisionRecord
from cms.errors import NotFound
from schema.context import Info
from schema.permissions import require
from schema.types.enums import ContentKind, ContentStatus
from schema.types.media import Media
from schema.types.nodes import Node, encode_id
from schema.types.people import Author
from schema.types.taxonomy import Section, Tag

__all__ = [
    "Article",
    "BodyFormat",
    "Content",
    "ContentKind",
    "Correction",
    "ContentStatus",
    "Revision",
    "VideoEpisode",
    "content_from_record",
]


@strawberry.enum(description="How an article body is rendered.")
class BodyFormat(Enum):
    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"


@strawberry.type(description="One saved version of a content item.")
class Revision(Node):
    version: int
    created_at: datetime
    created_by: str | None
    title: str
    note: str | None = strawberry.field(
        description=(
            "The note of a review step (submitForReview, requestChanges), the reason of a "
            "kill or the text of a correction, when there was one."
        )
    )

    @classmethod
    def from_record(cls, record: RevisionRecord) -> Revision:
        return cls(
            id=encode_id("Revision", record.id),
            version=record.version,
            created_at=record.created_at,
            created_by=record.created_by,
            title=record.title,
            note=record.note,
        )


@strawberry.type(description="A public correction of a published item; appended only.")
class Correction:
    id: strawberry.ID
    at: datetime
    text: str

    @classmethod
    def from_record(cls, record: CorrectionRecord) -> Correction:
        return cls(
            id=strawberry.ID(encode_id("Correction", record.id)), at=record.at, text=record.text
        )


@strawberry.interface(description="An article or a video episode.")
class Content(Node):
    kind: ContentKind
    title: str
    slug: str
    dek: str | None
    status: ContentStatus
    published_at: datetime | None
    first_published_at: datetime | None = strawberry.field(
        description="The first publication; it never moves when republished or back-dated."
    )
    significantly_updated_at: datetime | None = strawberry.field(
        description=(
            "When a public item last changed in a way readers should know of (an update "
            "saved with significant: true; typo fixes leave it): frontends show it as "
            '"Updated".'
        )
    )
    expires_at: datetime | None = strawberry.field(
        description=(
            "When the item leaves every public path (publish(until:)); it reads EXPIRED "
            "from then on."
        )
    )
    pinned_at: datetime | None = strawberry.field(
        description="When the item was pinned (pin); null when it is not pinned."
    )
    pinned_until: datetime | None = strawberry.field(
        description="When the item's pin ends; null when it is not pinned or pinned until unpinned."
    )
    updated_at: datetime
    version: int
    locale: str
    url: str = strawberry.field(description="The item's page on the newsroom's website.")
    section: Section | None
    authors: list[Author]
    tags: list[Tag]
    hero_image: Media | None
    pk: strawberry.Private[int]
    # The story the item belongs to (cms.content.translations); None while it has none.
    story: strawberry.Private[int | None]

    @strawberry.field(
        description="Every saved version, newest first (token holders only).",
        extensions=require(policy.Action.READ_REVISIONS),
    )
    async def revisions(self, info: Info) -> list[Revision]:
        records = await info.context.loaders.revisions_by_content_id.load(self.pk)
        return [Revision.from_record(record) for record in records]

    @strawberry.field(
        description=(
            "The same story in other locales, by locale: its public items (all of them "
            "for token holders)."
        )
    )
    async def translations(self, info: Info) -> list[Content]:
        context = info.context
        # A first translation names the story after this item: its responses depend on it.
        story = self.story if self.story is not None else self.pk
        context.cache_tags.add(tags.story(story))
        if self.story is None:
            return []
        records = await context.loaders.translations(context.viewer, context.now).load(
            (self.pk, story)
        )
        context.cache_tags.shown(records)
        return [content_from_record(record, context.links, context.now) for record in records]

    @strawberry.field(description="Public corrections of the item, oldest first.")
    async def corrections(self, info: Info) -> list[Correction]:
        records = await info.context.loaders.corrections_by_content_id.load(self.pk)
        return [Correction.from_record(record) for record in records]

    @strawberry.field(
        description=(
            "The item as an IPTC ninjs 2.2 document, for wire partners: what GET "
            "/ninjs/{id} answers for a public item."
        )
    )
    async def ninjs(self, info: Info) -> JSON:
        source = await info.context.loaders.ninjs_sources.load(self.pk)
        if source is None:
            raise NotFound("the item is gone")  # deleted since this request read it
        info.context.cache_tags.shown([source.record])  # its bylines' names are in it
        context = info.context
        return JSON(ninjs.document(source.record, context.links, context.now, extras=source.extras))


@strawberry.type(description="A written story; the body is stored as Markdown.")
class Article(Content):
    reading_time_minutes: int
    markdown: strawberry.Private[str]

    @strawberry.field(description="The body as sanitized HTML (default), Markdown or text.")
    def body(self, format: BodyFormat | None = BodyFormat.HTML) -> str:
        if format is BodyFormat.MARKDOWN:
            return self.markdown
        if format is BodyFormat.TEXT:
            return rendering.to_text(self.markdown)
        return rendering.to_html(self.markdown)


@strawberry.type(description="An episode of a video show.")
class VideoEpisode(Content):
    description: str | None
    video_url: str
    duration_seconds: int | None
    show: str | None
    episode_number: int | None


# Record fields the GraphQL object computes rather than copies.
_COMPUTED = frozenset({"id", "status", "body", "pinned_at", "pinned_until"})


@functools.cache
def _copied(kind: ContentKind) -> tuple[tuple[str, ...], Callable[[ContentRecord], Any]]:
    """The fields an item of `kind` shows as stored: the record's public fields (its one
    description); each must be a field of the GraphQL type too, or building one fails.
    With them, one reader of all their values from a record."""
    names = tuple(name for name in records.public_fields(kind) if name not in _COMPUTED)
    return names, operator.attrgetter(*names)


def content_from_record(
    record: ContentRecord, links: Links, now: datetime
) -> Article | VideoEpisode:
    """The GraphQL object for a record whose relations are already loaded."""
    names, read = _copied(record.kind)
    values: dict[str, Any] = dict(zip(names, read(record), strict=True))
    values |= {
        "id": strawberry.ID(ids.content_id(record.kind, record.id)),
        "pk": record.id,
        "story": record.story_id,
        "status": visibility.status_at(record, now),
        "pinned_at": pin.at if (pin := pins.current(record, now)) else None,
        "pinned_until": pin.until if pin else None,
        "url": links.content_url(record.kind, record.slug, record.locale),
        "section": Section.from_record(record.section) if record.section else None,
        "authors": [Author.from_record(author, links) for author in record.authors],
        "tags": [Tag.from_record(tag) for tag in record.tags],
        "hero_image": Media.from_record(record.hero_image, links),
    }
    if record.kind == ContentKind.ARTICLE:
        return Article(**values, markdown=record.body or "")
    values["video_url"] = record.video_url or ""
    return VideoEpisode(**values)
