"""The one mapper from cms.errors to result-union members (schema.errors.as_result): each
failure comes back as the member that reports it, and one the union cannot hold stays an
exception (a GraphQL error with its code)."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from cms import errors
from schema.errors import as_result
from schema.types.errors import ConflictError, NotFoundError, ValidationError


async def _fail(error: errors.CmsError) -> str:
    raise error


async def _succeed() -> str:
    return "saved"


def _all(work: Awaitable[str]) -> Awaitable[object]:
    return as_result(work, ValidationError, NotFoundError, ConflictError)


async def test_success_is_the_value_itself() -> None:
    assert await _all(_succeed()) == "saved"
    assert await as_result(_succeed(), NotFoundError) == "saved"


@pytest.mark.parametrize(
    ("error", "member"),
    [
        (
            errors.Invalid("title must not be empty", field="title"),
            ValidationError(message="title must not be empty", field="title"),
        ),
        (
            errors.NotFound("no article has that id"),
            NotFoundError(message="no article has that id"),
        ),
        (
            errors.Conflict("the item is at version 3, not 2", current_version=3),
            ConflictError(message="the item is at version 3, not 2", current_version=3),
        ),
    ],
    ids=["invalid", "not found", "conflict"],
)
async def test_each_failure_comes_back_as_its_member(
    error: errors.CmsError, member: object
) -> None:
    assert await _all(_fail(error)) == member


async def test_without_validation_error_a_malformed_id_reads_as_not_found() -> None:
    answer = await as_result(
        _fail(errors.Invalid("id is not a valid ID", field="id")), NotFoundError
    )

    assert answer == NotFoundError(message="id is not a valid ID")


@pytest.mark.parametrize(
    ("error", "members"),
    [
        (
            errors.Unauthenticated("a token is required"),
            (ValidationError, NotFoundError, ConflictError),
        ),
        (
            errors.Forbidden("the viewer role may not publish"),
            (ValidationError, NotFoundError, ConflictError),
        ),
        (errors.Conflict("changed meanwhile"), (NotFoundError,)),
        (errors.NotFound("gone"), (ValidationError,)),
    ],
    ids=[
        "unauthenticated",
        "forbidden",
        "conflict outside the union",
        "not found outside the union",
    ],
)
async def test_a_failure_the_members_cannot_report_stays_an_exception(
    error: errors.CmsError,
    members: tuple[type[ValidationError | NotFoundError | ConflictError], ...],
) -> None:
    with pytest.raises(type(error)) as raised:
        await as_result(_fail(error), *members)

    assert raised.value is error
