from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from cms.cache import tags
from cms.content.feed import FeedFilter
from cms.content.records import SectionRecord, TagRecord
from schema.context import Info
from schema.types.nodes import Node, encode_id

if TYPE_CHECKING:
    from schema.types.connections import ContentConnection

__all__ = ["Section", "Tag"]


@strawberry.type(description="A part of the newsroom's site, such as War or Business.")
class Section(Node):
    name: str
    slug: str

    @strawberry.field(description="This section's public content, newest first: its page.")
    async def content(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated[ContentConnection, strawberry.lazy("schema.types.connections")]:
        return await _page(
            info, tags.section(self.slug), FeedFilter(section=self.slug), first, after
        )

    @classmethod
    def from_record(cls, record: SectionRecord) -> Section:
        return cls(id=encode_id("Section", record.id), name=record.name, slug=record.slug)


@strawberry.type(description="A topic label on content.")
class Tag(Node):
    name: str
    slug: str

    @strawberry.field(description="The public content with this tag, newest first: its page.")
    async def content(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated[ContentConnection, strawberry.lazy("schema.types.connections")]:
        return await _page(info, tags.tag(self.slug), FeedFilter(tag=self.slug), first, after)

    @classmethod
    def from_record(cls, record: TagRecord) -> Tag:
        return cls(id=encode_id("Tag", record.id), name=record.name, slug=record.slug)


async def _page(
    info: Info, listed: str, filters: FeedFilter, first: int | None, after: str | None
) -> ContentConnection:
    """A section's or tag's page: the feed narrowed by `filters`, a page of list `listed`."""
    from schema.types import connections  # here: connections imports this module

    return await connections.feed_content(
        info, filters=filters, first=first, after=after, lists=lambda: [listed]
    )
