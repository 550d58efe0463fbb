"""The public feed over HTTP: order, visibility, paging, filters, limits, URLs, bodies."""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from cms import clock
from cms.config import Settings
from cms.content import publishing
from cms.models import AuthorKind, Content
from tests import factories
from tests.api.graphql_client import app_client, error_codes, post_graphql
from tests.factories import ADMIN_VIEWER

README_QUERY = """
{ feed(first: 5) { edges { cursor node { __typename title slug publishedAt
    authors { name kind } section { name }
    ... on Article { readingTimeMinutes body(format: TEXT) }
    ... on VideoEpisode { videoUrl durationSeconds show } } }
  pageInfo { hasNextPage endCursor } } }
"""

FEED_SLUGS = """
query Feed($first: Int, $after: String, $section: String, $tag: String, $author: String,
           $kinds: [ContentKind!], $locale: String) {
  feed(first: $first, after: $after, section: $section, tag: $tag, author: $author,
       kinds: $kinds, locale: $locale) {
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

FEED_DETAILS = """
query Details($first: Int) {
  feed(first: $first) {
    edges { node { __typename slug url locale kind status } }
  }
}
"""

FEED_BODIES = """
{
  feed(first: 10) {
    edges {
      node {
        slug
        ... on Article {
          html: body
          explicitHtml: body(format: HTML)
          markdown: body(format: MARKDOWN)
          text: body(format: TEXT)
          readingTimeMinutes
        }
      }
    }
  }
}
"""


def _ago(minutes: float) -> datetime:
    return clock.utcnow() - timedelta(minutes=minutes)


def _newest_first(items: list[Content]) -> list[str]:
    ordered = sorted(items, key=lambda item: (item.published_at, item.id), reverse=True)
    return [item.slug for item in ordered]


async def _feed(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    body = await post_graphql(client, FEED_SLUGS, variables)
    assert "errors" not in body, body["errors"]
    feed: dict[str, Any] = body["data"]["feed"]
    return feed


def _slugs(feed: dict[str, Any]) -> list[str]:
    return [edge["node"]["slug"] for edge in feed["edges"]]


async def _walk(
    client: httpx.AsyncClient, *, first: int, after: str | None = None, **filters: Any
) -> list[list[str]]:
    """Every page of the feed from `after`, following endCursor until hasNextPage is false."""
    pages: list[list[str]] = []
    for _ in range(100):
        feed = await _feed(client, first=first, after=after, **filters)
        pages.append(_slugs(feed))
        if not feed["pageInfo"]["hasNextPage"]:
            return pages
        after = feed["pageInfo"]["endCursor"]
        assert after, "hasNextPage is true but there is no endCursor"
    raise AssertionError("the feed never ended")


# --- the README query --------------------------------------------------------------------


async def test_readme_query_gives_newest_first_with_articles_and_episodes_mixed(
    client: httpx.AsyncClient,
) -> None:
    war = await factories.make_section(slug="war")
    desk = await factories.make_author(slug="news-desk", name="News Desk", kind=AuthorKind.DESK)
    iryna = await factories.make_author(slug="iryna-zavolska", name="Iryna Zavolska")
    oldest = await factories.make_article(
        title="Oldest story", section=war, authors=[desk], published_at=_ago(60)
    )
    episode = await factories.make_video_episode(
        title="Newsroom Weekly 41",
        video_url="https://video.example/41.mp4",
        duration_seconds=754,
        show="Newsroom Weekly",
        authors=[iryna],
        published_at=_ago(30),
    )
    newest = await factories.make_article(
        title="Newest story",
        body="Volunteers reopened the **library**.\n\nIt has 4,000 books.",
        section=war,
        authors=[desk, iryna],
        published_at=_ago(5),
    )

    body = await post_graphql(client, README_QUERY)

    assert "errors" not in body, body["errors"]
    feed = body["data"]["feed"]
    nodes = [edge["node"] for edge in feed["edges"]]
    assert [node["slug"] for node in nodes] == [newest.slug, episode.slug, oldest.slug]
    assert [node["__typename"] for node in nodes] == ["Article", "VideoEpisode", "Article"]
    published = [datetime.fromisoformat(node["publishedAt"]) for node in nodes]
    assert published == sorted(published, reverse=True)
    assert all(moment.tzinfo is not None for moment in published)
    assert nodes[0] == {
        "__typename": "Article",
        "title": "Newest story",
        "slug": "newest-story",
        "publishedAt": nodes[0]["publishedAt"],
        "authors": [
            {"name": "News Desk", "kind": "DESK"},
            {"name": "Iryna Zavolska", "kind": "PERSON"},
        ],
        "section": {"name": "War"},
        "readingTimeMinutes": 1,
        "body": "Volunteers reopened the library.\n\nIt has 4,000 books.",
    }
    assert nodes[1] == {
        "__typename": "VideoEpisode",
        "title": "Newsroom Weekly 41",
        "slug": "newsroom-weekly-41",
        "publishedAt": nodes[1]["publishedAt"],
        "authors": [{"name": "Iryna Zavolska", "kind": "PERSON"}],
        "section": None,
        "videoUrl": "https://video.example/41.mp4",
        "durationSeconds": 754,
        "show": "Newsroom Weekly",
    }
    assert feed["pageInfo"] == {"hasNextPage": False, "endCursor": feed["edges"][-1]["cursor"]}
    assert len({edge["cursor"] for edge in feed["edges"]}) == 3


async def test_readme_query_pages_at_five(client: httpx.AsyncClient) -> None:
    for number in range(6):
        await factories.make_article(title=f"Story {number}", published_at=_ago(number + 1))

    body = await post_graphql(client, README_QUERY)

    assert "errors" not in body, body["errors"]
    feed = body["data"]["feed"]
    assert [edge["node"]["title"] for edge in feed["edges"]] == [f"Story {n}" for n in range(5)]
    assert feed["pageInfo"]["hasNextPage"] is True


# --- visibility --------------------------------------------------------------------------


async def test_drafts_archived_unpublished_and_scheduled_items_never_appear(
    client: httpx.AsyncClient,
) -> None:
    public = await factories.make_article(title="Public", published_at=_ago(10))
    public_episode = await factories.make_video_episode(
        title="Public episode", published_at=_ago(20)
    )
    await factories.make_article(title="Draft")
    await factories.make_video_episode(title="Draft episode")
    await factories.make_article(
        title="Scheduled", published_at=clock.utcnow() + timedelta(hours=1)
    )
    archived = await factories.make_article(title="Archived", published_at=_ago(5))
    await publishing.archive(id=archived.id, viewer=ADMIN_VIEWER)
    withdrawn = await factories.make_video_episode(title="Withdrawn", published_at=_ago(6))
    await publishing.unpublish(id=withdrawn.id, viewer=ADMIN_VIEWER)

    feed = await _feed(client, first=100)

    assert _slugs(feed) == [public.slug, public_episode.slug]
    assert feed["pageInfo"]["hasNextPage"] is False


async def test_scheduled_item_appears_once_its_time_has_come(client: httpx.AsyncClient) -> None:
    now = clock.utcnow()
    await factories.make_article(title="Earlier", published_at=now - timedelta(hours=1))
    await factories.make_article(title="At nine", published_at=now + timedelta(hours=2))

    assert _slugs(await _feed(client)) == ["earlier"]
    with clock.frozen(now + timedelta(hours=2) - timedelta(microseconds=1)):
        assert _slugs(await _feed(client)) == ["earlier"]
    with clock.frozen(now + timedelta(hours=2)):
        assert _slugs(await _feed(client)) == ["at-nine", "earlier"]
    with clock.frozen(now + timedelta(days=1)):
        assert _slugs(await _feed(client)) == ["at-nine", "earlier"]


async def test_feed_orders_by_instant_whatever_the_offset_of_the_publication_time(
    client: httpx.AsyncClient,
) -> None:
    # An editor in Kyiv publishes at 15:00+03:00 (12:00 UTC); another at 13:00 UTC.
    kyiv = timezone(timedelta(hours=3))
    noon_utc = (clock.utcnow() - timedelta(days=1)).replace(hour=12, minute=0, second=0)
    await factories.make_article(title="Noon in Kyiv terms", published_at=noon_utc.astimezone(kyiv))
    await factories.make_article(title="One pm UTC", published_at=noon_utc + timedelta(hours=1))
    await factories.make_article(title="Eleven UTC", published_at=noon_utc - timedelta(hours=1))

    assert _slugs(await _feed(client)) == ["one-pm-utc", "noon-in-kyiv-terms", "eleven-utc"]


async def test_an_item_scheduled_with_an_offset_appears_at_that_instant(
    client: httpx.AsyncClient,
) -> None:
    kyiv = timezone(timedelta(hours=3))
    at = clock.utcnow() + timedelta(hours=1)
    await factories.make_article(title="Scheduled in Kyiv", published_at=at.astimezone(kyiv))

    with clock.frozen(at - timedelta(microseconds=1)):
        assert _slugs(await _feed(client)) == []
    with clock.frozen(at):
        assert _slugs(await _feed(client)) == ["scheduled-in-kyiv"]


# --- paging ------------------------------------------------------------------------------


@pytest.mark.parametrize("first", [1, 2, 3, 20])
async def test_paging_visits_every_public_item_exactly_once(
    client: httpx.AsyncClient, first: int
) -> None:
    # Ties in publishedAt (the id breaks them) and whole-second times beside fractional ones.
    base = clock.utcnow().replace(microsecond=0) - timedelta(hours=1)
    offsets = [0, 1, 1, 1, 1.5, 2, 3, 3, 3.25]
    items = []
    for number, seconds in enumerate(offsets):
        maker = factories.make_video_episode if number % 3 == 0 else factories.make_article
        items.append(
            await maker(title=f"Item {number}", published_at=base - timedelta(seconds=seconds))
        )
    await factories.make_article(title="A draft between them")

    pages = await _walk(client, first=first)

    visited = [slug for page in pages for slug in page]
    assert visited == _newest_first(items)
    assert all(len(page) == first for page in pages[:-1])
    assert len(pages) == math.ceil(len(items) / first)


async def test_page_info_of_first_and_later_pages(client: httpx.AsyncClient) -> None:
    for number in range(3):
        await factories.make_article(title=f"Story {number}", published_at=_ago(number + 1))

    first_page = await _feed(client, first=2)
    second_page = await _feed(client, first=2, after=first_page["pageInfo"]["endCursor"])

    assert first_page["pageInfo"]["hasNextPage"] is True
    assert first_page["pageInfo"]["hasPreviousPage"] is False
    assert first_page["pageInfo"]["startCursor"] == first_page["edges"][0]["cursor"]
    assert first_page["pageInfo"]["endCursor"] == first_page["edges"][-1]["cursor"]
    assert _slugs(second_page) == ["story-2"]
    assert second_page["pageInfo"]["hasNextPage"] is False
    assert second_page["pageInfo"]["hasPreviousPage"] is True


async def test_cursor_stays_valid_while_news_is_published_on_top(
    client: httpx.AsyncClient,
) -> None:
    older = [
        await factories.make_article(title=f"Older {number}", published_at=_ago(10 + number))
        for number in range(8)
    ]
    page_1 = await _feed(client, first=3)
    assert _slugs(page_1) == [item.slug for item in older[:3]]

    for number in range(5):
        await factories.make_article(title=f"Breaking {number}", published_at=clock.utcnow())
    page_2 = await _feed(client, first=3, after=page_1["pageInfo"]["endCursor"])
    rest = await _walk(client, first=3, after=page_2["pageInfo"]["endCursor"])

    seen = _slugs(page_1) + _slugs(page_2) + [slug for page in rest for slug in page]
    assert seen == [item.slug for item in older], "a duplicate or skipped item"
    assert _slugs(await _feed(client, first=5)) == [f"breaking-{n}" for n in reversed(range(5))]


# --- filters -----------------------------------------------------------------------------


async def _newsroom() -> None:
    """Four public items across sections, bylines, tags, kinds and locales, and a draft."""
    war = await factories.make_section(slug="war")
    business = await factories.make_section(slug="business")
    desk = await factories.make_author(slug="news-desk", kind=AuthorKind.DESK)
    iryna = await factories.make_author(slug="iryna")
    await factories.make_article(
        title="A1", section=war, authors=[desk], tags=["mobilization"], published_at=_ago(1)
    )
    await factories.make_article(
        title="A2",
        section=business,
        authors=[iryna],
        tags=["military-aid", "mobilization"],
        published_at=_ago(2),
    )
    await factories.make_video_episode(
        title="V1",
        section=war,
        authors=[iryna, desk],
        tags=["sabotage"],
        published_at=_ago(3),
    )
    await factories.make_article(
        title="A3", section=war, authors=[desk], locale="uk", published_at=_ago(4)
    )
    await factories.make_article(title="Draft", section=war, authors=[desk], tags=["mobilization"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["a1", "a2", "v1", "a3"]),
        ({"section": "war"}, ["a1", "v1", "a3"]),
        ({"section": "business"}, ["a2"]),
        ({"tag": "mobilization"}, ["a1", "a2"]),
        ({"tag": "sabotage"}, ["v1"]),
        ({"author": "news-desk"}, ["a1", "v1", "a3"]),
        ({"author": "iryna"}, ["a2", "v1"]),
        ({"kinds": ["VIDEO_EPISODE"]}, ["v1"]),
        ({"kinds": ["ARTICLE"]}, ["a1", "a2", "a3"]),
        ({"kinds": ["ARTICLE", "VIDEO_EPISODE"]}, ["a1", "a2", "v1", "a3"]),
        ({"locale": "uk"}, ["a3"]),
        ({"locale": "en"}, ["a1", "a2", "v1"]),
        ({"section": "war", "author": "iryna"}, ["v1"]),
        ({"tag": "mobilization", "kinds": ["VIDEO_EPISODE"]}, []),
        ({"section": "war", "locale": "en", "tag": "mobilization"}, ["a1"]),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else None,
)
async def test_filters_narrow_the_feed(
    client: httpx.AsyncClient, filters: dict[str, Any], expected: list[str]
) -> None:
    await _newsroom()

    assert _slugs(await _feed(client, first=20, **filters)) == expected
    # and pages through the filtered feed the same way
    assert [slug for page in await _walk(client, first=1, **filters) for slug in page] == expected


@pytest.mark.parametrize(
    "filters",
    [
        {"section": "no-such-section"},
        {"tag": "no-such-tag"},
        {"author": "no-such-author"},
        {"locale": "xx"},
    ],
)
async def test_a_filter_naming_nothing_gives_an_empty_connection(
    client: httpx.AsyncClient, filters: dict[str, Any]
) -> None:
    await _newsroom()

    feed = await _feed(client, first=20, **filters)

    assert feed["edges"] == []
    assert feed["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


# --- page size and cursors ---------------------------------------------------------------


@pytest.mark.parametrize("first", [101, -1, 1000])
async def test_first_outside_the_limit_is_an_error_naming_it(
    client: httpx.AsyncClient, first: int
) -> None:
    await factories.make_article(published_at=_ago(1))

    body = await post_graphql(client, FEED_SLUGS, {"first": first})

    assert body.get("errors"), body
    assert "100" in body["errors"][0]["message"]
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None


async def test_the_page_size_limit_follows_the_setting(settings: Settings, db: None) -> None:
    await factories.make_article(published_at=_ago(1))

    async with app_client(settings.model_copy(update={"max_page_size": 7})) as client:
        too_many = await post_graphql(client, FEED_SLUGS, {"first": 8})
        most = await post_graphql(client, FEED_SLUGS, {"first": 7})

    assert too_many.get("errors"), too_many
    assert "7" in too_many["errors"][0]["message"]
    assert "100" not in too_many["errors"][0]["message"]
    assert "errors" not in most, most["errors"]
    assert len(most["data"]["feed"]["edges"]) == 1


async def test_first_100_is_allowed(client: httpx.AsyncClient) -> None:
    await factories.make_article(published_at=_ago(1))

    feed = await _feed(client, first=100)

    assert _slugs(feed) == ["volunteers-rebuild-the-district-library"]


async def test_first_zero_gives_no_edges_and_no_error(client: httpx.AsyncClient) -> None:
    await factories.make_article(published_at=_ago(1))

    feed = await _feed(client, first=0)

    assert feed["edges"] == []


async def test_first_defaults_to_20(client: httpx.AsyncClient) -> None:
    for number in range(21):
        await factories.make_article(title=f"Story {number}", published_at=_ago(number + 1))

    feed = await _feed(client)

    assert len(feed["edges"]) == 20
    assert feed["pageInfo"]["hasNextPage"] is True


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "!!!",
        _b64(b"junk"),
        _b64(b"\xff\xfe\xfd\xfc"),
        _b64(b"2024-01-01T00:00:00+00:00|not-a-number"),
        _b64(b"not-a-time|42"),
        _b64(b"2024-01-01T00:00:00|42"),  # no timezone
    ],
)
async def test_a_malformed_cursor_is_an_invalid_cursor_error(
    client: httpx.AsyncClient, cursor: str
) -> None:
    await factories.make_article(published_at=_ago(1))

    body = await post_graphql(client, FEED_SLUGS, {"first": 5, "after": cursor})

    assert body.get("errors"), body
    message = body["errors"][0]["message"].lower()
    assert "cursor" in message
    assert "invalid" in message
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None


# --- URLs and locale ---------------------------------------------------------------------


async def test_url_is_the_items_page_on_the_newsroom_site(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Kyiv reopens metro", published_at=_ago(1))
    await factories.make_video_episode(title="Weekly 42", published_at=_ago(2))

    body = await post_graphql(client, FEED_DETAILS, {"first": 10})

    assert "errors" not in body, body["errors"]
    nodes = [edge["node"] for edge in body["data"]["feed"]["edges"]]
    assert [(node["kind"], node["url"]) for node in nodes] == [
        ("ARTICLE", "https://news.example/news/kyiv-reopens-metro"),
        ("VIDEO_EPISODE", "https://news.example/video/weekly-42"),
    ]
    assert [node["status"] for node in nodes] == ["PUBLISHED", "PUBLISHED"]


async def test_url_follows_the_site_and_path_settings(settings: Settings, db: None) -> None:
    await factories.make_article(title="Kyiv reopens metro", published_at=_ago(1))
    await factories.make_video_episode(title="Weekly 42", published_at=_ago(2))
    changed = settings.model_copy(
        update={
            "site_url": "https://www.newsroom.example",
            "article_path": "/stories/{slug}/",
            "video_episode_path": "/watch/{slug}.html",
        }
    )

    async with app_client(changed) as client:
        body = await post_graphql(client, FEED_DETAILS, {"first": 10})

    assert "errors" not in body, body["errors"]
    assert [edge["node"]["url"] for edge in body["data"]["feed"]["edges"]] == [
        "https://www.newsroom.example/stories/kyiv-reopens-metro/",
        "https://www.newsroom.example/watch/weekly-42.html",
    ]


async def test_site_url_defaults_to_the_public_url(settings: Settings, db: None) -> None:
    await factories.make_article(title="Kyiv reopens metro", published_at=_ago(1))
    changed = settings.model_copy(
        update={"site_url": None, "public_url": "https://cms.newsroom.example"}
    )

    async with app_client(changed) as client:
        body = await post_graphql(client, FEED_DETAILS, {"first": 10})

    assert "errors" not in body, body["errors"]
    assert body["data"]["feed"]["edges"][0]["node"]["url"] == (
        "https://cms.newsroom.example/news/kyiv-reopens-metro"
    )


async def test_locale_defaults_to_en(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="English", published_at=_ago(1))
    await factories.make_video_episode(title="English video", published_at=_ago(2))
    await factories.make_article(title="Ukrainian", locale="uk", published_at=_ago(3))

    body = await post_graphql(client, FEED_DETAILS, {"first": 10})

    assert "errors" not in body, body["errors"]
    locales = [edge["node"]["locale"] for edge in body["data"]["feed"]["edges"]]
    assert locales == ["en", "en", "uk"]


# --- bodies ------------------------------------------------------------------------------


class _Markup(HTMLParser):
    """The tags and attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def _markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


