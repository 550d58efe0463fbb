"""RSS 2.0 and JSON Feed 1.1 over HTTP: parsed as readers parse them (feedparser, the JSON
Feed 1.1 fields), visibility, narrowing, limits, conditional GETs and hostile text."""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
import orjson
import pytest

from cms import clock
from cms.content import ids, publishing
from cms.models import AuthorKind, Content, ContentKind
from tests import factories
from tests.factories import ADMIN_VIEWER

PATHS = ("/feed.xml", "/feed.json")
ATOM = "{http://www.w3.org/2005/Atom}"


def _ago(minutes: float) -> datetime:
    return clock.utcnow() - timedelta(minutes=minutes)


def _gid(item: Content) -> str:
    return ids.encode("Article" if item.kind == ContentKind.ARTICLE else "VideoEpisode", item.id)


async def _get(client: httpx.AsyncClient, path: str, **headers: str) -> httpx.Response:
    response = await client.get(path, headers=headers)
    assert response.status_code in (200, 304), response.text
    return response


async def _rss(client: httpx.AsyncClient, path: str = "/feed.xml") -> Any:
    response = await _get(client, path)
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    ElementTree.fromstring(response.content)  # well-formed XML, not just feedparser-tolerable
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    return parsed


async def _json(client: httpx.AsyncClient, path: str = "/feed.json") -> dict[str, Any]:
    response = await _get(client, path)
    assert response.headers["content-type"] == "application/feed+json"
    document: dict[str, Any] = orjson.loads(response.content)
    return document


def _rss_guids(parsed: Any) -> list[str]:
    return [item.id for item in parsed.entries]


def _json_ids(document: dict[str, Any]) -> list[str]:
    return [item["id"] for item in document["items"]]


async def _newsroom() -> dict[str, Content]:
    """Public items of both kinds with full relations, and one of each hidden state."""
    war = await factories.make_section(slug="war", name="War")
    await factories.make_section(slug="culture", name="Culture")
    iryna = await factories.make_author(
        slug="iryna-zavolska", name="Iryna Zavolska", email="iryna@news.example", avatar=True
    )
    desk = await factories.make_author(slug="news-desk", name="News desk", kind=AuthorKind.DESK)
    article = await factories.make_article(
        title="Volunteers rebuild the district library",
        slug="library",
        dek="Two hundred volunteers, one summer.",
        body="The *first* paragraph.\n\nThe second.",
        section=war,
        authors=[iryna, desk],
        tags=["kyiv", "libraries"],
        hero_image=True,
        published_at=_ago(30),
    )
    episode = await factories.make_video_episode(
        title="Newsroom Weekly 12",
        slug="weekly-12",
        description="This week in the newsroom.",
        video_url="https://video.example/weekly-12.webm",
        duration_seconds=754,
        section="culture",
        authors=[desk],
        published_at=_ago(10),
    )
    older = await factories.make_article(
        title="An older story", slug="older", authors=[desk], published_at=_ago(120)
    )
    draft = await factories.make_article(title="A draft", slug="draft", section=war)
    scheduled = await factories.make_article(
        title="Scheduled", slug="scheduled", section=war, authors=[iryna],
        published_at=clock.utcnow() + timedelta(hours=2),
    )  # fmt: skip
    archived = await factories.make_article(
        title="Archived", slug="archived", section=war, authors=[iryna], published_at=_ago(5)
    )
    await publishing.archive(id=archived.id, viewer=ADMIN_VIEWER)
    return {
        "article": article,
        "episode": episode,
        "older": older,
        "draft": draft,
        "scheduled": scheduled,
        "archived": archived,
    }


