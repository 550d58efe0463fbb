"""Prepared statements answer exactly what the querysets they are built from answer: the
same rows, converted the same way, on SQLite and PostgreSQL, for every shape of the feed
and the single-item reads (a differential test against Tortoise's own query path)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tortoise.expressions import Q

from cms import clock, prepared
from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.content import feed, items, lookups, visibility
from cms.content.enums import ContentKind, ContentStatus
from cms.models import Content
from tests import factories

EDITOR = Viewer(name="editor", role=Role.EDITOR, token_id=None)
NOW = clock.utcnow().replace(microsecond=0)


async def _newsroom() -> list[int]:
    war = await factories.make_section(slug="war", name="War")
    desk = await factories.make_author(slug="news-desk", avatar=True)
    ids = []
    for n in range(7):
        make = factories.make_article if n % 3 else factories.make_video_episode
        item = await make(
            title=f"Item {n}",
            section=war if n % 2 else None,
            authors=[desk] if n % 3 == 1 else [],
            tags=["kyiv"] if n % 2 == 0 else [],
            hero_image=n == 4,
            # two share a time: the keyset's tie-break on id is exercised
            published_at=NOW - timedelta(minutes=n // 2) if n != 6 else None,
            locale="uk" if n == 5 else None,
        )
        ids.append(item.id)
    return ids


FILTERS = [
    feed.FeedFilter(),
    feed.FeedFilter(section="war"),
    feed.FeedFilter(tag="kyiv"),
    feed.FeedFilter(author="news-desk"),
    feed.FeedFilter(section="war", kinds=(ContentKind.ARTICLE,)),
    feed.FeedFilter(locale="uk"),
    feed.FeedFilter(section="nowhere"),
]


async def test_every_feed_shape_answers_as_the_queryset_does(db: None) -> None:
    ids = await _newsroom()
    author_id = (await Content.get(id=ids[1]).prefetch_related("bylines")).bylines[0].author_id
    filters = [*FILTERS, feed.FeedFilter(author_id=author_id)]
    cursors = [
        None,
        feed.Cursor(NOW - timedelta(minutes=1), ids[3]),
        feed.Cursor(NOW + timedelta(days=1), 1),
    ]
    includes = [lookups.EVERYTHING, lookups.Include(), lookups.Include(body=True, section=True)]
    for filters_, after, include in itertools.product(filters, cursors, includes):
        for first in (1, 3, 20):
            page = await feed.feed(
                now=NOW, first=first, after=after, filters=filters_, include=include
            )
            query = feed.page_query(
                feed.public_query(now=NOW, after=after, filters=filters_),
                limit=first + 1,
                time_field="published_at",
            )
            expected = await lookups.content_records(query, include)
            await lookups.attach_relations(expected[:first], include)
            assert page.items == expected[:first], (filters_, after, include, first)
            assert page.has_next == (len(expected) > first)


@pytest.mark.parametrize("viewer", [ANONYMOUS, EDITOR], ids=["anonymous", "editor"])
async def test_single_items_answer_as_the_queryset_does(db: None, viewer: Viewer) -> None:
    ids = await _newsroom()
    for id in [*ids, 999_999]:
        for kind in (None, ContentKind.ARTICLE, ContentKind.VIDEO_EPISODE):
            got = await items.by_id(id=id, viewer=viewer, now=NOW, kind=kind)
            query = Content.filter(id=id)
            if kind is not None:
                query = query.filter(kind=kind)
            query = visibility.visible_to(query, viewer=viewer, now=NOW).limit(1)
            expected = await lookups.content_records(query, lookups.EVERYTHING)
            await lookups.attach_relations(expected, lookups.EVERYTHING)
            assert got == (expected[0] if expected else None), (id, kind)
    for n in range(7):
        slug = f"item-{n}"
        for kind in ContentKind:
            got = await items.by_slug(
                kind=kind, slug=slug, viewer=viewer, now=NOW, default_locale="en"
            )
            assert (got is not None) == (
                await visibility.visible_to(
                    Content.filter(kind=kind, slug=slug), viewer=viewer, now=NOW
                ).exists()
            )


async def test_a_query_whose_marker_is_lost_is_refused(db: None) -> None:
    markers = prepared.Markers()
    markers.str("slug")  # never used by the query below

    with pytest.raises(prepared.PrepareError, match="slug"):
        prepared.prepare(Content.filter(kind=ContentKind.ARTICLE).values("id"), markers)


async def test_repeated_kinds_are_one_filter_and_one_statement(db: None) -> None:
    """A client's `kinds` list cannot grow the statement cache: repeats and order fold."""
    await _newsroom()
    once = await feed.feed(now=NOW, first=20, filters=feed.FeedFilter(kinds=(ContentKind.ARTICLE,)))
    prepared_before = len(lookups.prepared_statements())

    repeated = feed.FeedFilter(kinds=(ContentKind.ARTICLE,) * 500)
    many = await feed.feed(now=NOW, first=20, filters=repeated)
    both = feed.FeedFilter(kinds=(ContentKind.VIDEO_EPISODE, ContentKind.ARTICLE) * 3)

    assert repeated.kinds == (ContentKind.ARTICLE,)
    assert both.kinds == (ContentKind.ARTICLE, ContentKind.VIDEO_EPISODE)
    assert many.items == once.items
    assert len(lookups.prepared_statements()) == prepared_before


