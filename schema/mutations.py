"""The Mutation root. Each resolver checks the role (field permission), calls one service
and maps the outcome; domain failures come back as result-union members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from cms import clock
from cms.auth import policy
from cms.content import editing, ids, people, publishing
from cms.content.enums import ContentKind
from cms.content.lookups import Include
from cms.content.records import ContentRecord
from cms.errors import NotFound
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.selection import content_include, fields_under, root_field
from schema.types import inputs
from schema.types.content import Article, VideoEpisode, content_from_record
from schema.types.errors import ConflictError, Deleted, DeleteResult, NotFoundError, ValidationError
from schema.types.nodes import decode_id
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


def _content_pk(id: strawberry.ID, kind: ContentKind | None = None) -> int:
    """The primary key of a content ID (of `kind`, when given)."""
    type_name, pk = decode_id(id)
    found = ids.CONTENT_KINDS.get(type_name)
    if found is None or (kind is not None and found != kind):
        raise NotFound(f"no {(kind or 'content').replace('_', ' ')} has that id")
    return pk


def _include(info: Info) -> Include:
    return content_include(fields_under(root_field(info).selections))


async def _write(info: Info, write: Callable[[Include], Awaitable[ContentRecord]]) -> Any:
    """Run a content write, loading what the selection asks for; answer with the item as
    that write saved it, or with the domain error as a result-union member (raised while
    writing or reading the ID)."""

    async def saved() -> Article | VideoEpisode:
        record = await write(_include(info))
        # After the write: "publish now" must read as PUBLISHED, not SCHEDULED.
        return content_from_record(record, info.context.links, clock.utcnow())

    return await as_result(saved())


async def _create(info: Info, kind: ContentKind, input: object) -> Any:
    return await _write(
        info,
        lambda include: editing.create(
            kind=kind,
            data=inputs.to_content_input(input),
            viewer=info.context.viewer,
            default_locale=info.context.settings.default_locale,
            include=include,
        ),
    )


async def _update(
    info: Info, kind: ContentKind, id: strawberry.ID, input: object, expected_version: int | None
) -> Any:
    return await _write(
        info,
        lambda include: editing.update(
            id=_content_pk(id, kind),
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
        return await _create(info, ContentKind.ARTICLE, input)

    @strawberry.mutation(
        description="Change an article. A stale expectedVersion gives ConflictError.",
        extensions=require(policy.Action.EDIT_CONTENT),
    )
    async def update_article(
        self, info: Info, id: strawberry.ID, input: inputs.ArticlePatch,
        expected_version: int | None = None,
    ) -> ArticleResult:  # fmt: skip
        return await _update(info, ContentKind.ARTICLE, id, input, expected_version)

    @strawberry.mutation(
        description="A new DRAFT video episode.",
        extensions=require(policy.Action.CREATE_CONTENT),
    )
    async def create_video_episode(
        self, info: Info, input: inputs.VideoEpisodeInput
    ) -> VideoEpisodeResult:
        return await _create(info, ContentKind.VIDEO_EPISODE, input)

    @strawberry.mutation(
        description="Change a video episode.", extensions=require(policy.Action.EDIT_CONTENT)
    )
    async def update_video_episode(
        self, info: Info, id: strawberry.ID, input: inputs.VideoEpisodePatch,
        expected_version: int | None = None,
    ) -> VideoEpisodeResult:  # fmt: skip
        return await _update(info, ContentKind.VIDEO_EPISODE, id, input, expected_version)

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
                id=_content_pk(id), viewer=info.context.viewer, at=at, include=include
            ),
        )

    @strawberry.mutation(description="Back to DRAFT.", extensions=require(policy.Action.PUBLISH))
    async def unpublish(self, info: Info, id: strawberry.ID) -> ContentResult:
        return await _write(
            info,
            lambda include: publishing.unpublish(
                id=_content_pk(id), viewer=info.context.viewer, include=include
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
                id=_content_pk(id), viewer=info.context.viewer, include=include
            ),
        )

    @strawberry.mutation(
        description="Delete an item for good.", extensions=require(policy.Action.DELETE_CONTENT)
    )
    async def delete_content(self, info: Info, id: strawberry.ID) -> DeleteResult:
        async def work() -> Deleted:
            await publishing.delete(id=_content_pk(id), viewer=info.context.viewer)
            return Deleted(id=id)

        result = await as_result(work())
        if isinstance(result, ValidationError):
            return NotFoundError(message=result.message)
        return result  # type: ignore[return-value]

    @strawberry.mutation(
        description="A new version carrying that revision's fields.",
        extensions=require(policy.Action.RESTORE_REVISION),
    )
    async def restore_revision(self, info: Info, id: strawberry.ID) -> ContentResult:
        def restore(include: Include) -> Awaitable[ContentRecord]:
            type_name, pk = decode_id(id)
            if type_name != "Revision":
                raise NotFound("no revision has that id")
            return publishing.restore_revision(
                revision_id=pk, viewer=info.context.viewer, include=include
            )

        return await _write(info, restore)

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

        return await as_result(work())

    @strawberry.mutation(
        description="Change a byline.", extensions=require(policy.Action.MANAGE_PEOPLE)
    )
    async def update_author(
        self, info: Info, id: strawberry.ID, input: inputs.AuthorPatch
    ) -> AuthorResult:
        async def work() -> Author:
            type_name, pk = decode_id(id)
            if type_name != "Author":
                raise NotFound("no author has that id")
            values = inputs.given(input)
            if "avatar_id" in values:
                values["avatar_id"] = inputs.media_pk(values["avatar_id"], "avatarId")
            record = await people.update_author(viewer=info.context.viewer, id=pk, **values)
            return Author.from_record(record, info.context.links)

        return await as_result(work())

    @strawberry.mutation(
        description="A new section.", extensions=require(policy.Action.MANAGE_PEOPLE)
    )
    async def create_section(self, info: Info, input: inputs.SectionInput) -> SectionResult:
        async def work() -> Section:
            record = await people.create_section(viewer=info.context.viewer, **inputs.given(input))
            return Section.from_record(record)

        return await as_result(work())