async def test_rss_channel_items_and_enclosure(client: httpx.AsyncClient) -> None:
    items = await _newsroom()

    parsed = await _rss(client)

    channel = parsed.feed
    assert channel.title == "Newsdesk"
    assert channel.link == "https://news.example"
    assert channel.description
    assert channel.language == "en"
    assert channel.updated_parsed is not None  # lastBuildDate
    self_links = [link for link in channel.links if link.rel == "self"]
    assert [link.href for link in self_links] == ["http://testserver/feed.xml"]
    assert self_links[0].type == "application/rss+xml"

    guids = _rss_guids(parsed)
    assert guids == [_gid(items[name]) for name in ("episode", "article", "older")]
    assert not any(entry.guidislink for entry in parsed.entries)  # isPermaLink="false"

    episode, article, _ = parsed.entries
    assert article.title == "Volunteers rebuild the district library"
    assert article.link == "https://news.example/news/library"
    published = items["article"].published_at
    assert published is not None
    assert datetime(*article.published_parsed[:6], tzinfo=UTC) == published.replace(microsecond=0)
    assert [author.name for author in article.authors if "email" not in author] == [
        "Iryna Zavolska",
        "News desk",
    ]  # dc:creator, one per byline
    assert article.author == "iryna@news.example (Iryna Zavolska)"  # <author>: email (Name)
    assert [tag.term for tag in article.tags] == ["War", "Kyiv", "Libraries"]
    assert article.summary == "Two hundred volunteers, one summer."
    assert article.content[0].value == "<p>The <em>first</em> paragraph.</p>\n<p>The second.</p>"
    assert not article.get("enclosures")

    assert episode.link == "https://news.example/video/weekly-12"
    assert episode.author == "News desk"  # no email: dc:creator only
    assert episode.summary == "<p>This week in the newsroom.</p>"
    assert [dict(enclosure) for enclosure in episode.enclosures] == [
        {"href": "https://video.example/weekly-12.webm", "length": "0", "type": "video/webm"}
    ]


async def test_rss_enclosure_type_defaults_to_mp4(client: httpx.AsyncClient) -> None:
    await factories.make_video_episode(
        title="No extension", video_url="https://video.example/stream/42", published_at=_ago(1)
    )
    await factories.make_video_episode(
        title="HLS", video_url="https://video.example/live/index.M3U8?t=1", published_at=_ago(2)
    )

    parsed = await _rss(client)

    assert [entry.enclosures[0].type for entry in parsed.entries] == [
        "video/mp4",
        "application/vnd.apple.mpegurl",
    ]


def _is_rfc3339(value: object) -> bool:
    return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None


async def test_json_feed_fields(client: httpx.AsyncClient) -> None:
    items = await _newsroom()

    document = await _json(client)

    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Newsdesk"
    assert document["home_page_url"] == "https://news.example"
    assert document["feed_url"] == "http://testserver/feed.json"
    assert document["language"] == "en"
    assert _json_ids(document) == [_gid(items[name]) for name in ("episode", "article", "older")]
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"].startswith("https://news.example/")
        assert isinstance(item["title"], str)
        assert isinstance(item["content_html"], str) and item["content_html"]
        assert _is_rfc3339(item["date_published"]) and _is_rfc3339(item["date_modified"])
        assert item["date_modified"] >= item["date_published"]
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
        assert all(isinstance(author["name"], str) for author in item.get("authors", []))
        assert item.get("tags", ["absent"]) and item.get("authors", ["absent"])  # never empty

    episode, article, older = document["items"]
    assert article["title"] == "Volunteers rebuild the district library"
    assert article["url"] == "https://news.example/news/library"
    assert article["summary"] == "Two hundred volunteers, one summer."
    assert article["content_html"] == "<p>The <em>first</em> paragraph.</p>\n<p>The second.</p>"
    published = items["article"].published_at
    assert published is not None
    assert datetime.fromisoformat(article["date_published"]) == published
    assert article["authors"] == [
        {
            "name": "Iryna Zavolska",
            "url": "mailto:iryna@news.example",
            "avatar": "http://testserver/media/avatars/iryna-zavolska.png",
        },
        {"name": "News desk"},
    ]
    assert article["tags"] == ["War", "Kyiv", "Libraries"]
    assert article["image"].startswith("http://testserver/media/tests/image-")
    assert "attachments" not in article

    assert episode["content_html"] == "<p>This week in the newsroom.</p>"
    assert episode["attachments"] == [
        {
            "url": "https://video.example/weekly-12.webm",
            "mime_type": "video/webm",
            "duration_in_seconds": 754,
        }
    ]
    assert episode["tags"] == ["Culture"]
    assert older["authors"] == [{"name": "News desk"}]
    assert not {"summary", "image", "tags", "attachments"} & older.keys()


