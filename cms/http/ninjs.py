"""GET /ninjs/{id}: an item as an IPTC ninjs 2.2 document (cms.content.ninjs), by its
global ID.

Anonymous readers: a public item is a 200 (application/json); a killed one a 410 whose
body is the kill notice (`pubstatus: "canceled"`, never the story); anything else (a
draft, an item in review, scheduled, expired or archived, a deleted or unknown item, an
ID that is not one of ours) a 404 with a small JSON error. These answers may be kept by
shared caches for up to a minute (a public item's no longer than until its expiry), under
the item's cache tags (`Surrogate-Key`, `Cache-Tag`) so a CDN can purge them the moment it
changes or is killed. A 200 carries an ETag; a conditional GET that matches gets a 304.

Token holders (`Authorization: Bearer <token>`, as on /graphql) read every item: a
scheduled one with `embargoed`, an unpublished one `withheld`, a killed one as a 410 with
its full document (`canceled`). Their answers are never stored (`private, no-store`). A bad
token is a 401, never read as an anonymous request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cms import clock
from cms.auth.viewer import Viewer
from cms.cache import tags
from cms.content import ids, items, lookups, ninjs
from cms.content.links import Links
from cms.content.records import ContentRecord
from cms.errors import Invalid, Unauthenticated
from cms.http import conditional, encoding
from cms.http.graphql import viewer_from_header
from cms.models import ContentKind, ContentStatus

__all__ = ["CACHE_SECONDS", "MEDIA_TYPE", "ninjs_document"]

MEDIA_TYPE = "application/json"
CACHE_SECONDS = 60
"""How long a shared cache may keep an anonymous answer."""
_PRIVATE = "private, no-store"
_NOT_FOUND = "no public item has that id"


def _located(value: str) -> tuple[ContentKind, int] | None:
    """The kind and primary key of a content item's global ID, or None."""
    try:
        type_name, pk = ids.decode(value)
    except Invalid:
        return None
    kind = ids.CONTENT_KINDS.get(type_name)
    return (kind, pk) if kind is not None else None


def _headers(viewer: Viewer, seconds: int, shown: set[str]) -> dict[str, str]:
    """Caching headers. An anonymous answer may be kept by anyone for `seconds` and purged
    by the cache tags of what it shows; a token holder's is never stored."""
    if not viewer.is_anonymous:
        return {"Cache-Control": _PRIVATE}
    headers = {"Cache-Control": f"public, max-age={seconds}", "Vary": "Authorization"}
    if shown:
        headers["Surrogate-Key"] = " ".join(sorted(shown))
        headers["Cache-Tag"] = ",".join(sorted(shown))
    return headers


def _error(message: str, code: str, status: int, headers: dict[str, str]) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(encoding.json_bytes(body), status, headers, MEDIA_TYPE)


def _fresh_for(record: ContentRecord, now: datetime) -> int:
    """Seconds a public item's document may be kept: never past its expiry."""
    if record.expires_at is None:
        return CACHE_SECONDS
    left = int((record.expires_at - now).total_seconds())
    return max(0, min(CACHE_SECONDS, left))


def _shown(record: ContentRecord) -> set[str]:
    return {tags.item(record.id)} | {tags.author(author.id) for author in record.authors}


async def ninjs_document(request: Request) -> Response:
    """GET /ninjs/{id}."""
    try:
        viewer = await viewer_from_header(request.headers.get("authorization"))
    except Unauthenticated as error:
        headers = {"WWW-Authenticate": "Bearer", "Cache-Control": _PRIVATE}
        return _error(error.message, "UNAUTHENTICATED", 401, headers)
    given = request.path_params.get("id", "")
    # Starlette's route pattern ends in `$`, which also matches before a final newline:
    # "/ninjs/<id>%0A" must not answer as "/ninjs/<id>" does.
    located = _located(given) if request.scope["path"].endswith(given) else None
    if located is None:
        return _error(_NOT_FOUND, "NOT_FOUND", 404, _headers(viewer, CACHE_SECONDS, set()))
    kind, pk = located
    now = clock.utcnow()
    links = Links.from_settings(request.app.state.settings)
    record = await items.by_id(id=pk, kind=kind, viewer=viewer, now=now, include=lookups.EVERYTHING)
    extras = (await ninjs.extras_for([pk])).get(pk) if record is not None else None
    if record is None or extras is None:  # hidden from this viewer, or not there at all
        gone = await ninjs.killed(id=pk, kind=kind) if viewer.is_anonymous else None
        headers = _headers(viewer, CACHE_SECONDS, {tags.item(pk)})
        if gone is not None:
            return _json(ninjs.notice(gone, links), 410, headers)
        return _error(_NOT_FOUND, "NOT_FOUND", 404, headers)
    document = ninjs.document(record, links, now, extras=extras)
    headers = _headers(viewer, _fresh_for(record, now), _shown(record))
    if record.status == ContentStatus.KILLED:  # a token holder's: the whole document
        return _json(document, 410, headers)
    return _json(document, 200, headers, request=request)


def _json(
    body: dict[str, Any],
    status: int,
    headers: dict[str, str],
    *,
    request: Request | None = None,
) -> Response:
    """A document; given the `request`, with an ETag and the 304 of a conditional GET."""
    content = encoding.json_bytes(body)
    if request is None:
        return Response(content, status, headers, MEDIA_TYPE)
    etag = conditional.etag(content)
    headers = headers | {"ETag": etag}
    if conditional.not_modified(etag=etag, if_none_match=request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(content, status, headers, MEDIA_TYPE)
