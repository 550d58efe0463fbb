"""Content for the Query and Mutation roots: the feed, search and single items; writes
and the publishing actions. Thin: read arguments, call one cms.content service, map the
result; domain failures come back as members of the result union."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from cms import clock
from cms.auth import policy
from cms.cache import tags
from cms.content import editing, feed, ids, items, publishing, upserts
from cms.content.lookups import Include
from cms.content.records import ContentRecord
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.selection import connection_include, item_include, snippet_selected
from schema.types import connections, inputs
from schema.types.content import Article, VideoEpisode, content_from_record
from schema.types.enums import ContentKind, ContentStatus, SearchOrder
from schema.types.errors import ConflictError, Deleted, DeleteResult, NotFoundError, ValidationError

__all__ = [
    "ArticleResult",
    "ContentMutation",
    "ContentQuery",
    "ContentResult",
    "VideoEpisodeResult",
    "content_result",
]

ArticleResult = Annotated[
    Article | ValidationError | NotFoundError | ConflictError, strawberry.union("ArticleResult")
]
VideoEpisodeResult = Annotated[
    VideoEpisode | ValidationError | NotFoundError | ConflictError,
    strawberry.union("VideoEpisodeResult"),
]
ContentResult = Annotated[
    Article | VideoEpisode | ValidationError | NotFoundError | ConflictError,
    strawberry.union("ContentResult"),
]


async def _item(info: Info, kind: ContentKind, slug: str) -> Article | VideoEpisode | None:
    record = await items.by_slug(
        kind=kind,
        slug=slug,
        viewer=info.context.viewer,
        now=info.context.now,
        default_locale=info.context.settings.default_locale,
        include=item_include(info),
    )
    info.context.cache_tags.add(tags.slug(slug))
    if record is None:
        return None
    info.context.cache_tags.shown([record])
    return content_from_record(record, info.context.links, info.context.now)


def _lists(section: str | None, tag: str | None, author: str | None) -> list[str]:
    """The lists a feed page is a page of: the feed itself, or the narrowed ones."""
    narrowed = [
        *([tags.section(section)] if section is not None else []),
        *([tags.tag(tag)] if tag is not None else []),
        *([tags.byline(author)] if author is not None else []),
    ]
    return narrowed or [tags.FEED]


@strawberry.type
class ContentQuery:
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
        fallback_locale: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "With locale: each story once, in `locale` where it has a public item "
                    "in it, otherwise in this one."
                )
            ),
        ] = None,
    ) -> connections.ContentConnection:
        filters = feed.FeedFilter(
            section=section, tag=tag, author=author, kinds=tuple(kinds or ()), locale=locale,
            fallback_locale=fallback_locale,
        )  # fmt: skip
        return await connections.feed_content(
            info,
            filters=filters,
            first=first,
            after=after,
            lists=lambda: _lists(section, tag, author),
        )

    @strawberry.field(
        description=(
            "Public items matching every word (and quoted phrase) of `query`, best match "
            "first (ties newest first) or newest first; narrowed by kinds, section, locale."
        )
    )
    async def search(
        self,
        info: Info,
        query: str,
        first: int | None = 20,
        after: str | None = None,
        kinds: list[ContentKind] | None = None,
        section: str | None = None,
        locale: str | None = None,
        order: SearchOrder = SearchOrder.RELEVANCE,
    ) -> connections.ContentConnection:
        page = await feed.search(
            text=query,
            now=info.context.now,
            first=connections.page_size(info, first),
            after=connections.decode_cursor(after),
            include=connection_include(info),
            filters=feed.FeedFilter(section=section, kinds=tuple(kinds or ()), locale=locale),
            order=order,
            snippets=snippet_selected(info),
            depth=info.context.settings.search_depth,
        )
        info.context.cache_tags.add(tags.SEARCH)
        info.context.cache_tags.shown(page.items)
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
        query: str | None = None,
    ) -> connections.ContentConnection:
        page = await feed.contents(
            first=connections.page_size(info, first),
            after=connections.decode_cursor(after),
            statuses=status,
            now=info.context.now,
            kinds=kinds,
            include=connection_include(info),
            query=query,
            snippets=query is not None and snippet_selected(info),
            depth=info.context.settings.search_depth,
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


Write = Callable[[Include], Awaitable[ContentRecord]]
C = TypeVar("C", Article, VideoEpisode)


async def _saved(info: Info, write: Write) -> Article | VideoEpisode:
    """Run a content write, loading what the selection asks for: the item as it was saved."""
    record = await write(item_include(info))
    # After the write: "publish now" must read as PUBLISHED, not SCHEDULED.
    return content_from_record(record, info.context.links, clock.utcnow())


async def content_result(
    info: Info, write: Write
) -> Article | VideoEpisode | ValidationError | NotFoundError | ConflictError:
    """A ContentResult: the saved item, or the domain error (raised while writing or while
    reading the ID) as a member of the union."""
    return await as_result(_saved(info, write), ValidationError, NotFoundError, ConflictError)


async def _write_kind(
    info: Info, type_: type[C], write: Write
) -> C | ValidationError | NotFoundError | ConflictError:
    """An ArticleResult or VideoEpisodeResult: `content_result` of an item of that type."""

    async def work() -> C:
        item = await _saved(info, write)
        assert isinstance(item, type_)  # the write was of that kind
        return item

    return await as_result(work(), ValidationError, NotFoundError, ConflictError)


async def _create(
    info: Info, kind: ContentKind, type_: type[C], input: object
) -> C | ValidationError | NotFoundError | ConflictError:
    return await _write_kind(
        info,
        type_,
        lambda include: editing.create(
            kind=kind,
            data=inputs.to_content_input(input),
            viewer=info.context.viewer,
            default_locale=info.context.settings.default_locale,
            include=include,
            locales=info.context.settings.locales,
        ),
    )


async def _update(
    info: Info,
    kind: ContentKind,
    type_: type[C],
    id: strawberry.ID,
    input: object,
    expected_version: int | None,
    significant: bool | None,
) -> C | ValidationError | NotFoundError | ConflictError:
    # CONTRACT.md: `significant: Boolean = false`; an explicit null is the default, false.
    return await _write_kind(
        info,
        type_,
        lambda include: editing.update(
            id=ids.expect_content(id, kind),
            kind=kind,
            data=inputs.to_content_input(input),
            viewer=info.context.viewer,
            expected_version=expected_version,
            include=include,
            significant=bool(significant),
            locales=info.context.settings.locales,
        ),
    )


async def _upsert(
    info: Info, kind: ContentKind, type_: type[C], external_id: str, input: object
) -> C | ValidationError | NotFoundError | ConflictError:
    return await _write_kind(
        info,
        type_,
        lambda include: upserts.upsert(
            kind=kind,
            external_id=external_id,
            data=inputs.to_content_input(input),
            viewer=info.context.viewer,
            default_locale=info.context.settings.default_locale,
            include=include,
            locales=info.context.settings.locales,
        ),
    )


_UPSERT = (
    "Create the {what} with this externalId (a DRAFT), or update the one that has it; "
    "an upsert that changes nothing writes no revision, keeps the version and sends no event."
)


@strawberry.type
class ContentMutation:
    @strawberry.mutation(
        description="A new DRAFT article. With an externalId that exists, returns that item.",
        extensions=require(policy.Action.CREATE_CONTENT),
    )
    async def create_article(self, info: Info, input: inputs.ArticleInput) -> ArticleResult:
        return await _create(info, ContentKind.ARTICLE, Article, input)

    @strawberry.mutation(
        description=(
            "Change an article. A stale expectedVersion gives ConflictError; "
            "significant: true marks a change readers should know of (significantlyUpdatedAt)."
        ),
        extensions=require(policy.Action.EDIT_CONTENT),
    )
    async def update_article(
        self, info: Info, id: strawberry.ID, input: inputs.ArticlePatch,
        expected_version: int | None = None, significant: bool | None = False,
    ) -> ArticleResult:  # fmt: skip
        return await _update(
            info, ContentKind.ARTICLE, Article, id, input, expected_version, significant
        )

    @strawberry.mutation(
        description="A new DRAFT video episode.",
        extensions=require(policy.Action.CREATE_CONTENT),
    )
    async def create_video_episode(
        self, info: Info, input: inputs.VideoEpisodeInput
    ) -> VideoEpisodeResult:
        return await _create(info, ContentKind.VIDEO_EPISODE, VideoEpisode, input)

    @strawberry.mutation(
        description=(
            "Change a video episode; significant: true marks a change readers should know "
            "of (significantlyUpdatedAt)."
        ),
        extensions=require(policy.Action.EDIT_CONTENT),
    )
    async def update_video_episode(
        self, info: Info, id: strawberry.ID, input: inputs.VideoEpisodePatch,
        expected_version: int | None = None, significant: bool | None = False,
    ) -> VideoEpisodeResult:  # fmt: skip
        return await _update(
            info, ContentKind.VIDEO_EPISODE, VideoEpisode, id, input, expected_version,
            significant,
        )  # fmt: skip

    @strawberry.mutation(
        description=_UPSERT.format(what="article"),
        extensions=require(policy.Action.UPSERT_CONTENT),
    )
    async def upsert_article(
        self, info: Info, external_id: str, input: inputs.ArticleInput
    ) -> ArticleResult:
        return await _upsert(info, ContentKind.ARTICLE, Article, external_id, input)

    @strawberry.mutation(
        description=_UPSERT.format(what="video episode"),
        extensions=require(policy.Action.UPSERT_CONTENT),
    )
    async def upsert_video_episode(
        self, info: Info, external_id: str, input: inputs.VideoEpisodeInput
    ) -> VideoEpisodeResult:
        return await _upsert(info, ContentKind.VIDEO_EPISODE, VideoEpisode, external_id, input)

    @strawberry.mutation(
        description=(
            "Publish now; `at` in the future schedules, in the past back-dates; `until` "
            "takes the item off every public path at that time (EXPIRED)."
        ),
        extensions=require(policy.Action.PUBLISH),
    )
    async def publish(
        self, info: Info, id: strawberry.ID, at: datetime | None = None,
        until: datetime | None = None,
    ) -> ContentResult:  # fmt: skip
        return await content_result(
            info,
            lambda include: publishing.publish(
                id=ids.expect_content(id),
                viewer=info.context.viewer,
                at=at,
                until=until,
                include=include,
            ),  # fmt: skip
        )

    @strawberry.mutation(description="Back to DRAFT.", extensions=require(policy.Action.PUBLISH))
    async def unpublish(self, info: Info, id: strawberry.ID) -> ContentResult:
        return await content_result(
            info,
            lambda include: publishing.unpublish(
                id=ids.expect_content(id), viewer=info.context.viewer, include=include
            ),
        )

    @strawberry.mutation(
        description="ARCHIVED: off every public read path, kept for the record.",
        extensions=require(policy.Action.PUBLISH),
    )
    async def archive(self, info: Info, id: strawberry.ID) -> ContentResult:
        return await content_result(
            info,
            lambda include: publishing.archive(
                id=ids.expect_content(id), viewer=info.context.viewer, include=include
            ),
        )

    @strawberry.mutation(
        description="Delete an item for good.", extensions=require(policy.Action.DELETE_CONTENT)
    )
    async def delete_content(self, info: Info, id: strawberry.ID) -> DeleteResult:
        async def work() -> Deleted:
            await publishing.delete(id=ids.expect_content(id), viewer=info.context.viewer)
            return Deleted(id=id)

        return await as_result(work(), NotFoundError)

    @strawberry.mutation(
        description="A new version carrying that revision's fields.",
        extensions=require(policy.Action.RESTORE_REVISION),
    )
    async def restore_revision(self, info: Info, id: strawberry.ID) -> ContentResult:
        return await content_result(
            info,
            lambda include: publishing.restore_revision(
                revision_id=ids.expect(id, "Revision"), viewer=info.context.viewer, include=include
            ),
        )
