"""The response cache for anonymous reads of /graphql, with ETag and Cache-Control.

Cacheable: an anonymous GET of a query, and an anonymous POST of an automatic persisted
query (`extensions.persistedQuery.sha256Hash`); both are keyed by `cms.http.cache_keys`.
Only a document whose one chosen operation is a query is cached, and only a 200 without
errors; the same body goes out as application/json or application/graphql-response+json,
as `Accept` asks. Token holders bypass the cache.

Each cached response carries the tags of what it shows and what it is a page of
(`cms.cache.tags`, recorded by the resolvers), with their versions when it was filled; it
is served while none has moved, nor `EVERYTHING` (moved when Redis comes back after an
outage, during which the store was this worker's memory: `cms.cache.fallback`). The same
tags go out as `Surrogate-Key` (space-separated) and `Cache-Tag` (comma-separated) for a
CDN to purge by. What moves them: the outbox, read by `cms.cache.changes` (and by the
dispatcher), and, after a token holder's POST, the author and section edits that request
made, before its response goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.cache import tags
from cms.cache.changes import Changes
from cms.cache.stores import Store
from cms.cache.versions import EVERYTHING, TagVersions
from cms.config import Settings
from cms.http import access, cache_keys, conditional, negotiation

__all__ = ["COLLECTOR", "ResponseCache"]

# Where the request's tag collector travels in the ASGI scope, from here to the view's
# context and back.
COLLECTOR = "newsdesk.cache_tags"


def _entry(etag: bytes, tag_list: list[str], versions: list[int], body: bytes) -> bytes:
    return orjson.dumps([etag.decode(), tag_list, versions]) + b"\n" + body


def _read_entry(value: bytes) -> tuple[bytes, list[str], list[int], bytes] | None:
    head, _, body = value.partition(b"\n")
    try:
        etag, tag_list, versions = orjson.loads(head)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    return str(etag).encode(), list(tag_list), list(versions), body


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it was read whole within the cacheable size."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False  # the client went away
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), size <= cache_keys.MAX_POST_BYTES


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the view the body already read, then the client's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _ignore(hit: bool) -> None:
    pass


class ResponseCache:
    """ASGI wrapper around the GraphQL view."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        store: Store,
        versions: TagVersions,
        changes: Changes,
    ) -> None:
        self.app = app
        self.store = store
        self.versions = versions
        self.changes = changes
        self.enabled = settings.response_cache
        self.max_tokens = settings.max_tokens
        self.cache_control = (
            f"public, max-age={settings.cache_max_age}, "
            f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
        ).encode()
        self.hits = 0
        self.misses = 0
        # Told of each lookup, hit (True) or miss (False): /metrics' counter (cms.http.app).
        self.on_lookup: Callable[[bool], None] = _ignore

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HTTP only: a WebSocket to /graphql goes to the view itself (cms.http.app).
        if negotiation.header(scope, b"authorization") is not None:
            await self._as_token_holder(scope, receive, send)
            return
        # The same body goes out as application/json or application/graphql-response+json,
        # as Accept asks; a request that accepts neither is the view's to refuse (406).
        accept = negotiation.header(scope, b"accept")
        media_type = negotiation.response_media_type(accept.decode("latin-1") if accept else None)
        key = None
        body: bytes | None = None
        if self.enabled and media_type is not None:
            if scope["method"] == "GET":
                key = cache_keys.for_get(scope["query_string"], self.max_tokens)
            elif (
                scope["method"] == "POST"
                and negotiation.body_media_type(scope) == b"application/json"
            ):
                body, whole = await _read_body(receive)
                receive = _replay(body, receive)
                key = cache_keys.for_post(body) if whole else None
        if key is None or media_type is None:
            await self.app(scope, receive, send)
            return
        key = f"response:{key}"
        await self.changes.catch_up()
        if await self._serve_cached(scope, send, key, media_type):
            self.hits += 1
            self.on_lookup(True)
            exchange = access.current()
            if exchange is not None:  # for the access line: the view did not run
                exchange.role = "anonymous"
                name, _ = (
                    access.operation_in_body(body)
                    if body is not None
                    else access.operation_in_query_string(scope["query_string"])
                )
                exchange.note_operation(name, "query")  # only queries are cached
            return
        self.misses += 1
        self.on_lookup(False)
        await self._fill(scope, receive, send, key, media_type)

    async def _as_token_holder(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Uncached. After a POST (a token holder may have written), what it changed is
        invalidated before its response goes out, so the next read sees the write."""
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        collector = tags.Collector()
        scope[COLLECTOR] = collector

        async def send_after_invalidating(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self.versions.bump(collector.changed)
                if not collector.cacheable:  # a mutation ran: its events are in the outbox
                    await self.changes.catch_up(force=True)
            await send(message)

        await self.app(scope, receive, send_after_invalidating)

    async def after_write(self, changed: set[str]) -> None:
        """What a write over a WebSocket does before its answer goes out, as a POST's does
        above: what it changed outside the outbox, then the outbox (a kill, say)."""
        await self.versions.bump(changed)
        await self.changes.catch_up(force=True)

    async def _serve_cached(self, scope: Scope, send: Send, key: str, media_type: str) -> bool:
        value = await self.store.get(key)
        entry = _read_entry(value) if value is not None else None
        if entry is None:
            return False
        etag, tag_list, versions, body = entry
        _, current = await self.versions.read([EVERYTHING, *tag_list])
        if current != versions:
            return False  # something it shows or lists has changed since
        await self._send(send, scope, etag, body, media_type, tag_list)
        return True

    async def _send(
        self,
        send: Send,
        scope: Scope,
        etag: bytes,
        body: bytes,
        media_type: str,
        tag_list: list[str],
    ) -> None:
        headers = [(b"etag", etag), (b"cache-control", self.cache_control), (b"vary", b"Accept")]
        if tag_list:
            headers += [
                (b"surrogate-key", " ".join(tag_list).encode()),
                (b"cache-tag", ",".join(tag_list).encode()),
            ]
        if_none_match = negotiation.header(scope, b"if-none-match")
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
        collector = tags.Collector()
        scope[COLLECTOR] = collector

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:  # http.response.body (the view sends no trailers)
                chunks.append(message.get("body", b""))

        # Read before answering: a change invalidated while the answer was being made
        # moves the clock, and then the answer (maybe older than the change) is not kept.
        before = await self.versions.clock()
        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cacheable = start.get("status") == 200 and b'"errors"' not in body and collector.cacheable
        if not cacheable:
            if not collector.cacheable:
                # An answer that must not outlive its moment (a preview link's item): no
                # cache downstream keeps it either, whatever its defaults.
                start["headers"] = [
                    *(h for h in start.get("headers", []) if h[0].lower() != b"cache-control"),
                    (b"cache-control", b"private, no-store"),
                ]
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        tag_list = sorted(collector.tags)
        after, versions = await self.versions.read([EVERYTHING, *tag_list])
        etag = conditional.etag(body).encode()
        if after == before:
            await self.store.set(key, _entry(etag, tag_list, versions, body))
        await self._send(send, scope, etag, body, media_type, tag_list)
