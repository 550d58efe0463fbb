"""GraphQL over HTTP's rules that do not need the view: which media type a response is
in (negotiated from `Accept`), and which operation of a document a request runs.

`application/json` is the legacy default; with `application/graphql-response+json` a
request error answers 400. A document with several operations needs an `operationName`
that names one of them (the GraphQL spec's GetOperation(); Strawberry alone ran the first).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.types import Scope
from strawberry.types.graphql import OperationType

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "body_media_type",
    "content_type",
    "header",
    "operation_name",
    "request_error",
    "response_media_type",
    "selected_operation",
]

JSON: Final = "application/json"
GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
_CONTENT_TYPES: Final = {
    JSON: JSON,
    GRAPHQL_RESPONSE_JSON: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8",
}


def header(scope: Scope, name: bytes) -> bytes | None:
    """The value of the request header `name` (lower case) in an ASGI scope, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def body_media_type(scope: Scope) -> bytes:
    """The request body's media type, from Content-Type without its parameters, lower case
    (b"" when there is none)."""
    return (header(scope, b"content-type") or b"").split(b";")[0].strip().lower()


def content_type(media_type: str) -> str:
    """The Content-Type header of a response in `media_type` (encoding named for the new
    type; application/json stays as every client knows it)."""
    return _CONTENT_TYPES[media_type]


@lru_cache(maxsize=256)
def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in: the one `Accept` prefers (by q-value, then the most
    specific range, then the order listed); a wildcard or no header means
    `application/json`; None when the client accepts neither (406)."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    ranges = [_media_range(part) for part in accept.split(",")]
    for media_type in (JSON, GRAPHQL_RESPONSE_JSON):
        kind = media_type.partition("/")[0]
        matches = [
            (specificity, -position, q)
            for position, (range_, q) in enumerate(ranges)
            for specificity, pattern in ((2, media_type), (1, f"{kind}/*"), (0, "*/*"))
            if range_ == pattern
        ]
        if not matches:
            continue
        specificity, position, q = max(matches)  # the most specific range decides q
        rank = (q, specificity, position)
        if q > 0 and (best is None or rank > best):
            best, chosen = rank, media_type
    return chosen


def _media_range(part: str) -> tuple[str, float]:
    range_, *params = (piece.strip() for piece in part.split(";"))
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
    return range_.lower(), q


@lru_cache(maxsize=2048)
def _operations(query: str, max_tokens: int | None) -> tuple[tuple[str, OperationType], ...] | None:
    """(name, type) of each operation of a document, in order; None when it does not
    parse (graphql-core then reports why)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    return tuple(
        (node.name.value if node.name else "", OperationType(node.operation.value))
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode)
    )


def selected_operation(
    query: str, operation_name: str | None, *, max_tokens: int | None = None
) -> OperationType | GraphQLError | None:
    """The type of the operation a request runs (the GraphQL spec's GetOperation()); a
    request error when the document and `operation_name` do not pick exactly one; None
    when the document does not parse. (Strawberry alone ran the first of several.)"""
    operations = _operations(query, max_tokens)
    if operations is None:
        return None
    if operation_name:
        for name, operation_type in operations:
            if name == operation_name:
                return operation_type
        return request_error(f'Unknown operation named "{operation_name}".')
    if len(operations) == 1:
        return operations[0][1]
    if not operations:
        return request_error("Must provide an operation.")
    return request_error("Must provide operation name if query contains multiple operations.")


def operation_name(
    query: str, operation_name: str | None, *, max_tokens: int | None = None
) -> str | None:
    """The name of the operation a request runs: `operation_name` when given, else the
    name of the document's one operation (None when it has none, or is not one)."""
    if operation_name:
        return operation_name
    operations = _operations(query, max_tokens)
    return operations[0][0] or None if operations and len(operations) == 1 else None


def request_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "OPERATION_RESOLUTION_FAILURE"})