async def test_the_visibility_rules_in_sql_keep_the_rows_their_querysets_do(db: None) -> None:
    """Search states visibility in SQL (visibility.public_sql, status_sql): the same rows
    as public_q and status_q, for every status set and clock, on each database."""
    await _newsroom()
    await factories.make_article(title="Later", published_at=NOW + timedelta(days=1))
    await factories.make_article(title="Draft")
    # Expiring: one expired before the middle clock, one after it.
    for title, days in (("Expired", -1), ("Expiring", 1)):
        row = await factories.make_article(title=title, published_at=NOW - timedelta(days=2))
        await Content.filter(id=row.id).update(expires_at=NOW + timedelta(days=days))
    connection = Content._choose_db()  # noqa: SLF001 - the connection reads use
    clocks = [NOW - timedelta(days=3), NOW, NOW + timedelta(days=2)]
    status_sets = [[], *([status] for status in ContentStatus), list(ContentStatus)]
    for now, statuses in itertools.product(clocks, status_sets):
        rules = [(visibility.status_sql(statuses, now), visibility.status_q(statuses, now))]
        if not statuses:
            rules = [(visibility.public_sql(now), visibility.public_q(now))]
        for (sql, values), q in rules:
            sql_rows = await connection.execute_query_dict(
                "SELECT c.id AS id FROM content c WHERE " + _numbered(sql, connection),
                [_stored(value, connection) for value in values],
            )
            expected = await Content.filter(q).values_list("id", flat=True)
            assert sorted(row["id"] for row in sql_rows) == sorted(expected), (now, statuses)


def _numbered(sql: str, connection: object) -> str:
    if connection.capabilities.dialect != "postgres":  # type: ignore[attr-defined]
        return sql
    count = itertools.count(1)
    return "".join(f"${next(count)}" if char == "?" else char for char in sql)


def _stored(value: object, connection: object) -> object:
    if isinstance(value, datetime) and connection.capabilities.dialect != "postgres":  # type: ignore[attr-defined]
        return value.astimezone(UTC).isoformat(sep=" ")
    return value


async def test_contents_answers_as_the_queryset_does(db: None) -> None:
    ids = await _newsroom()
    await factories.make_article(title="Later", published_at=NOW + timedelta(days=1))
    statuses_ = [None, [], [ContentStatus.DRAFT], [ContentStatus.SCHEDULED],
                 [ContentStatus.PUBLISHED, ContentStatus.DRAFT, ContentStatus.PUBLISHED],
                 list(ContentStatus)]  # fmt: skip
    kinds_ = [None, [ContentKind.VIDEO_EPISODE], [ContentKind.ARTICLE, ContentKind.ARTICLE]]
    newest = (await Content.get(id=ids[-1])).updated_at
    cursors = [None, feed.Cursor(newest, ids[-1]), feed.Cursor(NOW + timedelta(days=9), 1)]
    for statuses, kinds, after in itertools.product(statuses_, kinds_, cursors):
        page = await feed.contents(now=NOW, first=3, after=after, statuses=statuses, kinds=kinds)
        query = Content.all()
        if statuses:
            query = query.filter(visibility.status_q(statuses, NOW))
        if kinds:
            query = query.filter(kind__in=list(kinds))
        if after is not None:
            query = query.filter(updated_at__lte=after.at).filter(
                Q(updated_at__lt=after.at) | Q(id__lt=after.id)
            )
        query = feed.page_query(query, limit=4, time_field="updated_at")
        expected = await lookups.content_records(query, lookups.EVERYTHING)
        await lookups.attach_relations(expected[:3], lookups.EVERYTHING)
        assert page.items == expected[:3], (statuses, kinds, after)
        assert page.has_next == (len(expected) > 3)


async def test_an_author_is_read_by_slug_or_id(db: None) -> None:
    desk = await factories.make_author(slug="news-desk", avatar=True)

    by_slug = await lookups.author(slug="news-desk")
    by_id = await lookups.author(id=desk.id, avatar=False)

    assert by_slug is not None and by_slug.avatar is not None and by_slug.id == desk.id
    assert by_id is not None and by_id.avatar is None and by_id.slug == "news-desk"
    assert await lookups.author(slug="nobody") is None
    assert await lookups.author(id=999_999) is None


@pytest.mark.parametrize(
    "stored",
    [
        "2026-11-29 10:00:00+00:00",
        "2026-11-29T10:00:00.123456+02:00",
        "2026-11-29 10:00:00",
        datetime(2026, 11, 29, 10, tzinfo=UTC),
        datetime(2026, 11, 29, 12, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 11, 29, 10),
        None,
    ],
)
def test_a_datetime_column_converts_as_tortoise_converts_it(stored: object) -> None:
    field = Content._meta.fields_map["published_at"]  # noqa: SLF001 - Tortoise's own field
    faster = prepared._faster(field.to_python_value)  # noqa: SLF001

    converted, reference = faster(stored), field.to_python_value(stored)
    assert converted == reference
    assert repr(converted) == repr(reference)  # the same time zone object, not only instant


def test_datetime_text_tortoise_refuses_is_refused_the_same_way() -> None:
    field = Content._meta.fields_map["published_at"]  # noqa: SLF001
    faster = prepared._faster(field.to_python_value)  # noqa: SLF001
    with pytest.raises(Exception) as expected:
        field.to_python_value("not a date")
    with pytest.raises(type(expected.value)):
        faster("not a date")
