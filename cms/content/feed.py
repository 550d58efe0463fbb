"""Keyset reads: the public feed, an author's content, and the editors' list.

Pages are keyset-ordered (never OFFSET), so page 5,000 costs what page 1 costs, and a
cursor stays valid while news is published on top of it.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cms import prepared
from cms.content import ids, lookups, raw_sql, text, times, visibility
from cms.content import search as search_index
from cms.content.enums import SearchOrder
from cms.content.records import ContentRecord
from cms.errors import Invalid
from cms.models import Content, ContentKind, ContentStatus

__all__ = [
    "UNFILTERED",
    "Cursor",
    "FeedFilter",
    "Page",
    "SearchOrder",
    "by_author",
    "contents",
    "feed",
    "page_query",
    "page_size",
    "public_query",
    "search",
]


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in an ordering by (time, id), both descending, or, in search results
    ranked by relevance, by (rank, time, id). Opaque to clients."""

    at: datetime
    id: int
    rank: float | None = None

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}"
        if self.rank is not None:
            raw += f"|{self.rank!r}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, *, field: str = "after") -> Cursor:
        """The cursor `encode` wrote; Invalid naming `field` for anything else: a time
        without its offset or outside the years 1 to 9999 in UTC (cms.content.times), an
        id that no row can have (cms.content.ids.primary_key)."""
        try:
            if len(value) > _MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            padded = value + "=" * (-len(value) % 4)
            at, _, rest = base64.urlsafe_b64decode(padded).decode("ascii").partition("|")
            id_, ranked, rank_text = rest.partition("|")
            pk = ids.primary_key(id_)
            if pk is None:
                raise ValueError("no id")
            rank = float(rank_text) if ranked else None
            if rank is not None and not math.isfinite(rank):
                raise ValueError("no rank")
            return cls(times.to_utc(datetime.fromisoformat(at), field=field), pk, rank)
        except (ValueError, Invalid):  # binascii.Error, UnicodeDecodeError: ValueErrors
            raise Invalid(
                "invalid cursor: pass an endCursor from a previous page", field=field
            ) from None


_MAX_CURSOR_LENGTH = 200  # a cursor `encode` writes is about 60 characters


@dataclass(slots=True)
class Page:
    items: list[ContentRecord]
    cursors: list[Cursor]
    has_next: bool
    has_previous: bool
    # Search results: each item's matching passage (cms.content.search.highlight).
    snippets: list[str | None] | None = None


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    """Validate a page size: between 0 and `maximum` (CMS_MAX_PAGE_SIZE)."""
    if first is None:
        return min(default, maximum)
    if first < 0 or first > maximum:
        raise Invalid(f"first must be between 0 and {maximum}", field="first")
    return first


def page_query(query: QuerySet[Content], *, limit: int, time_field: str) -> QuerySet[Content]:
    """`query` newest first by (time_field, id), `limit` rows (a page asks for one more
    than it shows, to tell whether a next page exists): the query a page runs."""
    return query.order_by(f"-{time_field}", "-id").limit(limit)


def _cut(
    records: list[ContentRecord], *, first: int, after: Cursor | None, time_field: str
) -> Page:
    has_next = len(records) > first
    records = records[:first]
    cursors = [Cursor(getattr(record, time_field), record.id) for record in records]
    return Page(records, cursors, has_next=has_next, has_previous=after is not None)


def _before(after: Cursor, time_field: str) -> Q:
    """Strictly after `after` in the (time, id) descending order, within its time bound."""
    earlier: dict[str, Any] = {f"{time_field}__lt": after.at}
    return Q(**earlier) | Q(id__lt=after.id)


def _public(now: datetime, after: Cursor | None) -> QuerySet[Content]:
    # One upper bound, not two: the smaller of now and the cursor's time, then the tie-break
    # on id. A separate `<= now` beside `< cursor` lets the database seek from now and step
    # over every newer row on a deep page. (Expiry is judged at now all the same.)
    if after is None or after.at > now:
        return Content.filter(visibility.public_q(now))
    return _public_after(now, after)


