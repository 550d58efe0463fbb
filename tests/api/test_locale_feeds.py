"""Locale feeds with fallback (issue 15, part 2): feed(locale: "uk") is the Ukrainian feed;
feed(locale: "uk", fallbackLocale: "en") shows each story once, in Ukrainian where its
Ukrainian item is public, otherwise in English, newest first; keyset paging through it is
stable and flat (no duplicates, no gaps; a deep page costs what the first costs, checked
with EXPLAIN on both databases); filters combine with it; /feed.xml and /feed.json take
?locale= and ?fallbackLocale= and set their language. Item URLs follow the locale rule.
Over HTTP as anonymous readers and token holders, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from tortoise import Tortoise

from cms import clock
from cms.config import Settings
from cms.content import editing, inputs, lookups, publishing
from cms.models import AuthorKind, Content, ContentKind
from tests import factories
from tests.api.conftest import api_article, api_publish, gql, gql_data
from tests.api.graphql_client import app_client, error_codes
from tests.factories import ADMIN_VIEWER
from tests.statements import counting

SITE = "https://news.example"

FEED = """
query Feed($first: Int, $after: String, $locale: String, $fallbackLocale: String,
           $section: String, $tag: String, $author: String, $kinds: [ContentKind!]) {
  feed(first: $first, after: $after, locale: $locale, fallbackLocale: $fallbackLocale,
       section: $section, tag: $tag, author: $author, kinds: $kinds) {
    edges { cursor node { slug locale url } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

FULL_FEED = """
query Feed($first: Int!, $after: String) {
  feed(first: $first, after: $after, locale: "uk", fallbackLocale: "en") {
    edges {
      cursor
      node {
        __typename id title slug locale url publishedAt
        authors { name slug avatar { url } }
        tags { slug }
        section { slug }
        heroImage { url }
        ... on Article { body }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


# --- seeding through the services ------------------------------------------------------


async def _item(
    slug: str,
    *,
    locale: str = "en",
    of: Content | None = None,
    at: datetime | None = None,
    until: datetime | None = None,
    kind: ContentKind = ContentKind.ARTICLE,
    section: str | None = None,
    authors: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    hero_image: int | None = None,
) -> Content:
    """An item `slug` in `locale` (a translation of `of` when given): a draft, or published
    at `at` (until `until`)."""
    data = inputs.ContentInput(title=f"{slug} ({locale})", slug=slug, locale=locale)
    if kind == ContentKind.ARTICLE:
        data.body = f"The {locale} text."
    else:
        data.video_url = f"https://video.example/{slug}.mp4"
    if of is not None:
        data.translation_of = of.id
    if section is not None:
        data.section_slug = section
    data.author_slugs = list(authors)
    data.tag_slugs = list(tags)
    if hero_image is not None:
        data.hero_image_id = hero_image
    record = await editing.create(
        kind=kind, data=data, viewer=ADMIN_VIEWER, default_locale="en", include=lookups.NOTHING
    )
    if at is not None:
        await publishing.publish(
            id=record.id, viewer=ADMIN_VIEWER, at=at, until=until, include=lookups.NOTHING
        )
    return await Content.get(id=record.id)


async def _stories(now: datetime) -> None:
    """Stories in every state a Ukrainian item can be in beside a public English one, and
    single-locale ones (read them at `now` + 5 minutes: the expiring one has expired)."""

    def ago(minutes: int) -> datetime:
        return now - timedelta(minutes=minutes)

    both = await _item("both-public", at=ago(10))
    await _item("both-public", locale="uk", of=both, at=ago(5))
    draft = await _item("uk-draft", at=ago(20))
    await _item("uk-draft", locale="uk", of=draft)
    scheduled = await _item("uk-scheduled", at=ago(30))
    await _item("uk-scheduled", locale="uk", of=scheduled, at=now + timedelta(hours=1))
    expired = await _item("uk-expired", at=ago(40))
    await _item("uk-expired", locale="uk", of=expired, at=ago(35), until=now + timedelta(minutes=1))
    killed = await _item("uk-killed", at=ago(50))
    killed_uk = await _item("uk-killed", locale="uk", of=killed, at=ago(45))
    await publishing.kill(id=killed_uk.id, viewer=ADMIN_VIEWER, reason="Legal")
    archived = await _item("uk-archived", at=ago(60))
    archived_uk = await _item("uk-archived", locale="uk", of=archived, at=ago(55))
    await publishing.archive(id=archived_uk.id, viewer=ADMIN_VIEWER)
    # A Ukrainian original with a newer English translation.
    ukrainian_first = await _item("uk-first", locale="uk", at=ago(65))
    await _item("uk-first", of=ukrainian_first, at=ago(2))
    await _item("english-only", at=ago(70))
    await _item("ukrainian-only", locale="uk", at=ago(80))
    english_draft = await _item("english-draft")
    await _item("english-draft", locale="uk", of=english_draft, at=ago(90))
    # The Ukrainian item older than the English one: shown at its own time.
    older = await _item("uk-older", at=ago(3))
    await _item("uk-older", locale="uk", of=older, at=ago(100))
    # Neither public: the story is not in any feed.
    neither = await _item("neither", at=ago(15))
    await publishing.kill(id=neither.id, viewer=ADMIN_VIEWER, reason="Legal")
    await _item("neither", locale="uk", of=neither)


FALLBACK = [
    "both-public/uk",
    "uk-draft/en",
    "uk-scheduled/en",
    "uk-expired/en",
    "uk-killed/en",
    "uk-archived/en",
    "uk-first/uk",
    "english-only/en",
    "ukrainian-only/uk",
    "english-draft/uk",
    "uk-older/uk",
]
UKRAINIAN = [
    "both-public/uk",
    "uk-first/uk",
    "ukrainian-only/uk",
    "english-draft/uk",
    "uk-older/uk",
]
ENGLISH = [
    "uk-first/en",
    "uk-older/en",
    "both-public/en",
    "uk-draft/en",
    "uk-scheduled/en",
    "uk-expired/en",
    "uk-killed/en",
    "uk-archived/en",
    "english-only/en",
]
# English with Ukrainian fallback: the mirror image.
ENGLISH_FALLBACK = [
    "uk-first/en",
    "uk-older/en",
    "both-public/en",
    "uk-draft/en",
    "uk-scheduled/en",
    "uk-expired/en",
    "uk-killed/en",
    "uk-archived/en",
    "english-only/en",
    "ukrainian-only/uk",
    "english-draft/uk",
]


# --- reading ---------------------------------------------------------------------------


def _rows(feed: dict[str, Any]) -> list[str]:
    return [f"{edge['node']['slug']}/{edge['node']['locale']}" for edge in feed["edges"]]


async def _feed(
    client: httpx.AsyncClient, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    feed: dict[str, Any] = (await gql_data(client, FEED, variables, token))["feed"]
    return feed


async def _walk(
    client: httpx.AsyncClient,
    *,
    first: int,
    after: str | None = None,
    token: str | None = None,
    **filters: Any,
) -> list[list[str]]:
    """Every page from `after`, following endCursor until hasNextPage is false."""
    pages: list[list[str]] = []
    for _ in range(100):
        feed = await _feed(client, token, first=first, after=after, **filters)
        pages.append(_rows(feed))
        if not feed["pageInfo"]["hasNextPage"]:
            return pages
        after = feed["pageInfo"]["endCursor"]
        assert after, "hasNextPage is true but there is no endCursor"
    raise AssertionError("the feed never ended")


def _flat(pages: list[list[str]]) -> list[str]:
    return [row for page in pages for row in page]


READERS = ["anonymous", "viewer", "editor"]


def _token(tokens_by_role: dict[str, str], reader: str) -> str | None:
    return None if reader == "anonymous" else tokens_by_role[reader]


# --- the locale feed and the fallback feed -----------------------------------------------


@pytest.mark.parametrize("reader", READERS)
async def test_each_story_once_in_the_locale_where_it_is_public_else_in_the_fallback(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], reader: str
) -> None:
    now = clock.utcnow()
    await _stories(now)
    token = _token(tokens_by_role, reader)

    with clock.frozen(now + timedelta(minutes=5)):
        ukrainian = await _feed(client, token, locale="uk", first=50)
        english = await _feed(client, token, locale="en", first=50)
        fallback = await _feed(client, token, locale="uk", fallbackLocale="en", first=50)
        mirrored = await _feed(client, token, locale="en", fallbackLocale="uk", first=50)

    assert _rows(ukrainian) == UKRAINIAN
    assert _rows(english) == ENGLISH
    assert _rows(fallback) == FALLBACK
    assert _rows(mirrored) == ENGLISH_FALLBACK
    assert fallback["pageInfo"]["hasNextPage"] is False
    stories = [row.split("/")[0] for row in _rows(fallback)]
    assert len(stories) == len(set(stories)), "a story shown twice"


async def test_a_scheduled_translation_takes_its_storys_place_when_its_time_comes(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await _stories(now)

    with clock.frozen(now + timedelta(hours=1) - timedelta(microseconds=1)):
        before = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=50))
    with clock.frozen(now + timedelta(hours=1)):
        at = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=50))

    assert "uk-scheduled/en" in before and "uk-scheduled/uk" not in before
    assert at[0] == "uk-scheduled/uk"
    assert "uk-scheduled/en" not in at
    assert at[1:] == [row for row in FALLBACK if row != "uk-scheduled/en"]


async def test_an_expiring_translation_gives_its_place_back_at_that_moment(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await _stories(now)

    with clock.frozen(now + timedelta(minutes=1) - timedelta(microseconds=1)):
        before = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=50))
    with clock.frozen(now + timedelta(minutes=1)):
        at = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=50))

    assert "uk-expired/uk" in before and "uk-expired/en" not in before
    assert "uk-expired/en" in at and "uk-expired/uk" not in at


async def test_a_fallback_locale_equal_to_the_locale_is_the_locale_feed(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await _stories(now)

    with clock.frozen(now + timedelta(minutes=5)):
        same_uk = await _feed(client, locale="uk", fallbackLocale="uk", first=50)
        same_en = await _feed(client, locale="en", fallbackLocale="en", first=50)
        paged = _flat(await _walk(client, first=2, locale="uk", fallbackLocale="uk"))

    assert _rows(same_uk) == UKRAINIAN == paged
    assert _rows(same_en) == ENGLISH


async def test_a_fallback_to_a_locale_without_content_is_the_locale_feed(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await _stories(now)

    with clock.frozen(now + timedelta(minutes=5)):
        feed = await _feed(client, locale="uk", fallbackLocale="pl", first=50)
        nothing = await _feed(client, locale="pl", fallbackLocale="de", first=50)

    assert _rows(feed) == UKRAINIAN
    assert _rows(nothing) == []
    assert nothing["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "endCursor": None,
    }


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_a_fallback_locale_without_a_locale_is_an_error_naming_it(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], reader: str
) -> None:
    await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))

    status, body = await gql(
        client, FEED, {"fallbackLocale": "en", "first": 5}, _token(tokens_by_role, reader)
    )

    assert status == 200, body
    assert body["data"] is None
    assert len(body["errors"]) == 1, body
    assert "fallbackLocale" in body["errors"][0]["message"]
    assert error_codes(body) == ["BAD_USER_INPUT"]


# --- paging ----------------------------------------------------------------------------


@pytest.mark.parametrize("first", [1, 2, 3, 20])
async def test_paging_the_fallback_feed_visits_each_story_exactly_once(
    client: httpx.AsyncClient, first: int
) -> None:
    now = clock.utcnow()
    await _stories(now)

    with clock.frozen(now + timedelta(minutes=5)):
        pages = await _walk(client, first=first, locale="uk", fallbackLocale="en")

    assert _flat(pages) == FALLBACK
    assert all(len(page) == first for page in pages[:-1])
    assert len(pages) == -(-len(FALLBACK) // first)


async def test_paging_through_ties_and_whole_seconds_is_flat(client: httpx.AsyncClient) -> None:
    """Ties in publishedAt between shown rows (English beside Ukrainian; the id breaks
    them), and whole-second times beside fractional ones."""
    base = clock.utcnow().replace(microsecond=0) - timedelta(hours=1)
    offsets = [0, 1, 1, 1, 1.5, 2, 3, 3, 3.25, 4, 4]
    shown: list[Content] = []
    for number, seconds in enumerate(offsets):
        at = base - timedelta(seconds=seconds)
        kind = ContentKind.VIDEO_EPISODE if number % 3 == 0 else ContentKind.ARTICLE
        english = await _item(f"story-{number}", at=at, kind=kind)
        if number % 2 == 0:  # a public Ukrainian item at a time another story has too
            twin = base - timedelta(seconds=offsets[(number + 1) % len(offsets)])
            shown.append(
                await _item(f"story-{number}", locale="uk", of=english, at=twin, kind=kind)
            )
        elif number % 3 == 1:  # a Ukrainian draft: English it is
            await _item(f"story-{number}", locale="uk", of=english, kind=kind)
            shown.append(english)
        else:
            shown.append(english)
    expected = [
        f"{item.slug}/{item.locale}"
        for item in sorted(shown, key=lambda item: (item.published_at, item.id), reverse=True)
    ]

    everything = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=50))
    for first in (1, 2, 3):
        pages = await _walk(client, first=first, locale="uk", fallbackLocale="en")
        assert _flat(pages) == expected, first

    assert everything == expected


async def test_a_cursor_stays_valid_while_news_is_published_on_top(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await _stories(now)
    later = now + timedelta(minutes=5)

    with clock.frozen(later):
        page_1 = await _feed(client, locale="uk", fallbackLocale="en", first=2)
    assert _rows(page_1) == FALLBACK[:2]  # both-public/uk, uk-draft/en

    with clock.frozen(later + timedelta(minutes=1)):
        # New stories on top, and the Ukrainian draft of a story already seen published.
        await _item("breaking", at=clock.utcnow())
        await _item("urgent", locale="uk", at=clock.utcnow())
        draft = await Content.get(slug="uk-draft", locale="uk")
        await publishing.publish(id=draft.id, viewer=ADMIN_VIEWER, include=lookups.NOTHING)
        rest = await _walk(
            client, first=2, after=page_1["pageInfo"]["endCursor"], locale="uk",
            fallbackLocale="en",
        )  # fmt: skip
        top = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=3))

    seen = _rows(page_1) + _flat(rest)
    assert seen == FALLBACK, "a duplicate or a skipped story"
    assert sorted(top) == ["breaking/en", "uk-draft/uk", "urgent/uk"]


# --- filters ---------------------------------------------------------------------------


async def _desk() -> None:
    """Stories across sections, bylines, tags and kinds; translations carry the original's
    section, bylines and tags, as the demo's do."""
    now = clock.utcnow()

    def ago(minutes: int) -> datetime:
        return now - timedelta(minutes=minutes)

    await factories.make_section(slug="war")
    await factories.make_section(slug="business")
    await factories.make_author(slug="news-desk", kind=AuthorKind.DESK)
    await factories.make_author(slug="iryna")

    async def story(
        slug: str,
        english_at: int | None,
        ukrainian_at: int | None | str,
        kind: ContentKind = ContentKind.ARTICLE,
        **relations: Any,
    ) -> None:
        original = None
        if english_at is not None:
            original = await _item(slug, at=ago(english_at), kind=kind, **relations)
        if ukrainian_at == "draft":
            await _item(slug, locale="uk", of=original, kind=kind, **relations)
        elif isinstance(ukrainian_at, int):
            at = ago(ukrainian_at)
            await _item(slug, locale="uk", of=original, at=at, kind=kind, **relations)

    war, business = {"section": "war"}, {"section": "business"}
    await story("a", 1, 2, authors=("news-desk",), tags=("mobilization",), **war)
    await story("b", 3, "draft", ContentKind.VIDEO_EPISODE, authors=("iryna",),
                tags=("sabotage",), **war)  # fmt: skip
    await story("c", 4, 5, authors=("iryna",), tags=("mobilization",), **business)
    await story("d", None, 6, authors=("news-desk",), **war)
    await story("e", 7, None, authors=("news-desk",), **war)
    await story("f", 8, 9, ContentKind.VIDEO_EPISODE, authors=("news-desk",), **business)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["a/uk", "b/en", "c/uk", "d/uk", "e/en", "f/uk"]),
        ({"section": "war"}, ["a/uk", "b/en", "d/uk", "e/en"]),
        ({"section": "business"}, ["c/uk", "f/uk"]),
        ({"tag": "mobilization"}, ["a/uk", "c/uk"]),
        ({"tag": "sabotage"}, ["b/en"]),
        ({"author": "news-desk"}, ["a/uk", "d/uk", "e/en", "f/uk"]),
        ({"author": "iryna"}, ["b/en", "c/uk"]),
        ({"kinds": ["VIDEO_EPISODE"]}, ["b/en", "f/uk"]),
        ({"kinds": ["ARTICLE"]}, ["a/uk", "c/uk", "d/uk", "e/en"]),
        ({"kinds": ["ARTICLE", "VIDEO_EPISODE"]}, ["a/uk", "b/en", "c/uk", "d/uk", "e/en", "f/uk"]),
        ({"section": "war", "kinds": ["ARTICLE"], "author": "news-desk"}, ["a/uk", "d/uk", "e/en"]),
        ({"section": "business", "tag": "mobilization"}, ["c/uk"]),
        ({"section": "no-such-section"}, []),
        ({"tag": "no-such-tag"}, []),
        ({"author": "no-such-author"}, []),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else None,
)
async def test_filters_narrow_the_fallback_feed(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    filters: dict[str, Any],
    expected: list[str],
) -> None:
    await _desk()

    anonymous = _rows(await _feed(client, locale="uk", fallbackLocale="en", first=20, **filters))
    holder = _rows(
        await _feed(
            client, tokens_by_role["viewer"], locale="uk", fallbackLocale="en", first=20, **filters
        )
    )
    paged = _flat(await _walk(client, first=1, locale="uk", fallbackLocale="en", **filters))

    assert anonymous == holder == paged == expected


# --- the response cache ----------------------------------------------------------------

CACHED_FEED = (
    '{ feed(first: 20, locale: "uk", fallbackLocale: "en") { edges { node { slug locale } } } }'
)


async def _cached(client: httpx.AsyncClient, app: Any) -> tuple[list[str], bool]:
    """An anonymous GET of the fallback feed: its rows, and whether the cache answered."""
    hits = app.state.response_cache.hits
    response = await client.get("/graphql", params={"query": CACHED_FEED})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    rows = [f"{e['node']['slug']}/{e['node']['locale']}" for e in body["data"]["feed"]["edges"]]
    return rows, app.state.response_cache.hits > hits


async def test_a_cached_fallback_feed_changes_language_the_moment_a_translation_does(
    client: httpx.AsyncClient, app: Any, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    english = await api_article(client, editor, title="Dam", slug="dam")
    await api_publish(client, editor, english["id"], at=(now - timedelta(minutes=10)).isoformat())
    create = """
    mutation($of: ID!) { createArticle(input: {title: "Дамба", slug: "dam", locale: "uk",
                                               translationOf: $of}) { ... on Article { id } } }
    """
    ukrainian = (await gql_data(client, create, {"of": english["id"]}, editor))["createArticle"]

    first, _ = await _cached(client, app)
    again, hit = await _cached(client, app)
    until = (now + timedelta(minutes=30)).isoformat()
    publish = (
        "mutation($id: ID!, $until: DateTime) { publish(id: $id, until: $until) { __typename } }"
    )
    await gql_data(client, publish, {"id": ukrainian["id"], "until": until}, editor)
    published, _ = await _cached(client, app)
    cached, hit_again = await _cached(client, app)
    with clock.frozen(now + timedelta(minutes=31)):
        expired, _ = await _cached(client, app)
    await gql_data(client, publish, {"id": ukrainian["id"], "until": None}, editor)
    republished, _ = await _cached(client, app)
    kill = 'mutation($id: ID!) { kill(id: $id, reason: "Legal") { __typename } }'
    await gql_data(client, kill, {"id": ukrainian["id"]}, editor)
    killed, _ = await _cached(client, app)

    assert first == again == ["dam/en"]
    assert hit, "the second read should come from the cache"
    assert published == cached == ["dam/uk"]
    assert hit_again
    assert expired == ["dam/en"]
    assert republished == ["dam/uk"]
    assert killed == ["dam/en"]


# --- the query plan and the statements -------------------------------------------------


class _Sent(logging.Handler):
    """The statements Tortoise sends, with their parameters (it logs both at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.sent: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2:
            query, values = record.args
            if isinstance(query, str) and isinstance(values, list | tuple):
                self.sent.append((query, list(values)))


@pytest.fixture
def sent() -> Iterator[_Sent]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = _Sent(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def _index_names(is_sqlite: bool) -> tuple[str, str]:
    """The names of the feed index and of the unique (story_id, locale) index."""
    conn = Tortoise.get_connection("default")
    if is_sqlite:
        rows = await conn.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'content'"
            ' AND sql LIKE \'%UNIQUE%("story_id", "locale")%\''
        )
    else:
        rows = await conn.execute_query_dict(
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'content'"
            " AND indexdef LIKE 'CREATE UNIQUE INDEX%(story_id, locale)'"
        )
    assert len(rows) == 1, rows
    return "content_feed_idx", str(rows[0]["name"])


async def _plan(is_sqlite: bool, sql: str, values: list[Any]) -> str:
    conn = Tortoise.get_connection("default")
    if is_sqlite:
        rows = await conn.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}", values)
        return "\n".join(str(row["detail"]) for row in rows)
    # Tiny test tables make a sequential scan cheapest; forbid it to see whether the
    # indexes can drive the query at all (order included: no Sort node).
    async with conn._in_transaction() as transaction:  # noqa: SLF001 - SET LOCAL needs one
        await transaction.execute_script("SET LOCAL enable_seqscan = off")
        rows = await transaction.execute_query_dict(f"EXPLAIN {sql}", values)
    return "\n".join(str(row["QUERY PLAN"]) for row in rows)


def _fallback_statement(sent: _Sent) -> tuple[str, list[Any]]:
    found = [(sql, values) for sql, values in sent.sent if "NOT EXISTS" in sql.upper()]
    assert len(found) == 1, sent.sent
    return found[0]


async def _archive(stories: int) -> None:
    """`stories` English stories a minute apart, every other one with a public Ukrainian
    item, every third with a Ukrainian draft; bylines, tags, sections and images."""
    now = clock.utcnow()
    await factories.make_section(slug="war")
    for number in range(2):
        await factories.make_author(slug=f"author-{number}", avatar=True)
    hero = (await factories.make_media()).id
    for number in range(stories):
        relations: dict[str, Any] = {
            "section": "war",
            "authors": (f"author-{number % 2}",),
            "tags": (f"tag-{number % 3}",),
            "hero_image": hero,
        }
        at = now - timedelta(minutes=2 * number + 1)
        english = await _item(f"story-{number}", at=at, **relations)
        if number % 2 == 0:
            uk_at = now - timedelta(minutes=2 * number + 2)
            await _item(f"story-{number}", locale="uk", of=english, at=uk_at, **relations)
        elif number % 3 == 0:
            await _item(f"story-{number}", locale="uk", of=english, **relations)


async def test_first_and_deep_pages_use_the_feed_index_and_the_story_index(
    client: httpx.AsyncClient, settings: Settings, sent: _Sent
) -> None:
    await _archive(12)
    feed_index, story_index = await _index_names(settings.is_sqlite)

    sent.sent.clear()
    first_page = await _feed(client, locale="uk", fallbackLocale="en", first=3)
    first_sql, first_values = _fallback_statement(sent)
    sent.sent.clear()
    cursor = first_page["pageInfo"]["endCursor"]
    deep_page = await _feed(client, locale="uk", fallbackLocale="en", first=3, after=cursor)
    deep_sql, deep_values = _fallback_statement(sent)

    assert len(_rows(first_page)) == len(_rows(deep_page)) == 3
    for sql, values in ((first_sql, first_values), (deep_sql, deep_values)):
        plan = await _plan(settings.is_sqlite, sql, values)
        assert feed_index in plan, plan
        assert story_index in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
        assert "Seq Scan" not in plan, plan
        lines = [line.strip() for line in plan.splitlines()]
        assert not [line for line in lines if line.startswith("SCAN") and "INDEX" not in line], plan


async def test_every_page_of_the_fallback_feed_costs_the_same_statements(
    client: httpx.AsyncClient,
) -> None:
    await _archive(30)

    async def counted(first: int, after: str | None = None) -> tuple[dict[str, Any], int]:
        with counting() as statements:
            data = await gql_data(client, FULL_FEED, {"first": first, "after": after})
        return data["feed"], len(statements)

    one, cost_of_one = await counted(1)
    twenty, cost_of_twenty = await counted(20)
    pages = []
    after = None
    for _ in range(5):
        page, cost = await counted(5, after)
        pages.append((page, cost))
        after = page["pageInfo"]["endCursor"]

    assert len(one["edges"]) == 1 and len(twenty["edges"]) == 20
    assert all(len(page["edges"]) == 5 for page, _ in pages)
    nodes = [edge["node"] for page, _ in pages for edge in page["edges"]]
    assert all(node["authors"][0]["avatar"] and node["tags"] and node["section"] for node in nodes)
    assert all(node["heroImage"] for node in nodes)
    costs = {cost_of_one, cost_of_twenty, *(cost for _, cost in pages)}
    assert len(costs) == 1, (cost_of_one, cost_of_twenty, [cost for _, cost in pages])
    # The plain feed's three statements, and the one that picks the page's rows.
    assert costs == {4}


# --- RSS and JSON Feed -----------------------------------------------------------------


def _rss(response: httpx.Response) -> tuple[str | None, list[str]]:
    """The RSS channel's language and its items' links."""
    assert response.status_code == 200, response.text
    channel = ElementTree.fromstring(response.content).find("channel")
    assert channel is not None
    links = [item.findtext("link") or "" for item in channel.findall("item")]
    return channel.findtext("language"), links


def _json_feed(response: httpx.Response) -> tuple[str, list[str], list[str], str]:
    """JSON Feed's language, its items' URLs and languages, and its feed_url."""
    assert response.status_code == 200, response.text
    document = orjson.loads(response.content)
    items = document["items"]
    return (
        document["language"],
        [item["url"] for item in items],
        [item["language"] for item in items],
        document["feed_url"],
    )


def _url(row: str) -> str:
    slug, locale = row.split("/")
    return f"{SITE}/news/{slug}" if locale == "en" else f"{SITE}/{locale}/news/{slug}"


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_rss_and_json_feed_of_a_locale_and_with_fallback(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], reader: str
) -> None:
    now = clock.utcnow()
    await _stories(now)
    token = _token(tokens_by_role, reader)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    with clock.frozen(now + timedelta(minutes=5)):
        responses = {
            (path, query): await client.get(f"{path}{query}", headers=headers)
            for path in ("/feed.xml", "/feed.json")
            for query in ("", "?locale=uk", "?locale=uk&fallbackLocale=en", "?locale=en")
        }

    assert _rss(responses["/feed.xml", "?locale=uk"]) == ("uk", [_url(r) for r in UKRAINIAN])
    assert _rss(responses["/feed.xml", "?locale=en"]) == ("en", [_url(r) for r in ENGLISH])
    assert _rss(responses["/feed.xml", "?locale=uk&fallbackLocale=en"]) == (
        "uk",
        [_url(row) for row in FALLBACK],
    )
    language, links = _rss(responses["/feed.xml", ""])
    assert language == "en"
    assert sorted(links) == sorted(_url(row) for row in {*ENGLISH, *UKRAINIAN})

    assert _json_feed(responses["/feed.json", "?locale=uk"]) == (
        "uk",
        [_url(row) for row in UKRAINIAN],
        ["uk"] * len(UKRAINIAN),
        "http://testserver/feed.json?locale=uk",
    )
    assert _json_feed(responses["/feed.json", "?locale=uk&fallbackLocale=en"]) == (
        "uk",
        [_url(row) for row in FALLBACK],
        [row.split("/")[1] for row in FALLBACK],
        "http://testserver/feed.json?locale=uk&fallbackLocale=en",
    )
    assert _json_feed(responses["/feed.json", "?locale=en"])[:2] == (
        "en",
        [_url(row) for row in ENGLISH],
    )


async def test_feed_item_urls_follow_a_path_pattern_with_the_locale(
    settings: Settings, db: None
) -> None:
    now = clock.utcnow()
    english = await _item("bridge", at=now - timedelta(minutes=2))
    await _item("bridge", locale="uk", of=english, at=now - timedelta(minutes=1))
    episode = await _item("weekly", at=now - timedelta(minutes=4), kind=ContentKind.VIDEO_EPISODE)
    await _item(
        "weekly", locale="uk", of=episode, at=now - timedelta(minutes=3),
        kind=ContentKind.VIDEO_EPISODE,
    )  # fmt: skip
    changed = settings.model_copy(
        update={"article_path": "/{locale}/news/{slug}", "video_episode_path": "/tv/{slug}"}
    )

    async with app_client(changed) as client:
        _, rss_links = _rss(await client.get("/feed.xml"))
        _, json_urls, _, _ = _json_feed(await client.get("/feed.json"))
        graphql = await _feed(client, first=10)

    expected = [
        f"{SITE}/uk/news/bridge",
        f"{SITE}/en/news/bridge",
        f"{SITE}/uk/tv/weekly",
        f"{SITE}/tv/weekly",
    ]
    assert rss_links == json_urls == [edge["node"]["url"] for edge in graphql["edges"]] == expected


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ("?locale=de", "locale"),
        ("?locale=xx-invalid", "locale"),
        ("?locale=", "locale"),
        ("?locale=UK", "locale"),
        ("?fallbackLocale=en", "fallbackLocale"),
        ("?locale=uk&fallbackLocale=de", "fallbackLocale"),
        ("?locale=uk&locale=en", "locale"),
        ("?locale=uk&fallbackLocale=en&fallbackLocale=uk", "fallbackLocale"),
    ],
)
@pytest.mark.parametrize("path", ["/feed.xml", "/feed.json"])
async def test_a_bad_locale_argument_of_a_feed_is_a_400_naming_it(
    client: httpx.AsyncClient, path: str, query: str, argument: str
) -> None:
    await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))

    response = await client.get(f"{path}{query}")

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert argument in response.text.split(), response.text
    assert "\n" not in response.text.strip()


async def test_the_feeds_refuse_a_locale_outside_the_configured_ones(
    settings: Settings, db: None
) -> None:
    await _item("story", locale="uk", at=clock.utcnow() - timedelta(minutes=1))
    only_english = settings.model_copy(update={"locales": ("en",)})
    with_polish = settings.model_copy(update={"locales": ("en", "uk", "pl")})

    async with app_client(only_english) as client:
        refused = await client.get("/feed.json?locale=uk")
    async with app_client(with_polish) as client:
        polish = await client.get("/feed.json?locale=pl&fallbackLocale=uk")

    assert refused.status_code == 400
    assert _json_feed(polish)[:3] == ("pl", [f"{SITE}/uk/news/story"], ["uk"])


async def test_a_conditional_get_of_a_locale_feed_is_answered_by_its_own_etag(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await _stories(now)

    with clock.frozen(now + timedelta(minutes=5)):
        ukrainian = await client.get("/feed.json?locale=uk")
        fallback = await client.get("/feed.json?locale=uk&fallbackLocale=en")
        again = await client.get(
            "/feed.json?locale=uk", headers={"If-None-Match": ukrainian.headers["etag"]}
        )
        other = await client.get(
            "/feed.json?locale=uk&fallbackLocale=en",
            headers={"If-None-Match": ukrainian.headers["etag"]},
        )

    assert ukrainian.headers["etag"] != fallback.headers["etag"]
    assert again.status_code == 304
    assert other.status_code == 200
    assert json.loads(other.content)["items"]
