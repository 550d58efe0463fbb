"""Authors (desk or person bylines) for the Query and Mutation roots. Thin: read
arguments, call one cms.content.people service, map the result."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from cms.auth import policy
from cms.cache import tags
from cms.content import ids, lookups, people
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.types import inputs
from schema.types.errors import ConflictError, NotFoundError, ValidationError
from schema.types.people import Author

__all__ = ["AuthorResult", "PeopleMutation", "PeopleQuery"]

AuthorResult = Annotated[
    Author | ValidationError | NotFoundError | ConflictError, strawberry.union("AuthorResult")
]


@strawberry.type
class PeopleQuery:
    @strawberry.field(description="An author (desk or person) by slug.")
    async def author(self, info: Info, slug: str) -> Author | None:
        record = await lookups.author(slug=slug)
        info.context.cache_tags.add(tags.author_slug(slug))
        if record is None:
            return None
        info.context.cache_tags.authors([record])
        return Author.from_record(record, info.context.links)


def _values(input: inputs.AuthorInput | inputs.AuthorPatch) -> dict[str, Any]:
    """The fields the client sent, with the avatar's global ID read as a primary key."""
    values = inputs.given(input)
    if "avatar_id" in values:
        values["avatar_id"] = inputs.media_pk(values["avatar_id"], "avatarId")
    return values


def _author_tags(id: int, slug: str) -> set[str]:
    """What an author's creation or edit invalidates: the responses showing the author,
    lookups of its slug and the lists of its bylines."""
    return {tags.author(id), tags.author_slug(slug), tags.byline(slug)}


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(
        description="A new byline.", extensions=require(policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    )
    async def create_author(self, info: Info, input: inputs.AuthorInput) -> AuthorResult:
        async def work() -> Author:
            record = await people.create_author(viewer=info.context.viewer, **_values(input))
            info.context.cache_tags.changed.update(_author_tags(record.id, record.slug))
            return Author.from_record(record, info.context.links)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)

    @strawberry.mutation(
        description="Change a byline.",
        extensions=require(policy.Action.MANAGE_AUTHORS_AND_SECTIONS),
    )
    async def update_author(
        self, info: Info, id: strawberry.ID, input: inputs.AuthorPatch
    ) -> AuthorResult:
        async def work() -> Author:
            pk = ids.expect(id, "Author")
            before = await lookups.author(id=pk, avatar=False)
            record = await people.update_author(viewer=info.context.viewer, id=pk, **_values(input))
            # Its old slug's lookups and lists too, when the slug changed.
            old = _author_tags(pk, before.slug) if before is not None else set()
            info.context.cache_tags.changed.update(old | _author_tags(pk, record.slug))
            return Author.from_record(record, info.context.links)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)
