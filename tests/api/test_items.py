"""Single items over HTTP: article, videoEpisode, author (with content), sections, node."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.auth import tokens
from cms.auth.roles import Role
from cms.content import publishing
from cms.models import AuthorKind
from tests import factories
from tests.api.graphql_client import error_codes, post_graphql
from tests.factories import ADMIN_VIEWER

ARTICLE = """
query Article($slug: String!) {
  article(slug: $slug) {
    __typename id kind title slug dek status url locale version publishedAt updatedAt
    readingTimeMinutes body
    section { id name slug }
    authors { id name slug kind }
    tags { id name slug }
    heroImage { id url mimeType width height altText }
  }
}
"""

VIDEO_EPISODE = """
query VideoEpisode($slug: String!) {
  videoEpisode(slug: $slug) {
    __typename id kind title slug status url
    description videoUrl durationSeconds show episodeNumber
    section { slug }
    authors { slug }
  }
}
"""

AUTHOR = """
query Author($slug: String!, $first: Int, $after: String) {
  author(slug: $slug) {
    id name slug kind bio email avatar { id url }
    content(first: $first, after: $after) {
      edges { cursor node { __typename title } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

README_AUTHOR = """
query Author($slug: String!) {
  author(slug: $slug) {
    name kind bio email avatar { url }
    content(first: 2) { edges { node { title } } pageInfo { hasNextPage } }
  }
}
"""

SECTIONS = "{ sections { id name slug } }"

ME = "{ me { name role } }"

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Content { title slug }
    ... on Author { name slug }
    ... on Section { name slug }
    ... on Tag { name slug }
    ... on Media { url mimeType }
  }
}
"""


def _ago(minutes: float) -> datetime:
    return clock.utcnow() - timedelta(minutes=minutes)


async def _data(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await post_graphql(client, query, variables)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture
async def viewer_token(db: None) -> str:
    """A token of the smallest role, which previews unpublished items."""
    _, secret = await tokens.create(name="preview", role=Role.VIEWER)
    return secret


# --- article and videoEpisode ------------------------------------------------------------


async def test_article_by_slug(client: httpx.AsyncClient) -> None:
    war = await factories.make_section(slug="war")
    desk = await factories.make_author(slug="news-desk", name="News Desk", kind=AuthorKind.DESK)
    hero = await factories.make_media(key="photos/metro.jpg")
    await factories.make_article(
        title="Kyiv reopens metro",
        dek="Stations closed since March reopen.",
        body="The *metro* is open.",
        section=war,
        authors=[desk],
        tags=["kyiv", "transport"],
        hero_image=hero,
        published_at=_ago(5),
    )

    article = (await _data(client, ARTICLE, slug="kyiv-reopens-metro"))["article"]

    assert article["__typename"] == "Article"
    assert article["kind"] == "ARTICLE"
    assert article["title"] == "Kyiv reopens metro"
    assert article["dek"] == "Stations closed since March reopen."
    assert article["status"] == "PUBLISHED"
    assert article["url"] == "https://news.example/news/kyiv-reopens-metro"
    assert article["locale"] == "en"
    assert article["version"] >= 2  # created, then published
    assert article["body"] == "<p>The <em>metro</em> is open.</p>"
    assert article["readingTimeMinutes"] == 1
    assert article["section"]["name"] == "War"
    assert [author["slug"] for author in article["authors"]] == ["news-desk"]
    assert article["authors"][0]["kind"] == "DESK"
    assert [tag["slug"] for tag in article["tags"]] == ["kyiv", "transport"]
    assert article["heroImage"]["url"] == "http://testserver/media/photos/metro.jpg"
    assert article["heroImage"]["mimeType"] == "image/png"
    ids = [article["id"], article["section"]["id"], article["heroImage"]["id"]]
    ids += [article["authors"][0]["id"], *(tag["id"] for tag in article["tags"])]
    assert len(set(ids)) == len(ids), "global IDs must differ across types"


async def test_video_episode_by_slug(client: httpx.AsyncClient) -> None:
    video = await factories.make_section(slug="video")
    await factories.make_author(slug="tom-hadley")
    await factories.make_video_episode(
        title="Newsroom Weekly 42",
        description="The week in five minutes.",
        video_url="https://video.example/42.mp4",
        duration_seconds=301,
        show="Newsroom Weekly",
        episode_number=42,
        section=video,
        authors=["tom-hadley"],
        published_at=_ago(5),
    )

    episode = (await _data(client, VIDEO_EPISODE, slug="newsroom-weekly-42"))["videoEpisode"]

    assert episode == {
        "__typename": "VideoEpisode",
        "id": episode["id"],
        "kind": "VIDEO_EPISODE",
        "title": "Newsroom Weekly 42",
        "slug": "newsroom-weekly-42",
        "status": "PUBLISHED",
        "url": "https://news.example/video/newsroom-weekly-42",
        "description": "The week in five minutes.",
        "videoUrl": "https://video.example/42.mp4",
        "durationSeconds": 301,
        "show": "Newsroom Weekly",
        "episodeNumber": 42,
        "section": {"slug": "video"},
        "authors": [{"slug": "tom-hadley"}],
    }


async def test_unknown_slugs_are_null(client: httpx.AsyncClient) -> None:
    assert (await _data(client, ARTICLE, slug="no-such-story"))["article"] is None
    assert (await _data(client, VIDEO_EPISODE, slug="no-such-show"))["videoEpisode"] is None
    assert (await _data(client, README_AUTHOR, slug="nobody"))["author"] is None


async def test_article_of_a_video_episodes_slug_is_null_and_the_other_way_round(
    client: httpx.AsyncClient,
) -> None:
    await factories.make_video_episode(title="Weekly", published_at=_ago(1))
    await factories.make_article(title="Story", published_at=_ago(1))

    assert (await _data(client, ARTICLE, slug="weekly"))["article"] is None
    assert (await _data(client, VIDEO_EPISODE, slug="weekly"))["videoEpisode"] is not None
    assert (await _data(client, VIDEO_EPISODE, slug="story"))["videoEpisode"] is None
    assert (await _data(client, ARTICLE, slug="story"))["article"] is not None


async def test_article_prefers_the_default_locale(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Ukrainian", slug="same", locale="uk", published_at=_ago(1))
    await factories.make_article(title="English", slug="same", published_at=_ago(2))

    assert (await _data(client, ARTICLE, slug="same"))["article"]["title"] == "English"


async def _unpublished_items() -> None:
    """A draft, a scheduled, an archived and an unpublished item of each kind."""
    for maker, kind in (
        (factories.make_article, "article"),
        (factories.make_video_episode, "episode"),
    ):
        await maker(title=f"Draft {kind}")
        await maker(title=f"Scheduled {kind}", published_at=clock.utcnow() + timedelta(hours=1))
        archived = await maker(title=f"Archived {kind}", published_at=_ago(10))
        await publishing.archive(id=archived.id, viewer=ADMIN_VIEWER)
        withdrawn = await maker(title=f"Withdrawn {kind}", published_at=_ago(10))
        await publishing.unpublish(id=withdrawn.id, viewer=ADMIN_VIEWER)


@pytest.mark.parametrize("state", ["draft", "scheduled", "archived", "withdrawn"])
async def test_anonymous_readers_get_null_for_unpublished_items(
    client: httpx.AsyncClient, viewer_token: str, state: str
) -> None:
    await _unpublished_items()

    assert (await _data(client, ARTICLE, slug=f"{state}-article"))["article"] is None
    assert (await _data(client, VIDEO_EPISODE, slug=f"{state}-episode"))["videoEpisode"] is None
    # ... while a token holder previews them: they exist under those slugs.
    preview = await post_graphql(client, ARTICLE, {"slug": f"{state}-article"}, token=viewer_token)
    assert "errors" not in preview, preview["errors"]
    assert preview["data"]["article"]["title"] == f"{state.capitalize()} article"
    preview = await post_graphql(
        client, VIDEO_EPISODE, {"slug": f"{state}-episode"}, token=viewer_token
    )
    assert "errors" not in preview, preview["errors"]
    assert preview["data"]["videoEpisode"]["title"] == f"{state.capitalize()} episode"


async def test_scheduled_article_reads_as_scheduled_to_a_token_holder(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    await factories.make_article(title="Later", published_at=clock.utcnow() + timedelta(hours=1))

    body = await post_graphql(client, ARTICLE, {"slug": "later"}, token=viewer_token)

    assert "errors" not in body, body["errors"]
    assert body["data"]["article"]["status"] == "SCHEDULED"


# --- author ------------------------------------------------------------------------------


async def test_author_with_public_content_newest_first(client: httpx.AsyncClient) -> None:
    iryna = await factories.make_author(
        slug="iryna-zavolska",
        name="Iryna Zavolska",
        bio="Covers the front line.",
        email="iryna@news.example",
        avatar=True,
    )
    other = await factories.make_author(slug="tom-hadley")
    await factories.make_article(title="Third", authors=[iryna], published_at=_ago(30))
    await factories.make_video_episode(
        title="Second", authors=[iryna, other], published_at=_ago(20)
    )
    await factories.make_article(title="First", authors=[other, iryna], published_at=_ago(10))
    await factories.make_article(title="Not hers", authors=[other], published_at=_ago(5))
    await factories.make_article(title="Her draft", authors=[iryna])
    await factories.make_article(
        title="Her scheduled", authors=[iryna], published_at=clock.utcnow() + timedelta(hours=1)
    )
    archived = await factories.make_article(
        title="Her archived", authors=[iryna], published_at=_ago(1)
    )
    await publishing.archive(id=archived.id, viewer=ADMIN_VIEWER)

    author = (await _data(client, README_AUTHOR, slug="iryna-zavolska"))["author"]

    assert author == {
        "name": "Iryna Zavolska",
        "kind": "PERSON",
        "bio": "Covers the front line.",
        "email": "iryna@news.example",
        "avatar": {"url": "http://testserver/media/avatars/iryna-zavolska.png"},
        "content": {
            "edges": [{"node": {"title": "First"}}, {"node": {"title": "Second"}}],
            "pageInfo": {"hasNextPage": True},
        },
    }


async def test_author_content_pages_to_the_end(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    desk = await factories.make_author(slug="news-desk", kind=AuthorKind.DESK)
    for number in range(5):
        await factories.make_article(
            title=f"Story {number}", authors=[desk], published_at=_ago(number + 1)
        )
    await factories.make_article(title="Draft", authors=[desk])

    titles: list[str] = []
    after = None
    for _ in range(10):
        # a token changes nothing here: author content is public content only
        body = await post_graphql(
            client, AUTHOR, {"slug": "news-desk", "first": 2, "after": after}, token=viewer_token
        )
        assert "errors" not in body, body["errors"]
        content = body["data"]["author"]["content"]
        titles += [edge["node"]["title"] for edge in content["edges"]]
        if not content["pageInfo"]["hasNextPage"]:
            break
        after = content["pageInfo"]["endCursor"]

    assert titles == [f"Story {number}" for number in range(5)]


async def test_author_without_avatar_or_content(client: httpx.AsyncClient) -> None:
    await factories.make_author(slug="news-desk", name="News Desk", kind=AuthorKind.DESK)

    author = (await _data(client, README_AUTHOR, slug="news-desk"))["author"]

    assert author == {
        "name": "News Desk",
        "kind": "DESK",
        "bio": None,
        "email": None,
        "avatar": None,
        "content": {"edges": [], "pageInfo": {"hasNextPage": False}},
    }


async def test_author_content_first_is_limited(client: httpx.AsyncClient) -> None:
    await factories.make_author(slug="news-desk")

    body = await post_graphql(client, AUTHOR, {"slug": "news-desk", "first": 101})

    assert body.get("errors"), body
    assert "100" in body["errors"][0]["message"]
    assert error_codes(body) == ["BAD_USER_INPUT"]


# --- sections ----------------------------------------------------------------------------


async def test_sections_by_name(client: httpx.AsyncClient) -> None:
    await factories.make_section(slug="war", name="War")
    await factories.make_section(slug="business", name="Business")
    await factories.make_section(slug="politics", name="Politics")

    sections = (await _data(client, SECTIONS))["sections"]

    assert [(section["name"], section["slug"]) for section in sections] == [
        ("Business", "business"),
        ("Politics", "politics"),
        ("War", "war"),
    ]
    assert len({section["id"] for section in sections}) == 3


async def test_sections_empty(client: httpx.AsyncClient) -> None:
    assert (await _data(client, SECTIONS))["sections"] == []


# --- node --------------------------------------------------------------------------------


async def test_node_fetches_every_type_by_the_ids_the_api_gives(
    client: httpx.AsyncClient,
) -> None:
    await factories.make_section(slug="war")
    await factories.make_author(slug="news-desk", name="News Desk", avatar=True)
    await factories.make_article(
        title="Story",
        section="war",
        authors=["news-desk"],
        tags=["kyiv"],
        hero_image=True,
        published_at=_ago(1),
    )
    await factories.make_video_episode(title="Weekly", published_at=_ago(2))
    article = (await _data(client, ARTICLE, slug="story"))["article"]
    episode = (await _data(client, VIDEO_EPISODE, slug="weekly"))["videoEpisode"]
    avatar = (await _data(client, AUTHOR, slug="news-desk"))["author"]["avatar"]

    expected = {
        article["id"]: {"__typename": "Article", "title": "Story", "slug": "story"},
        episode["id"]: {"__typename": "VideoEpisode", "title": "Weekly", "slug": "weekly"},
        article["authors"][0]["id"]: {
            "__typename": "Author",
            "name": "News Desk",
            "slug": "news-desk",
        },
        article["section"]["id"]: {"__typename": "Section", "name": "War", "slug": "war"},
        article["tags"][0]["id"]: {"__typename": "Tag", "name": "Kyiv", "slug": "kyiv"},
        article["heroImage"]["id"]: {
            "__typename": "Media",
            "url": article["heroImage"]["url"],
            "mimeType": "image/png",
        },
        avatar["id"]: {"__typename": "Media", "url": avatar["url"], "mimeType": "image/png"},
    }
    for global_id, fields in expected.items():
        node = (await _data(client, NODE, id=global_id))["node"]
        assert node == {"id": global_id, **fields}


async def test_node_of_an_item_that_is_no_longer_public_is_null(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    story = await factories.make_article(title="Story", published_at=_ago(1))
    weekly = await factories.make_video_episode(title="Weekly", published_at=_ago(1))
    article_id = (await _data(client, ARTICLE, slug="story"))["article"]["id"]
    episode_id = (await _data(client, VIDEO_EPISODE, slug="weekly"))["videoEpisode"]["id"]
    assert (await _data(client, NODE, id=article_id))["node"]["slug"] == "story"

    await publishing.unpublish(id=story.id, viewer=ADMIN_VIEWER)
    await publishing.archive(id=weekly.id, viewer=ADMIN_VIEWER)

    assert (await _data(client, NODE, id=article_id))["node"] is None
    assert (await _data(client, NODE, id=episode_id))["node"] is None
    preview = await post_graphql(client, NODE, {"id": article_id}, token=viewer_token)
    assert "errors" not in preview, preview["errors"]
    assert preview["data"]["node"]["slug"] == "story"


async def test_node_of_a_scheduled_item_is_null_until_its_time(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    at = clock.utcnow() + timedelta(hours=1)
    await factories.make_article(title="Later", published_at=at)
    preview = await post_graphql(client, ARTICLE, {"slug": "later"}, token=viewer_token)
    assert "errors" not in preview, preview["errors"]
    article_id = preview["data"]["article"]["id"]

    assert (await _data(client, NODE, id=article_id))["node"] is None
    with clock.frozen(at):
        assert (await _data(client, NODE, id=article_id))["node"]["slug"] == "later"


def _global_id(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "malformed",
    ["garbage", "", "!!!", _global_id("no-colon"), _global_id("Article:not-a-number")],
)
async def test_node_with_a_malformed_id_is_an_error(
    client: httpx.AsyncClient, malformed: str
) -> None:
    body = await post_graphql(client, NODE, {"id": malformed})

    assert body.get("errors"), body
    assert "id" in body["errors"][0]["message"].lower()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] == {"node": None}


async def test_node_of_an_unknown_row_is_null(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Story", published_at=_ago(1))
    article_id = (await _data(client, ARTICLE, slug="story"))["article"]["id"]
    type_name, _, number = base64.b64decode(article_id).decode().partition(":")
    assert type_name == "Article", "premise: the ID is base64 of Type:pk"

    for raw in (
        f"Article:{int(number) + 1000}",
        f"VideoEpisode:{number}",  # the row exists, but it is an article
        "Author:999",
        "Section:999",
        "Tag:999",
        "Media:999",
        "Revision:999",
        f"NoSuchType:{number}",
    ):
        body = await post_graphql(client, NODE, {"id": _global_id(raw)})
        assert "errors" not in body, (raw, body["errors"])
        assert body["data"]["node"] is None, raw


# --- me ----------------------------------------------------------------------------------


async def test_me_is_null_for_an_anonymous_reader_and_names_a_token_holder(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    assert (await _data(client, ME))["me"] is None

    body = await post_graphql(client, ME, token=viewer_token)

    assert "errors" not in body, body["errors"]
    assert body["data"]["me"] == {"name": "preview", "role": "VIEWER"}