def _public_after(now: datetime, after: Cursor) -> QuerySet[Content]:
    """Public items after `after`, whose time is at most `now`."""
    return Content.filter(visibility.public_q(now, published_by=after.at)).filter(
        _before(after, "published_at")
    )


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What narrows the public feed: slugs of a section, tag or author, an author's id,
    kinds and a locale. None (no kinds) narrows nothing; a slug that names nothing gives
    an empty page."""

    section: str | None = None
    tag: str | None = None
    author: str | None = None
    author_id: int | None = None
    kinds: tuple[ContentKind, ...] = ()
    locale: str | None = None
    # With `locale`: each story once, in `locale` where it has a public item in it, else
    # in this one (cms.content.translations).
    fallback_locale: str | None = None

    def __post_init__(self) -> None:
        # Each kind once, in one order: `[ARTICLE, ARTICLE, …]` from a client is the same
        # filter (and the same prepared statement) as `[ARTICLE]`.
        kinds = tuple(kind for kind in ContentKind if kind in self.kinds)
        object.__setattr__(self, "kinds", kinds)

    def apply(self, query: QuerySet[Content]) -> QuerySet[Content]:
        if self.section is not None:
            query = query.filter(section__slug=self.section)
        if self.tag is not None:
            query = query.filter(taggings__tag__slug=self.tag)
        if self.author is not None:
            query = query.filter(bylines__author__slug=self.author)
        if self.author_id is not None:
            query = query.filter(bylines__author_id=self.author_id)
        if self.kinds:
            query = query.filter(kind__in=list(self.kinds))
        if self.locale is not None:
            query = query.filter(locale=self.locale)
        return query

    def check(self) -> None:
        """Invalid, naming the argument, for text no database can compare (cms.content.text),
        and for a fallback locale without the locale it falls back from."""
        for name in _TEXT_FILTERS:
            value = getattr(self, name)
            if value is not None:
                text.check(value, field=_ARGUMENTS.get(name, name))
        if self.fallback_locale is not None and self.locale is None:
            raise Invalid("fallbackLocale needs a locale to fall back from", field="fallbackLocale")

    def shape(self) -> tuple[object, ...]:
        """What the filter's SQL depends on: which filters are given, and the kinds."""
        return tuple(getattr(self, name) is not None for name in _SLOT_FILTERS) + (self.kinds,)

    def marked(self, markers: prepared.Markers) -> FeedFilter:
        """This filter with markers in place of its values (for a prepared statement)."""

        def text(name: str) -> str | None:
            return markers.str(name) if getattr(self, name) is not None else None

        return FeedFilter(
            section=text("section"),
            tag=text("tag"),
            author=text("author"),
            author_id=markers.int("author_id") if self.author_id is not None else None,
            kinds=self.kinds,
            locale=text("locale"),
        )

    def values(self) -> dict[str, object]:
        return {
            name: getattr(self, name) for name in _SLOT_FILTERS if getattr(self, name) is not None
        }


_SLOT_FILTERS = ("section", "tag", "author", "author_id", "locale")
_TEXT_FILTERS = ("section", "tag", "author", "locale", "fallback_locale")
_ARGUMENTS = {"fallback_locale": "fallbackLocale"}

UNFILTERED = FeedFilter()
"""The whole public feed."""


def public_query(
    *, now: datetime, after: Cursor | None = None, filters: FeedFilter = UNFILTERED
) -> QuerySet[Content]:
    """The feed's filter (unordered); tests EXPLAIN it to check the indexes."""
    return filters.apply(_public(now, after))


