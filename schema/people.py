"""Authors (desk or person bylines) for the Query and Mutation roots. Thin: read
arguments, call one cms.content.people service, map the result."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from cms.auth import policy
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
        return Author.from_record(record, info.context.links) if record else None


def _values(input: inputs.AuthorInput | inputs.AuthorPatch) -> dict[str, Any]:
    """The fields the client sent, with the avatar's global ID read as a primary key."""
    values = inputs.given(input)
    if "avatar_id" in values:
        values["avatar_id"] = inputs.media_pk(values["avatar_id"], "avatarId")
    return values


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(
        description="A new byline.", extensions=require(policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    )
    async def create_author(self, info: Info, input: inputs.AuthorInput) -> AuthorResult:
        async def work() -> Author:
            record = await people.create_author(viewer=info.context.viewer, **_values(input))
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
            record = await people.update_author(viewer=info.context.viewer, id=pk, **_values(input))
            return Author.from_record(record, info.context.links)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)
