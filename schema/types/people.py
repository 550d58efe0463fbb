from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from cms.cache import tags
from cms.content.links import Links
from cms.content.records import AuthorRecord
from schema.context import Info
from schema.types.enums import AuthorKind
from schema.types.media import Media
from schema.types.nodes import Node, encode_id

if TYPE_CHECKING:
    from schema.types.connections import ContentConnection

__all__ = ["Author", "AuthorKind"]


@strawberry.type(description="A byline: a desk (such as the news desk) or a person.")
class Author(Node):
    name: str
    slug: str
    kind: AuthorKind
    bio: str | None
    email: str | None
    avatar: Media | None
    pk: strawberry.Private[int]

    @strawberry.field(description="This author's public content, newest first.")
    async def content(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated[ContentConnection, strawberry.lazy("schema.types.connections")]:
        from schema.types import connections  # here: connections imports this module

        info.context.cache_tags.add(tags.byline(self.slug))  # the author's own list
        return await connections.author_content(info, author_id=self.pk, first=first, after=after)

    @classmethod
    def from_record(cls, record: AuthorRecord, links: Links) -> Author:
        return cls(
            id=encode_id("Author", record.id),
            pk=record.id,
            name=record.name,
            slug=record.slug,
            kind=record.kind,
            bio=record.bio,
            email=record.email,
            avatar=Media.from_record(record.avatar, links),
        )
