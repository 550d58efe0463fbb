"""/feed.xml (RSS 2.0) and /feed.json (JSON Feed 1.1): the newest public items.

`?section=SLUG` and `?author=SLUG` narrow a feed (a slug that names nothing gives a valid,
empty feed); a malformed one is a 400 with a one-line message. Responses carry an ETag
(a hash of the body) and Last-Modified, and a conditional GET that matches gets a 304.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cms import clock
from cms.config import Settings
from cms.content import feed, lookups, slugs, syndication
from cms.content.links import Links
from cms.errors import Invalid
from cms.http import conditional

__all__ = ["json_feed", "rss"]

RSS_TYPE = "application/rss+xml; charset=utf-8"
JSON_FEED_TYPE = "application/feed+json"
CACHE_CONTROL = "public, max-age=60"
_FILTERS = ("section", "author")

Render = Callable[[syndication.Channel, Sequence[syndication.Entry]], bytes]


def _slug(request: Request, name: str) -> str | None:
    """The slug given as `?name=` (at most once), or None."""
    given = request.query_params.getlist(name)
    if len(given) > 1:
        raise Invalid(f"give {name} at most once", field=name)
    if not given:
        return None
    try:
        return slugs.check(given[0], field=name)
    except Invalid:
        raise Invalid(
            f"{name} must be a slug: lower-case letters, digits and single "
            f"hyphens, at most {slugs.MAX_LENGTH} characters",
            field=name,
        ) from None


def _locale(request: Request, name: str, locales: Sequence[str]) -> str | None:
    """The locale given as `?name=` (at most once, one of CMS_LOCALES), or None."""
    given = request.query_params.getlist(name)
    if len(given) > 1:
        raise Invalid(f"give {name} at most once", field=name)
    if not given:
        return None
    if given[0] not in locales:
        raise Invalid(f"{name} must be one of {', '.join(locales)}", field=name)
    return given[0]


def _filters(request: Request, locales: Sequence[str]) -> feed.FeedFilter:
    """The feed's narrowing from `?section=`, `?author=`, `?locale=` and
    `?fallbackLocale=` (each story once: in the locale where it has a public item in it,
    else in the fallback locale)."""
    filters = feed.FeedFilter(
        section=_slug(request, "section"),
        author=_slug(request, "author"),
        locale=_locale(request, "locale", locales),
        fallback_locale=_locale(request, "fallbackLocale", locales),
    )
    filters.check()
    return filters


def _query_string(filters: feed.FeedFilter) -> str:
    """The feed URL's query string for `filters` ("" when unfiltered)."""
    given = {name: getattr(filters, name) for name in _FILTERS if getattr(filters, name)}
    if filters.locale:
        given["locale"] = filters.locale
    if filters.fallback_locale:
        given["fallbackLocale"] = filters.fallback_locale
    return f"?{urlencode(given)}" if given else ""


def _render_json(channel: syndication.Channel, entries: Sequence[syndication.Entry]) -> bytes:
    return orjson.dumps(syndication.json_feed(channel, entries))


def _http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


async def _serve(request: Request, *, path: str, media_type: str, render: Render) -> Response:
    settings: Settings = request.app.state.settings
    try:
        filters = _filters(request, settings.locales)
    except Invalid as error:
        return PlainTextResponse(error.message, status_code=400)
    links = Links.from_settings(settings)
    now = clock.utcnow()
    page = await feed.feed(
        now=now, first=syndication.FEED_SIZE, filters=filters, include=lookups.EVERYTHING
    )
    corrections = await lookups.corrections_for([record.id for record in page.items])
    entries = [
        syndication.entry(record, links=links, corrections=corrections.get(record.id, ()))
        for record in page.items
    ]
    last_modified = await syndication.changed_at(entries, now=now)
    channel = syndication.Channel(
        title=settings.site_name,
        description=f"The newest stories from {settings.site_name}",
        home_page_url=settings.website_url,
        feed_url=f"{settings.public_url}{path}{_query_string(filters)}",
        language=filters.locale or settings.default_locale,
        updated=last_modified,
    )
    body = render(channel, entries)
    etag = conditional.etag(body)
    headers: dict[str, str] = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    if conditional.not_modified(
        etag=etag,
        if_none_match=request.headers.get("if-none-match"),
        last_modified=last_modified,
        if_modified_since=request.headers.get("if-modified-since"),
    ):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def rss(request: Request) -> Response:
    """/feed.xml: RSS 2.0."""
    return await _serve(request, path="/feed.xml", media_type=RSS_TYPE, render=syndication.rss)


async def json_feed(request: Request) -> Response:
    """/feed.json: JSON Feed 1.1."""
    return await _serve(request, path="/feed.json", media_type=JSON_FEED_TYPE, render=_render_json)