@pytest.mark.parametrize("path", PATHS)
async def test_no_drafts_scheduled_or_archived(client: httpx.AsyncClient, path: str) -> None:
    items = await _newsroom()
    hidden = {_gid(items[name]) for name in ("draft", "scheduled", "archived")}

    shown = (
        _rss_guids(await _rss(client)) if path == "/feed.xml" else _json_ids(await _json(client))
    )
    body = (await _get(client, path)).text

    assert len(shown) == 3 and not hidden & set(shown)
    for title in ("A draft", "Scheduled", "Archived"):
        assert title not in body


async def test_section_and_author_narrow_both_feeds(client: httpx.AsyncClient) -> None:
    items = await _newsroom()
    article, episode, older = (_gid(items[name]) for name in ("article", "episode", "older"))

    assert _rss_guids(await _rss(client, "/feed.xml?section=war")) == [article]
    assert _json_ids(await _json(client, "/feed.json?section=culture")) == [episode]
    assert _rss_guids(await _rss(client, "/feed.xml?author=iryna-zavolska")) == [article]
    assert _json_ids(await _json(client, "/feed.json?author=news-desk")) == [
        episode,
        article,
        older,
    ]
    both = await _json(client, "/feed.json?section=war&author=news-desk")
    assert _json_ids(both) == [article]
    assert both["feed_url"] == "http://testserver/feed.json?section=war&author=news-desk"
    narrowed = await _rss(client, "/feed.xml?author=news-desk&section=culture")
    assert [link.href for link in narrowed.feed.links if link.rel == "self"] == [
        "http://testserver/feed.xml?section=culture&author=news-desk"
    ]


@pytest.mark.parametrize("query", ["section=no-such-section", "author=nobody"])
async def test_unknown_slug_is_a_valid_empty_feed(client: httpx.AsyncClient, query: str) -> None:
    await _newsroom()

    assert (await _rss(client, f"/feed.xml?{query}")).entries == []
    document = await _json(client, f"/feed.json?{query}")
    assert document["items"] == [] and document["version"].endswith("/1.1")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "query",
    [
        "section=" + "a" * 300,
        "section=",
        "section=War",
        "section=war%21",
        "section=%3Cscript%3E",
        "author=a%20b",
        "author=%00",
        "author=%FF%FE",
        "section=war&section=culture",
    ],
)
async def test_a_bad_query_is_a_400_with_one_line(
    client: httpx.AsyncClient, path: str, query: str
) -> None:
    response = await client.get(f"{path}?{query}")

    assert response.status_code == 400, response.text
    assert response.text and "\n" not in response.text.strip()
    assert ("section" in response.text) or ("author" in response.text)


@pytest.mark.parametrize("path", PATHS)
async def test_other_parameters_are_ignored(client: httpx.AsyncClient, path: str) -> None:
    await factories.make_article(title="One", published_at=_ago(1))

    response = await client.get(f"{path}?utm_source=newsletter&page=2")

    assert response.status_code == 200
    assert "One" in response.text


async def test_at_most_50_newest_items(client: httpx.AsyncClient) -> None:
    start = _ago(600)
    made = []
    for number in range(55):
        at = start + timedelta(minutes=number)
        made.append(await factories.make_article(title=f"Story {number}", published_at=at))
    newest = [_gid(item) for item in reversed(made)][:50]

    assert _rss_guids(await _rss(client)) == newest
    assert _json_ids(await _json(client)) == newest


