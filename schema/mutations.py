"""The Mutation root. Each resolver checks the role (field permission), calls one service
and maps the outcome; domain failures come back as result-union members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from cms import clock
from cms.auth import policy
from cms.content import editing, ids, people, publishing
from cms.content.enums import ContentKind
from cms.content.lookups import Include
from cms.content.records import ContentRecord
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.selection import content_include, fields_under, root_field
from schema.types import inputs
from schema.types.content import Article, VideoEpisode, content_from_record
from schema.types.errors import ConflictError, Deleted, DeleteResult, NotFoundError, ValidationError
from schema.types.people import Author
from schema.types.taxonomy import Section

__all__ = ["Mutation"]

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
AuthorResult = Annotated[
    Author | ValidationError | NotFoundError | ConflictError, strawberry.union("AuthorResult")
]
SectionResult = Annotated[
    Section | ValidationError | NotFoundError | ConflictError, strawberry.union("SectionResult")
]


def _include(info: Info) -> Include:
    return content_include(fields_under(root_field(info).selections))


Write = Callable[[Include], Awaitable[ContentRecord]]
C = TypeVar("C", Article, VideoEpisode)


async def _saved(info: Info, write: Write) -> Article | VideoEpisode:
    """Run a content write, loading what the selection asks for: the item as it was saved."""
    record = await write(_include(info))
    # After the write: "publish now" must read as PUBLISHED, not SCHEDULED.
    return content_from_record(record, info.context.links, clock.utcnow())


async def _write(
    info: Info, write: Write
) -> Article | VideoEpisode | ValidationError | NotFoundError | ConflictError:
    """A ContentResult: the saved item, or the domain error (raised while writing or while
    reading the ID) as a member of the union."""
    return await as_result(_saved(info, write), ValidationError, NotFoundError, ConflictError)


async def _write_kind(
    info: Info, type_: type[C], write: Write
) -> C | ValidationError | NotFoundError | ConflictError:
    """An ArticleResult or VideoEpisodeResult: `_write` of an item of that type."""

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
        ),
    )


async def _update(
    info: Info,
    kind: ContentKind,
    type_: type[C],
    id: strawberry.ID,
    input: object,
    expected_version: int | None,
) -> C | ValidationError | NotFoundError | ConflictError:
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
        ),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A new DRAFT article. With an externalId that exists, returns that item.",
        extensions=require(policy.Action.CREATE_CONTENT),
    )
    async def create_article(self, info: Info, input: inputs.ArticleInput) -> ArticleResult:
        return await _create(info, ContentKind.ARTICLE, Article, input)

    @strawberry.mutation(
        description="Change an article. A stale expectedVersion gives ConflictError.",
        extensions=require(policy.Action.EDIT_CONTENT),
    )
    async def update_article(
        self, info: Info, id: strawberry.ID, input: inputs.ArticlePatch,
        expected_version: int | None = None,
    ) -> ArticleResult:  # fmt: skip
        return await _update(info, ContentKind.ARTICLE, Article, id, input, expected_version)

    @strawberry.mutation(
        description="A new DRAFT video episode.",
        extensions=require(policy.Action.CREATE_CONTENT),
    )
    async def create_video_episode(
        self, info: Info, input: inputs.VideoEpisodeInput
    ) -> VideoEpisodeResult:
        return await _create(info, ContentKind.VIDEO_EPISODE, VideoEpisode, input)

    @strawberry.mutation(
        description="Change a video episode.", extensions=require(policy.Action.EDIT_CONTENT)
    )
    async def update_video_episode(
        self, info: Info, id: strawberry.ID, input: inputs.VideoEpisodePatch,
        expected_version: int | None = None,
    ) -> VideoEpisodeResult:  # fmt: skip
        return await _update(
            info, ContentKind.VIDEO_EPISODE, VideoEpisode, id, input, expected_version
        )

    @strawberry.mutation(
        description="Publish now; `at` in the future schedules, in the past back-dates.",
        extensions=require(policy.Action.PUBLISH),
    )
    async def publish(
        self, info: Info, id: strawberry.ID, at: datetime | None = None
    ) -> ContentResult:
        return await _write(
            info,
            lambda include: publishing.publish(
                id=ids.expect_content(id), viewer=info.context.viewer, at=at, include=include
            ),
        )

    @strawberry.mutation(description="Back to DRAFT.", extensions=require(policy.Action.PUBLISH))
    async def unpublish(self, info: Info, id: strawberry.ID) -> ContentResult:
        return await _write(
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
        return await _write(
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
        return await _write(
            info,
            lambda include: publishing.restore_revision(
                revision_id=ids.expect(id, "Revision"), viewer=info.context.viewer, include=include
            ),
        )

    @strawberry.mutation(
        description="A new byline.", extensions=require(policy.Action.MANAGE_PEOPLE)
    )
    async def create_author(self, info: Info, input: inputs.AuthorInput) -> AuthorResult:
        async def work() -> Author:
            values = inputs.given(input)
            if "avatar_id" in values:
                values["avatar_id"] = inputs.media_pk(values["avatar_id"], "avatarId")
            record = await people.create_author(viewer=info.context.viewer, **values)
            return Author.from_record(record, info.context.links)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)

    @strawberry.mutation(
        description="Change a byline.", extensions=require(policy.Action.MANAGE_PEOPLE)
    )
    async def update_author(
        self, info: Info, id: strawberry.ID, input: inputs.AuthorPatch
    ) -> AuthorResult:
        async def work() -> Author:
            pk = ids.expect(id, "Author")
            values = inputs.given(input)
            if "avatar_id" in values:
                values["avatar_id"] = inputs.media_pk(values["avatar_id"], "avatarId")
            record = await people.update_author(viewer=info.context.viewer, id=pk, **values)
            return Author.from_record(record, info.context.links)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)

    @strawberry.mutation(
        description="A new section.", extensions=require(policy.Action.MANAGE_PEOPLE)
    )
    async def create_section(self, info: Info, input: inputs.SectionInput) -> SectionResult:
        async def work() -> Section:
            record = await people.create_section(viewer=info.context.viewer, **inputs.given(input))
            return Section.from_record(record)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)
