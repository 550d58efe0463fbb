"""The one mapping from cms.errors to GraphQL: error codes for queries, and (for
mutations) result-union members."""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from typing import Final, TypeVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from cms import errors
from schema.types.errors import ConflictError, NotFoundError, ValidationError

__all__ = ["ERROR_CODES", "ErrorCodes", "as_result", "code_for", "is_expected"]

T = TypeVar("T")

ERROR_CODES: Final = {
    errors.Unauthenticated: "UNAUTHENTICATED",
    errors.Forbidden: "FORBIDDEN",
    errors.Invalid: "BAD_USER_INPUT",
    errors.NotFound: "NOT_FOUND",
    errors.Conflict: "CONFLICT",
}


def code_for(error: BaseException | None) -> str | None:
    for error_type, code in ERROR_CODES.items():
        if isinstance(error, error_type):
            return code
    return None


def is_expected(error: GraphQLError) -> bool:
    """A user's mistake (bad argument, missing token), not a fault of the server."""
    return error.original_error is None or isinstance(error.original_error, errors.CmsError)


class ErrorCodes(SchemaExtension):
    """Put `extensions.code` on errors raised from cms.errors (and on validation errors)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            code = code_for(error.original_error)
            if code is None and error.original_error is None:
                code = "GRAPHQL_VALIDATION_FAILED"
            if code is not None:
                error.extensions = {**(error.extensions or {}), "code": code}


async def as_result(work: Awaitable[T]) -> T | ValidationError | NotFoundError | ConflictError:
    """Await `work`; domain failures come back as result-union members, not exceptions.
    Unauthenticated and Forbidden stay GraphQL errors (with their codes)."""
    try:
        return await work
    except errors.Invalid as error:
        return ValidationError(message=error.message, field=error.field)
    except errors.NotFound as error:
        return NotFoundError(message=error.message)
    except errors.Conflict as error:
        return ConflictError(message=error.message, current_version=error.current_version)
