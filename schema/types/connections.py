"""Relay connections of content, built from keyset pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import strawberry

from cms.content import feed
from cms.content.links import Links
from schema.context import Info
from schema.selection import connection_include
from schema.types.content import Content, content_from_record

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "ContentConnection",
    "ContentEdge",
    "PageInfo",
    "author_content",
    "connection_from_page",
    "decode_cursor",
    "feed_content",
    "page_size",
]

# A connection's page when `first` is absent or null (never above CMS_MAX_PAGE_SIZE).
DEFAULT_PAGE_SIZE = 20


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class ContentEdge:
    cursor: str
    node: Content
    snippet: str | None = strawberry.field(
        default=None,
        description=(
            "In search results, the matching passage (about 30 words), HTML-escaped, "
            "matches in <mark>…</mark>; null outside search."
        ),
    )


@strawberry.type
class ContentConnection:
    edges: list[ContentEdge]
    page_info: PageInfo


def connection_from_page(page: feed.Page, links: Links, now: datetime) -> ContentConnection:
    cursors = [cursor.encode() for cursor in page.cursors]
    edges = [
        ContentEdge(cursor=cursor, node=content_from_record(record, links, now))
        for cursor, record in zip(cursors, page.items, strict=True)
    ]
    if page.snippets is not None:
        for edge, snippet in zip(edges, page.snippets, strict=True):
            edge.snippet = snippet
    return ContentConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
    )


def decode_cursor(after: str | None) -> feed.Cursor | None:
    return feed.Cursor.decode(after) if after is not None else None


def page_size(info: Info, first: int | None, *, default: int = DEFAULT_PAGE_SIZE) -> int:
    return feed.page_size(first, default=default, maximum=info.context.settings.max_page_size)


async def author_content(
    info: Info, *, author_id: int, first: int | None, after: str | None
) -> ContentConnection:
    page = await feed.by_author(
        author_id=author_id,
        now=info.context.now,
        first=page_size(info, first),
        after=decode_cursor(after),
        include=connection_include(info),
    )
    info.context.cache_tags.shown(page.items)
    return connection_from_page(page, info.context.links, info.context.now)


async def feed_content(
    info: Info,
    *,
    filters: feed.FeedFilter,
    first: int | None,
    after: str | None,
    lists: Callable[[], Iterable[str]],
) -> ContentConnection:
    """A page of the public feed narrowed by `filters`, newest first: a page of `lists()`
    (cache tags, made once the arguments have passed their checks), showing its items."""
    page = await feed.feed(
        now=info.context.now,
        first=page_size(info, first),
        after=decode_cursor(after),
        filters=filters,
        include=connection_include(info),
    )
    info.context.cache_tags.add(*lists())
    info.context.cache_tags.shown(page.items)
    return connection_from_page(page, info.context.links, info.context.now)