async def feed(
    *,
    now: datetime,
    first: int,
    after: Cursor | None = None,
    filters: FeedFilter = UNFILTERED,
    include: lookups.Include = lookups.EVERYTHING,
) -> Page:
    """Public items, newest first, narrowed by `filters`."""
    filters.check()
    if filters.fallback_locale is not None and filters.fallback_locale != filters.locale:
        return await _with_fallback(
            now=now, first=first, after=after, filters=filters, include=include
        )
    return await _public_page(
        ("feed", filters.shape()),
        lambda query, markers: filters.marked(markers).apply(query),
        filters.values(),
        # The whole feed walks its index; a filter may have to step over many rows.
        seeks=filters == UNFILTERED,
        now=now,
        first=first,
        after=after,
        include=include,
    )


Narrow = Callable[[QuerySet[Content], prepared.Markers], QuerySet[Content]]


async def _public_page(
    shape: tuple[object, ...],
    narrow: Narrow,
    values: dict[str, object],
    *,
    seeks: bool,
    now: datetime,
    first: int,
    after: Cursor | None,
    include: lookups.Include,
) -> Page:
    """A page of public items, newest first, of the query `narrow` makes of the public
    items (with markers for `values`): its statement is prepared once per `shape`, and
    `_public` decides which bound it has."""
    bounded = after is not None and after.at <= now
    values = values | {"now": now.astimezone(UTC), "limit": first + 1}
    if bounded and after is not None:
        values |= {"bound": after.at, "after_id": after.id}

    def build(markers: prepared.Markers) -> QuerySet[Content]:
        at = markers.datetime("now")
        if bounded:
            cursor = Cursor(markers.datetime("bound"), markers.int("after_id"))
            query = narrow(_public_after(at, cursor), markers)
        else:
            query = narrow(Content.filter(visibility.public_q(at)), markers)
        return page_query(query, limit=markers.int("limit"), time_field="published_at")

    records = await lookups.prepared_records((*shape, bounded), build, values, include, seeks=seeks)
    page = _cut(records, first=first, after=after, time_field="published_at")
    await lookups.attach_relations(page.items, include)
    return page


async def search(
    *,
    text: str,
    now: datetime,
    first: int,
    after: Cursor | None = None,
    include: lookups.Include = lookups.EVERYTHING,
    filters: FeedFilter = UNFILTERED,
    order: SearchOrder = SearchOrder.RELEVANCE,
    snippets: bool = True,
    depth: int = search_index.DEFAULT_DEPTH,
) -> Page:
    """Public items matching every word and phrase of `text` (cms.content.search), best
    first (ties: newest first), or newest first; narrowed by kinds, section and locale."""
    filters.check()
    return await _searched(
        search_index.terms(text),
        rule=visibility.public_sql(now),
        time_field="published_at",
        first=first,
        after=after,
        include=include,
        filters=filters,
        by_relevance=order == SearchOrder.RELEVANCE,
        snippets=snippets,
        depth=depth,
    )


async def _searched(
    found: list[search_index.Term],
    *,
    rule: tuple[str, list[object]],
    time_field: str,
    first: int,
    after: Cursor | None,
    include: lookups.Include,
    filters: FeedFilter,
    by_relevance: bool,
    snippets: bool = True,
    depth: int = search_index.DEFAULT_DEPTH,
) -> Page:
    if by_relevance and after is not None and after.rank is None:
        raise Invalid("invalid cursor: pass an endCursor from a previous page", field="after")
    hits = await search_index.ranked(
        found,
        rule=rule,
        time_field=time_field,
        limit=first + 1,
        after=(
            search_index.After(after.rank if by_relevance else None, after.at, after.id)
            if after is not None
            else None
        ),
        by_relevance=by_relevance,
        kinds=[kind.value for kind in filters.kinds],
        section=filters.section,
        locale=filters.locale,
        depth=depth,
    )
    has_next = len(hits) > first
    hits = hits[:first]
    wanted = [hit.id for hit in hits]
    loaded = {record.id: record for record in await lookups.records_by_ids(wanted, include)}
    records, cursors = [], []
    for hit in hits:
        record = loaded.get(hit.id)
        if record is None:  # deleted between the two reads
            continue
        at = getattr(hit, time_field)
        records.append(record)
        cursors.append(Cursor(at, hit.id, hit.rank if by_relevance else None))
    await lookups.attach_relations(records, include)
    shown = None
    if snippets:
        passages = await search_index.snippets(
            found, [record.id for record in records], locale=filters.locale
        )
        shown = [passages.get(record.id) for record in records]
    return Page(records, cursors, has_next=has_next, has_previous=after is not None, snippets=shown)


