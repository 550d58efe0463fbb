"""The Query root. Resolvers are thin: read arguments, call one service, map the result."""

from __future__ import annotations

import strawberry

from cms.auth import policy
from cms.content import feed, ids, items, lookups
from schema.context import Info
from schema.permissions import require
from schema.selection import connection_include, content_include, fields_under, root_field
from schema.types import connections
from schema.types.admin import Viewer
from schema.types.content import (
    Article,
    ContentKind,
    ContentStatus,
    VideoEpisode,
    content_from_record,
)
from schema.types.media import Media
from schema.types.nodes import Node, decode_id
from schema.types.people import Author
from schema.types.taxonomy import Section, Tag

__all__ = ["Query"]


def _include(info: Info) -> lookups.Include:
    return content_include(fields_under(root_field(info).selections))


async def _item(info: Info, kind: ContentKind, slug: str) -> Article | VideoEpisode | None:
    record = await items.by_slug(
        kind=kind,
        slug=slug,
        viewer=info.context.viewer,
        now=info.context.now,
        default_locale=info.context.settings.default_locale,
        include=_include(info),
    )
    return content_from_record(record, info.context.links, info.context.now) if record else None


@strawberry.type
class Query:
    @strawberry.field(description="Public items, newest first. Filters take slugs.")
    async def feed(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        section: str | None = None,
        tag: str | None = None,
        author: str | None = None,
        kinds: list[ContentKind] | None = None,
        locale: str | None = None,
    ) -> connections.ContentConnection:
        filters = feed.FeedFilter(
            section=section, tag=tag, author=author, kinds=tuple(kinds or ()), locale=locale
        )
        page = await feed.feed(
            now=info.context.now,
            first=connections.page_size(info, first),
            after=connections.decode_cursor(after),
            filters=filters,
            include=connection_include(root_field(info)),
        )
        return connections.connection_from_page(page, info.context.links, info.context.now)

    @strawberry.field(description="Public items containing every word of `query`, newest first.")
    async def search(
        self, info: Info, query: str, first: int | None = 20, after: str | None = None
    ) -> connections.ContentConnection:
        page = await feed.search(
            text=query,
            now=info.context.now,
            first=connections.page_size(info, first),
            after=connections.decode_cursor(after),
            include=connection_include(root_field(info)),
        )
        return connections.connection_from_page(page, info.context.links, info.context.now)

    @strawberry.field(
        description="Every item whatever its status, for token holders.",
        extensions=require(policy.Action.PREVIEW),
    )
    async def contents(
        self,
        info: Info,
        status: list[ContentStatus] | None = None,
        kinds: list[ContentKind] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> connections.ContentConnection:
        page = await feed.contents(
            first=connections.page_size(info, first),
            after=connections.decode_cursor(after),
            statuses=status,
            now=info.context.now,
            kinds=kinds,
            include=connection_include(root_field(info)),
        )
        return connections.connection_from_page(page, info.context.links, info.context.now)

    @strawberry.field(description="An article by slug; token holders also see unpublished ones.")
    async def article(self, info: Info, slug: str) -> Article | None:
        item = await _item(info, ContentKind.ARTICLE, slug)
        return item if isinstance(item, Article) else None

    @strawberry.field(description="A video episode by slug.")
    async def video_episode(self, info: Info, slug: str) -> VideoEpisode | None:
        item = await _item(info, ContentKind.VIDEO_EPISODE, slug)
        return item if isinstance(item, VideoEpisode) else None

    @strawberry.field(description="An author (desk or person) by slug.")
    async def author(self, info: Info, slug: str) -> Author | None:
        record = await lookups.author(slug=slug)
        return Author.from_record(record, info.context.links) if record else None

    @strawberry.field(description="Every section, by name.")
    async def sections(self) -> list[Section]:
        return [Section.from_record(record) for record in await lookups.sections()]

    @strawberry.field(description="Any object by its global ID.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = decode_id(id)
        links = info.context.links
        if kind := ids.CONTENT_KINDS.get(type_name):
            record = await items.by_id(
                id=pk,
                kind=kind,
                viewer=info.context.viewer,
                now=info.context.now,
                include=_include(info),
            )
            return content_from_record(record, links, info.context.now) if record else None
        if type_name == "Author":
            author = await lookups.author(id=pk)
            return Author.from_record(author, links) if author else None
        if type_name == "Section":
            section = await lookups.section(id=pk)
            return Section.from_record(section) if section else None
        if type_name == "Tag":
            tag = await lookups.tag(id=pk)
            return Tag.from_record(tag) if tag else None
        if type_name == "Media":
            return Media.from_record(await lookups.media(id=pk), links)
        return None

    @strawberry.field(description="The token holder asking, or null when anonymous.")
    def me(self, info: Info) -> Viewer | None:
        viewer = info.context.viewer
        if viewer.is_anonymous or viewer.name is None or viewer.role is None:
            return None
        return Viewer(name=viewer.name, role=viewer.role)