@pytest.mark.parametrize("path", PATHS)
async def test_etag_and_if_none_match(client: httpx.AsyncClient, path: str) -> None:
    await _newsroom()

    first = await _get(client, path)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "public, max-age=60"

    again = await _get(client, path, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=60"
    for header in (f'"other", {etag}', f"W/{etag}", "*"):
        assert (await _get(client, path, **{"If-None-Match": header})).status_code == 304
    other = await _get(client, path, **{"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.headers["etag"] == etag
    # If-None-Match decides when both are sent (RFC 9110 13.2.2)
    both = {"If-None-Match": '"stale"', "If-Modified-Since": first.headers["last-modified"]}
    assert (await _get(client, path, **both)).status_code == 200

    narrowed = await _get(client, f"{path}?section=war")
    assert narrowed.headers["etag"] != etag


@pytest.mark.parametrize("path", PATHS)
async def test_last_modified_and_if_modified_since(client: httpx.AsyncClient, path: str) -> None:
    items = await _newsroom()

    first = await _get(client, path)
    last_modified = email.utils.parsedate_to_datetime(first.headers["last-modified"])
    assert first.headers["last-modified"].endswith(" GMT")
    newest = max(item.updated_at for item in items.values())
    assert abs(last_modified - newest) < timedelta(seconds=1)

    same = await _get(client, path, **{"If-Modified-Since": first.headers["last-modified"]})
    assert same.status_code == 304 and same.content == b""
    later = email.utils.format_datetime(last_modified + timedelta(hours=1), usegmt=True)
    assert (await _get(client, path, **{"If-Modified-Since": later})).status_code == 304
    earlier = email.utils.format_datetime(last_modified - timedelta(seconds=1), usegmt=True)
    assert (await _get(client, path, **{"If-Modified-Since": earlier})).status_code == 200
    assert (await _get(client, path, **{"If-Modified-Since": "yesterday"})).status_code == 200


@pytest.mark.parametrize("path", PATHS)
async def test_a_publish_changes_the_etag(client: httpx.AsyncClient, path: str) -> None:
    await _newsroom()
    draft = await factories.make_article(title="Breaking", slug="breaking")
    before = await _get(client, path)

    await publishing.publish(id=draft.id, viewer=ADMIN_VIEWER, at=_ago(1))

    after = await _get(client, path, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "Breaking" in after.text


@pytest.mark.parametrize("path", PATHS)
async def test_an_item_leaving_the_feed_moves_last_modified(
    client: httpx.AsyncClient, path: str
) -> None:
    """Unpublishing the newest item must not let If-Modified-Since readers keep it."""
    start = clock.utcnow().replace(microsecond=0) + timedelta(seconds=5)
    with clock.frozen(start):
        older = await factories.make_article(title="Older", published_at=_ago(60))
        newest = await factories.make_article(title="Newest", published_at=_ago(1))
        first = await _get(client, path)
    assert "Newest" in first.text
    with clock.frozen(start + timedelta(seconds=10)):
        await publishing.unpublish(id=newest.id, viewer=ADMIN_VIEWER)
        after = await _get(client, path, **{"If-Modified-Since": first.headers["last-modified"]})

    assert after.status_code == 200
    assert "Newest" not in after.text
    assert _gid(older) in after.text


@pytest.mark.parametrize("path", PATHS)
async def test_an_empty_feed(client: httpx.AsyncClient, path: str) -> None:
    response = await _get(client, path)

    assert response.status_code == 200
    assert "last-modified" not in response.headers
    etag = response.headers["etag"]
    assert (await _get(client, path, **{"If-None-Match": etag})).status_code == 304


HOSTILE = "<script>alert('x')</script> Tom & Jerry\x01\x08\x0b\x1b \ufffe]]> &amp;"
CLEAN = "<script>alert('x')</script> Tom & Jerry ]]> &amp;"


async def test_hostile_text_stays_well_formed(client: httpx.AsyncClient) -> None:
    author = await factories.make_author(slug="hostile", name=f"Eve {HOSTILE}", email="e@x.example")
    await factories.make_section(slug="odd", name=f"Odd {HOSTILE}")
    await factories.make_article(
        title=f"Title {HOSTILE}",
        dek=f"Dek {HOSTILE}",
        body=f"Body {HOSTILE}\n\n<iframe src=x></iframe>",
        section="odd",
        authors=[author],
        tags=["odd-tag"],
        published_at=_ago(1),
    )

    xml = (await _get(client, "/feed.xml")).content
    root = ElementTree.fromstring(xml)
    item = root.find("channel/item")
    assert item is not None
    assert item.findtext("title") == f"Title {CLEAN}"
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == f"Eve {CLEAN}"
    assert item.findtext("author") == f"e@x.example (Eve {CLEAN})"
    assert [element.text for element in item.findall("category")] == [f"Odd {CLEAN}", "Odd tag"]
    encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert "<script" not in encoded and "<iframe" not in encoded
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and parsed.entries[0].title == f"Title {CLEAN}"

    document = await _json(client)
    (entry,) = document["items"]
    assert entry["title"] == f"Title {HOSTILE}".strip()
    assert entry["summary"] == f"Dek {HOSTILE}".strip()
    assert "<script" not in entry["content_html"] and "<iframe" not in entry["content_html"]
    assert entry["authors"][0]["name"] == f"Eve {HOSTILE}"