async def by_author(
    *,
    author_id: int,
    now: datetime,
    first: int,
    after: Cursor | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> Page:
    """An author's public items, newest first."""
    filters = FeedFilter(author_id=author_id)
    return await feed(now=now, first=first, after=after, filters=filters, include=include)


async def contents(
    *,
    now: datetime,
    first: int,
    after: Cursor | None = None,
    statuses: Sequence[ContentStatus] | None = None,
    kinds: Sequence[ContentKind] | None = None,
    include: lookups.Include = lookups.EVERYTHING,
    query: str | None = None,
    snippets: bool = True,
    depth: int = search_index.DEFAULT_DEPTH,
) -> Page:
    """Every item whatever its status (for token holders), most recently updated first;
    with a `query`, those matching it, best first (cms.content.search). The items in
    review alone are the desk's queue: oldest submission first."""
    # Each status and kind once, in one order: one prepared statement per such shape.
    wanted = tuple(status for status in ContentStatus if status in (statuses or ()))
    kinds_ = tuple(kind for kind in ContentKind if kind in (kinds or ()))
    if wanted == (ContentStatus.IN_REVIEW,) and query is None:
        return await _review_queue(first=first, after=after, kinds=kinds_, include=include)
    if query is not None:
        return await _searched(
            search_index.terms(query),
            rule=visibility.status_sql(wanted, now),
            time_field="updated_at",
            first=first,
            after=after,
            include=include,
            filters=FeedFilter(kinds=kinds_),
            by_relevance=True,
            snippets=snippets,
            depth=depth,
        )
    timed = any(status in _TIMED for status in wanted)  # their rule reads the clock
    values: dict[str, object] = {"limit": first + 1}
    if timed:
        values["now"] = now.astimezone(UTC)
    if after is not None:
        values |= {"after_at": after.at, "after_id": after.id}

    def build(markers: prepared.Markers) -> QuerySet[Content]:
        query = Content.all()
        if wanted:
            clock = markers.datetime("now") if timed else now
            query = query.filter(visibility.status_q(wanted, clock))
        if kinds_:
            query = query.filter(kind__in=list(kinds_))
        if after is not None:
            at = markers.datetime("after_at")
            cursor = Cursor(at, markers.int("after_id"))
            query = query.filter(updated_at__lte=at).filter(_before(cursor, "updated_at"))
        return page_query(query, limit=markers.int("limit"), time_field="updated_at")

    records = await lookups.prepared_records(
        ("contents", wanted, kinds_, after is not None),
        build,
        values,
        include,
        seeks=not wanted and not kinds_,  # the whole list walks its index
    )
    page = _cut(records, first=first, after=after, time_field="updated_at")
    await lookups.attach_relations(page.items, include)
    return page


async def _with_fallback(
    *,
    now: datetime,
    first: int,
    after: Cursor | None,
    filters: FeedFilter,
    include: lookups.Include,
) -> Page:
    """A locale's feed with fallback: public items in `filters.locale`, and public items in
    `filters.fallback_locale` whose story has no public item in the locale; each story
    once, newest first. One keyset query (each fallback row looks for its translation
    through the (story_id, locale) index), then the page's records."""
    assert filters.locale is not None and filters.fallback_locale is not None
    connection = connections.get("default")
    sql = raw_sql.Placeholders(raw_sql.dialect(connection))

    def rule(alias: str, published_by: datetime | None = None) -> str:
        condition, values = visibility.public_sql(now, alias=alias, published_by=published_by)
        return re.sub(r"\?", lambda _: sql(values.pop(0)), condition)

    bounded = after is not None and after.at <= now
    # Each fallback row looks its translation up in the (story_id, locale) index (an item
    # of no story has none: NULL equals nothing). PostgreSQL would rather hash every public
    # row of the locale, on every page; OFFSET 0 keeps the lookup per row.
    fence = " OFFSET 0" if sql.postgres else ""
    where = [
        rule("c", after.at if bounded and after is not None else None),
        f"(c.locale = {sql(filters.locale)} OR (c.locale = {sql(filters.fallback_locale)}"
        " AND NOT EXISTS (SELECT 1 FROM content t"
        f" WHERE t.story_id = c.story_id AND t.locale = {sql(filters.locale)}"
        f" AND {rule('t')}{fence})))",
    ]
    if bounded and after is not None:
        where.append(f"(c.published_at < {sql(after.at)} OR c.id < {sql(after.id)})")
    if filters.kinds:
        where.append(f"c.kind IN ({', '.join(sql(kind.value) for kind in filters.kinds)})")
    if filters.section is not None:
        where.append(f"c.section_id = (SELECT id FROM section WHERE slug = {sql(filters.section)})")
    if filters.tag is not None:
        where.append(
            "EXISTS (SELECT 1 FROM content_tag ct JOIN tag g ON g.id = ct.tag_id"
            f" WHERE ct.content_id = c.id AND g.slug = {sql(filters.tag)})"
        )
    if filters.author is not None or filters.author_id is not None:
        author = (
            f"a.slug = {sql(filters.author)}"
            if filters.author is not None
            else f"a.id = {sql(filters.author_id)}"
        )
        where.append(
            "EXISTS (SELECT 1 FROM content_author ca JOIN author a ON a.id = ca.author_id"
            f" WHERE ca.content_id = c.id AND {author})"
        )
    statement = (
        "SELECT c.id AS id FROM content c WHERE " + " AND ".join(where)
        + f" ORDER BY c.published_at DESC, c.id DESC LIMIT {sql(first + 1)}"
    )  # fmt: skip
    rows = await connection.execute_query_dict(statement, sql.params)
    wanted = [int(row["id"]) for row in rows]
    loaded = {record.id: record for record in await lookups.records_by_ids(wanted, include)}
    records = [loaded[id] for id in wanted if id in loaded]
    page = _cut(records, first=first, after=after, time_field="published_at")
    await lookups.attach_relations(page.items, include)
    return page


async def _review_queue(
    *,
    first: int,
    after: Cursor | None,
    kinds: tuple[ContentKind, ...],
    include: lookups.Include,
) -> Page:
    """The items in review, oldest submission first (by submitted_at, then id)."""
    values: dict[str, object] = {"limit": first + 1}
    if after is not None:
        values |= {"after_at": after.at, "after_id": after.id}

    def build(markers: prepared.Markers) -> QuerySet[Content]:
        query = Content.filter(status=ContentStatus.IN_REVIEW)
        if kinds:
            query = query.filter(kind__in=list(kinds))
        if after is not None:
            at = markers.datetime("after_at")
            query = query.filter(submitted_at__gte=at).filter(
                Q(submitted_at__gt=at) | Q(id__gt=markers.int("after_id"))
            )
        return query.order_by("submitted_at", "id").limit(markers.int("limit"))

    records = await lookups.prepared_records(
        ("review_queue", kinds, after is not None), build, values, include, seeks=False
    )
    page = _cut(records, first=first, after=after, time_field="submitted_at")
    await lookups.attach_relations(page.items, include)
    return page


_TIMED = (ContentStatus.PUBLISHED, ContentStatus.SCHEDULED, ContentStatus.EXPIRED)
