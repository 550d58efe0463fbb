"""What identifies a cacheable read: a GET's query string, or an anonymous POST carrying an
automatic persisted query's hash. The same read by GET or by POST has the same key.

The key is made of the normalized document (or the persisted query's hash), the
variables, the operation name and the extensions, each in a canonical form, so
formatting, comments and the order of JSON keys do not matter.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import parse, print_ast
from strawberry.types.graphql import OperationType

from cms.http import negotiation, persisted

__all__ = ["MAX_POST_BYTES", "for_get", "for_post"]

# A persisted query's POST is small (a hash and variables); a bigger body is not cached.
MAX_POST_BYTES = 64 * 1024


@lru_cache(maxsize=2048)
def _normalized(query: str) -> str:
    """The document as graphql-core prints it (formatting and comments do not matter);
    only for a document `negotiation.selected_operation` has parsed."""
    return print_ast(parse(query))


def _canonical_json(raw: str | None) -> str | None:
    if not raw:
        return ""
    try:
        return _canonical(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return None


def _canonical(value: Any) -> str:
    if value is None:
        return ""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _key(identity: str, variables: str, operation: str, extensions: str) -> str:
    material = f"{identity}\x00{variables}\x00{operation}\x00{extensions}"
    return hashlib.sha256(material.encode()).hexdigest()


@lru_cache(maxsize=4096)
def for_get(query_string: bytes, max_tokens: int) -> str | None:
    """What identifies a cacheable GET, or None when the request is not one (memoized:
    a popular feed URL is parsed and hashed once)."""
    params = dict(parse_qsl(query_string.decode("latin-1")))
    variables = _canonical_json(params.get("variables"))
    extensions = _canonical_json(params.get("extensions"))
    if variables is None or extensions is None:
        return None
    query = params.get("query")
    if query:
        chosen = negotiation.selected_operation(
            query, params.get("operationName") or None, max_tokens=max_tokens
        )
        document = _normalized(query) if chosen is OperationType.QUERY else None
        if document is None:
            return None  # malformed, not exactly one operation, or not a query: the view answers
        identity = document
    elif '"sha256Hash"' in extensions:
        identity = f"apq:{extensions}"
    else:
        return None  # no document: GraphiQL's page or an error
    return _key(identity, variables, params.get("operationName", ""), extensions)


def _persisted_hash(extensions: Any) -> str | None:
    if not isinstance(extensions, dict):
        return None
    persisted_query = extensions.get("persistedQuery")
    if not isinstance(persisted_query, dict):
        return None
    value = persisted_query.get("sha256Hash")
    return value if isinstance(value, str) else None


def for_post(body: bytes) -> str | None:
    """What identifies an anonymous persisted-query POST, or None when the POST is another
    kind (a document sent on its own, a mutation's, a body that is not a JSON object):
    those are never cached. A POST that sends the document with its hash (registering it)
    is cached only when the hash is the document's. The caller passes only a body within
    `MAX_POST_BYTES` (`cms.http.cache` reads no more)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    extensions = data.get("extensions")
    query_hash = _persisted_hash(extensions)
    if query_hash is None:
        return None
    query = data.get("query")
    if query is not None and (not isinstance(query, str) or persisted.sha256(query) != query_hash):
        return None  # the view refuses it (or registers nothing): not ours to answer
    operation = data.get("operationName")
    if operation is not None and not isinstance(operation, str):
        return None
    canonical_extensions = _canonical(extensions)
    return _key(
        f"apq:{canonical_extensions}", _canonical(data.get("variables")), operation or "",
        canonical_extensions,
    )  # fmt: skip
