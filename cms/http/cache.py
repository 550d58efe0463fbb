"""The response cache for anonymous GET reads of /graphql, with ETag and Cache-Control.

A cached response is keyed by the normalized document (or its persisted-query hash), the
variables, the operation name and the content generation. Every content event (and every
write through the API) moves the generation on, so a publish shows at once: nothing
cached before it is served again. Token holders bypass the cache. Only a document whose
one chosen operation is a query is cached, and only a 200 without errors; the same body
goes out as application/json or application/graphql-response+json, as `Accept` asks.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import parse, print_ast
from graphql.error import GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.types.graphql import OperationType

from cms import clock
from cms.cache.stores import Store
from cms.config import Settings
from cms.content import generation
from cms.http import conditional, negotiation

__all__ = ["ContentGeneration", "ResponseCache"]

_WRITES = "generation:writes"


class ContentGeneration:
    """The generation as this worker sees it: re-read from the database at most every
    `refresh_seconds` (and as soon as a scheduled item's time comes), plus a counter of
    API writes shared through the store (Redis makes it shared by every worker)."""

    def __init__(self, store: Store, *, refresh_seconds: float) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._generation: generation.Generation | None = None
        self._read_at = 0.0

    async def current(self) -> str:
        now = clock.utcnow()
        if (
            self._generation is None
            or time.monotonic() - self._read_at > self.refresh_seconds
            or self._generation.expired(now)
        ):
            self._generation = await generation.read(now=now)
            self._read_at = time.monotonic()
        return f"{self._generation.key()}/{await self.store.read_int(_WRITES)}"

    async def bump(self) -> None:
        """After a write through the API: nothing cached before it is served again."""
        await self.store.incr(_WRITES)
        self._generation = None


@lru_cache(maxsize=2048)
def _normalized(query: str) -> str | None:
    """The document as graphql-core prints it (formatting and comments do not matter)."""
    try:
        return print_ast(parse(query))
    except GraphQLError:
        return None


def _canonical_json(raw: str | None) -> str | None:
    if not raw:
        return ""
    try:
        return orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONDecodeError:
        return None


@lru_cache(maxsize=4096)
def _cache_key(query_string: bytes, max_tokens: int) -> str | None:
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
    operation = params.get("operationName", "")
    material = f"{identity}\x00{variables}\x00{operation}\x00{extensions}"
    return hashlib.sha256(material.encode()).hexdigest()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class ResponseCache:
    """ASGI wrapper around the GraphQL view."""

    def __init__(
        self, app: ASGIApp, *, settings: Settings, store: Store, generation: ContentGeneration
    ) -> None:
        self.app = app
        self.store = store
        self.generation = generation
        self.enabled = settings.response_cache
        self.max_tokens = settings.max_tokens
        self.cache_control = (
            f"public, max-age={settings.cache_max_age}, "
            f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _header(scope, b"authorization") is not None
        if scope["method"] != "GET" or token:
            await self.app(scope, receive, send)
            if token and scope["method"] == "POST":
                await self.generation.bump()  # a token holder may have written
            return
        # The same body goes out as application/json or application/graphql-response+json,
        # as Accept asks; a request that accepts neither is the view's to refuse (406).
        accept = _header(scope, b"accept")
        media_type = negotiation.response_media_type(accept.decode("latin-1") if accept else None)
        key = None
        if self.enabled and media_type is not None:
            key = _cache_key(scope["query_string"], self.max_tokens)
        if key is None or media_type is None:
            await self.app(scope, receive, send)
            return
        key = f"response:{await self.generation.current()}:{key}"
        cached = await self.store.get(key)
        if cached is not None:
            etag, body = cached[:34], cached[34:]
            await self._send(send, scope, etag, body, media_type)
            return
        await self._fill(scope, receive, send, key, media_type)

    async def _send(
        self, send: Send, scope: Scope, etag: bytes, body: bytes, media_type: str
    ) -> None:
        headers = [(b"etag", etag), (b"cache-control", self.cache_control), (b"vary", b"Accept")]
        if_none_match = _header(scope, b"if-none-match")
        if conditional.not_modified(
            etag=etag.decode(),
            if_none_match=if_none_match.decode("latin-1") if if_none_match is not None else None,
        ):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-type", negotiation.content_type(media_type).encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _fill(
        self, scope: Scope, receive: Receive, send: Send, key: str, media_type: str
    ) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cacheable = start.get("status") == 200 and b'"errors"' not in body
        if not cacheable:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        etag = conditional.etag(body).encode()
        await self.store.set(key, etag + body)
        await self._send(send, scope, etag, body, media_type)
