"""The one mapping from cms.errors to GraphQL: error codes for queries, and (for
mutations) members of the mutation's result union."""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from typing import Any, Final, TypeVar, overload

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from cms import budget, errors
from schema.types.errors import ConflictError, Error, NotFoundError, ValidationError

__all__ = ["ERROR_CODES", "ErrorCodes", "as_result", "code_for", "is_expected"]

T = TypeVar("T")
E1 = TypeVar("E1", bound=Error)
E2 = TypeVar("E2", bound=Error)
E3 = TypeVar("E3", bound=Error)

ERROR_CODES: Final = {
    errors.Unauthenticated: "UNAUTHENTICATED",
    errors.Forbidden: "FORBIDDEN",
    errors.Invalid: "BAD_USER_INPUT",
    errors.NotFound: "NOT_FOUND",
    errors.Conflict: "CONFLICT",
    budget.QueryTimeout: "QUERY_TIMEOUT",
}


def code_for(error: BaseException | None) -> str | None:
    for error_type, code in ERROR_CODES.items():
        if isinstance(error, error_type):
            return code
    return None


def is_expected(error: GraphQLError) -> bool:
    """A user's mistake (bad argument, missing token, a variable's value that does not fit
    its type), not a fault of the server."""
    if error.original_error is None or isinstance(error.original_error, errors.CmsError):
        return True
    return is_variable_error(error)


def is_variable_error(error: GraphQLError) -> bool:
    """A variable's value that does not fit its type. graphql-core's coercion of the
    variables names the one at fault ("Variable '$first' has invalid value: ...") before
    anything runs: the client's value, never the server's fault."""
    return error.path is None and error.message.startswith("Variable '$")


class ErrorCodes(SchemaExtension):
    """Put `extensions.code` on errors raised from cms.errors (and on validation errors)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None:
            _code(result.errors)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Over WebSocket each result is sent before on_operation ends: code it first."""
        _code(getattr(result, "errors", None))
        yield


def _code(found: list[GraphQLError] | None) -> None:
    for error in found or ():
        if (error.extensions or {}).get("code"):
            continue  # coded where it was raised (a refused estimate: MAX_NODES_EXCEEDED)
        code = code_for(error.original_error)
        if code is None and is_variable_error(error):
            code = "BAD_USER_INPUT"  # as Apollo Server names it
        elif code is None and error.original_error is None:
            code = "GRAPHQL_VALIDATION_FAILED"
        if code is not None:
            error.extensions = {**(error.extensions or {}), "code": code}


def _member(error: errors.CmsError, members: tuple[type[Error], ...]) -> Error | None:
    """The error type among `members` that reports `error`, or None when none can."""
    if isinstance(error, errors.Invalid):
        if ValidationError in members:
            return ValidationError(message=error.message, field=error.field)
        if NotFoundError in members:  # a malformed ID, where the union has no ValidationError
            return NotFoundError(message=error.message)
    elif isinstance(error, errors.NotFound) and NotFoundError in members:
        return NotFoundError(message=error.message)
    elif isinstance(error, errors.Conflict) and ConflictError in members:
        return ConflictError(message=error.message, current_version=error.current_version)
    return None


@overload
async def as_result(work: Awaitable[T], e1: type[E1], /) -> T | E1: ...
@overload
async def as_result(work: Awaitable[T], e1: type[E1], e2: type[E2], /) -> T | E1 | E2: ...
@overload
async def as_result(
    work: Awaitable[T], e1: type[E1], e2: type[E2], e3: type[E3], /
) -> T | E1 | E2 | E3: ...
async def as_result(work: Awaitable[T], /, *members: type[Error]) -> T | Error:
    """Await `work`; a domain failure comes back as the member of the mutation's result
    union that reports it. `members` are that union's error types: where it has no
    ValidationError, an Invalid (a malformed ID) reads as NotFoundError. A failure the union
    cannot hold stays an exception, as Unauthenticated and Forbidden do (GraphQL errors
    with their codes)."""
    try:
        return await work
    except errors.CmsError as error:
        member = _member(error, members)
        if member is None:
            raise
        return member
