"""The one mapping from cms.errors to GraphQL: error codes for queries, and (for
mutations) result-union members."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from cms import errors

__all__ = ["ERROR_CODES", "ErrorCodes", "code_for", "is_expected"]

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