HOSTILE_MARKDOWN = """\
# Heading

A **bold** claim with a [source](https://example.org/report) and *emphasis*.

<script>alert("owned")</script>

<img src=x onerror=alert(1)>

[click me](javascript:alert(1)) and [again](JaVaScRiPt:alert(2))
and <a href="javascript:alert(3)">raw link</a>

- one
- two
"""


async def test_body_formats(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Formats", body=HOSTILE_MARKDOWN, published_at=_ago(1))

    body = await post_graphql(client, FEED_BODIES)

    assert "errors" not in body, body["errors"]
    article = body["data"]["feed"]["edges"][0]["node"]
    assert article["markdown"] == HOSTILE_MARKDOWN
    assert article["html"] == article["explicitHtml"]
    html = article["html"]
    markup = _markup(html)
    assert "script" not in markup.tags
    assert "<script" not in html.lower()
    assert not [name for name, _ in markup.attributes if name.startswith("on")]
    assert not [value for _, value in markup.attributes if "javascript" in value.lower()]
    assert {"h1", "strong", "em", "a", "ul", "li", "p"} <= set(markup.tags)
    assert ("href", "https://example.org/report") in markup.attributes
    # TEXT is the text a reader sees on the HTML page: the Markdown's own markup is gone;
    # what the writer typed as literal "<script>" stays literal text (HTML shows it escaped).
    text = article["text"]
    assert text.startswith("Heading\n\nA bold claim with a source and emphasis.")
    assert "**" not in text
    for markup_of_markdown in ("<h1", "<p>", "<strong", "<em", "<ul", "<li", "example.org"):
        assert markup_of_markdown not in text
    assert '<script>alert("owned")</script>' in text
    assert "&lt;" not in text


async def test_text_and_html_of_plain_markdown(client: httpx.AsyncClient) -> None:
    await factories.make_article(
        title="Plain",
        body="First *paragraph* with `code`.\n\nSecond & last > paragraph.",
        published_at=_ago(1),
    )

    body = await post_graphql(client, FEED_BODIES)

    assert "errors" not in body, body["errors"]
    article = body["data"]["feed"]["edges"][0]["node"]
    assert article["text"] == "First paragraph with code.\n\nSecond & last > paragraph."
    assert article["html"] == (
        "<p>First <em>paragraph</em> with <code>code</code>.</p>\n"
        "<p>Second &amp; last &gt; paragraph.</p>"
    )


@pytest.mark.parametrize(
    ("words", "minutes"), [(0, 1), (1, 1), (200, 1), (201, 2), (450, 3), (1000, 5)]
)
async def test_reading_time_is_at_least_one_minute_and_grows_with_length(
    client: httpx.AsyncClient, words: int, minutes: int
) -> None:
    await factories.make_article(
        title="Long read", body=" ".join(["word"] * words), published_at=_ago(1)
    )

    body = await post_graphql(client, FEED_BODIES)

    assert "errors" not in body, body["errors"]
    assert body["data"]["feed"]["edges"][0]["node"]["readingTimeMinutes"] == minutes


MERGED_FEED = """
{ feed(first: 1) { edges { node { title } } }
  feed(first: 1) { edges { node { ... on Article { body(format: MARKDOWN) } authors { slug } } } }
  one: article(slug: "merged") { title }
  one: article(slug: "merged") { tags { slug } } }
"""


@pytest.mark.parametrize("compiled", [True, False], ids=["plans", "graphql-core"])
async def test_a_field_selected_twice_loads_what_both_occurrences_ask_for(
    settings: Settings, db: None, compiled: bool
) -> None:
    """graphql-core merges the two `feed` (and `one`) fields; the page must be loaded
    with the body, bylines and tags the second occurrence asks for, not only the first's."""
    desk = await factories.make_author(slug="news-desk")
    await factories.make_article(
        title="Merged", body="*Body*", authors=[desk], tags=["kyiv"],
        published_at=clock.utcnow() - timedelta(minutes=1),
    )  # fmt: skip
    async with app_client(settings.model_copy(update={"compiled_reads": compiled})) as client:
        body = await post_graphql(client, MERGED_FEED)

    assert "errors" not in body
    node = body["data"]["feed"]["edges"][0]["node"]
    assert node == {"title": "Merged", "body": "*Body*", "authors": [{"slug": "news-desk"}]}
    assert body["data"]["one"] == {"title": "Merged", "tags": [{"slug": "kyiv"}]}
