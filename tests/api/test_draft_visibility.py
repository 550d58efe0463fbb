"""Drafts, scheduled items and archived items never reach anonymous readers, on any
public read path; token holders preview them through article, videoEpisode, node and
contents, but the feed stays public-only for everyone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.content import publishing
from cms.models import Content, ContentKind
from tests.api.conftest import (
    SEED_VIEWER,
    global_id,
    gql_data,
    seed_author,
    seed_content,
    seed_section,
)

STATES = ("public", "draft", "scheduled", "archived")
HIDDEN = ("draft", "scheduled", "archived")
KINDS = {"article": ContentKind.ARTICLE, "videoEpisode": ContentKind.VIDEO_EPISODE}
TYPENAMES = {"article": "Article", "videoEpisode": "VideoEpisode"}
STATUS = {"public": "PUBLISHED", "draft": "DRAFT", "scheduled": "SCHEDULED", "archived": "ARCHIVED"}

FEED = """
query Feed($section: String, $tag: String, $author: String, $kinds: [ContentKind!],
           $locale: String) {
  feed(first: 50, section: $section, tag: $tag, author: $author, kinds: $kinds, locale: $locale) {
    edges { node { id } }
  }
}
"""
ARTICLE = "query A($slug: String!) { article(slug: $slug) { id status } }"
VIDEO_EPISODE = "query V($slug: String!) { videoEpisode(slug: $slug) { id status } }"
NODE = "query N($id: ID!) { node(id: $id) { id ... on Content { status } } }"
AUTHOR_CONTENT = """
query { author(slug: "news-desk") { slug content(first: 50) { edges { node { id } } } } }
"""
CONTENTS = """
query C($status: [ContentStatus!]) {
  contents(status: $status, first: 50) { edges { node { id status } } }
}
"""

Newsroom = dict[tuple[str, str], Content]


@pytest.fixture
async def newsroom(db: None) -> Newsroom:
    """One article and one video episode in each state, all in section "war", by
    "news-desk", tagged "kyiv"."""
    await seed_section()
    await seed_author()
    now = clock.utcnow()
    items: Newsroom = {}
    for field, kind in KINDS.items():
        for state in STATES:
            published_at = {
                "public": now - timedelta(hours=1),
                "draft": None,
                "scheduled": now + timedelta(days=1),
                "archived": now - timedelta(hours=2),
            }[state]
            item = await seed_content(
                kind=kind,
                title=f"{state} {field}",
                published_at=published_at,
                section="war",
                authors=("news-desk",),
                tags=("kyiv",),
            )
            if state == "archived":
                item = await publishing.archive(id=item.id, viewer=SEED_VIEWER)
            items[field, state] = item
    return items


def _id(newsroom: Newsroom, field: str, state: str) -> str:
    return global_id(TYPENAMES[field], newsroom[field, state].id)


def _public_ids(newsroom: Newsroom, *fields: str) -> set[str]:
    return {_id(newsroom, field, "public") for field in fields or KINDS}


def _ids(data: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in data["edges"]}


FEED_FILTERS = [
    pytest.param({}, ("article", "videoEpisode"), id="unfiltered"),
    pytest.param({"section": "war"}, ("article", "videoEpisode"), id="section"),
    pytest.param({"tag": "kyiv"}, ("article", "videoEpisode"), id="tag"),
    pytest.param({"author": "news-desk"}, ("article", "videoEpisode"), id="author"),
    pytest.param({"locale": "en"}, ("article", "videoEpisode"), id="locale"),
    pytest.param({"kinds": ["ARTICLE"]}, ("article",), id="articles"),
    pytest.param({"kinds": ["VIDEO_EPISODE"]}, ("videoEpisode",), id="video-episodes"),
]


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
@pytest.mark.parametrize(("filters", "fields"), FEED_FILTERS)
async def test_the_feed_holds_only_public_items_for_everyone(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    reader: str,
    filters: dict[str, Any],
    fields: tuple[str, ...],
) -> None:
    token = tokens_by_role.get(reader)

    data = await gql_data(client, FEED, filters, token)

    assert _ids(data["feed"]) == _public_ids(newsroom, *fields)


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_author_content_holds_only_public_items_for_everyone(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str], reader: str
) -> None:
    data = await gql_data(client, AUTHOR_CONTENT, token=tokens_by_role.get(reader))

    assert data["author"]["slug"] == "news-desk"
    assert _ids(data["author"]["content"]) == _public_ids(newsroom)


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", STATES)
async def test_by_slug_anonymous_readers_see_only_the_public_item(
    client: httpx.AsyncClient, newsroom: Newsroom, field: str, state: str
) -> None:
    document = ARTICLE if field == "article" else VIDEO_EPISODE

    data = await gql_data(client, document, {"slug": newsroom[field, state].slug})

    expected = {"id": _id(newsroom, field, state), "status": "PUBLISHED"}
    assert data[field] == (expected if state == "public" else None)


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", STATES)
async def test_through_node_anonymous_readers_see_only_the_public_item(
    client: httpx.AsyncClient, newsroom: Newsroom, field: str, state: str
) -> None:
    id = _id(newsroom, field, state)

    data = await gql_data(client, NODE, {"id": id})

    assert data["node"] == ({"id": id, "status": "PUBLISHED"} if state == "public" else None)


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", HIDDEN)
async def test_a_viewer_token_previews_hidden_items_by_slug(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    field: str,
    state: str,
) -> None:
    document = ARTICLE if field == "article" else VIDEO_EPISODE

    data = await gql_data(
        client, document, {"slug": newsroom[field, state].slug}, tokens_by_role["viewer"]
    )

    assert data[field] == {"id": _id(newsroom, field, state), "status": STATUS[state]}


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", HIDDEN)
async def test_a_viewer_token_previews_hidden_items_through_node(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    field: str,
    state: str,
) -> None:
    id = _id(newsroom, field, state)

    data = await gql_data(client, NODE, {"id": id}, tokens_by_role["viewer"])

    assert data["node"] == {"id": id, "status": STATUS[state]}


async def test_contents_lists_every_item_for_a_viewer_token(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str]
) -> None:
    data = await gql_data(client, CONTENTS, token=tokens_by_role["viewer"])

    listed = {edge["node"]["id"]: edge["node"]["status"] for edge in data["contents"]["edges"]}
    assert listed == {
        _id(newsroom, field, state): STATUS[state] for field in KINDS for state in STATES
    }


@pytest.mark.parametrize("state", STATES)
async def test_contents_filters_by_the_status_readers_see(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str], state: str
) -> None:
    data = await gql_data(client, CONTENTS, {"status": [STATUS[state]]}, tokens_by_role["viewer"])

    assert _ids(data["contents"]) == {_id(newsroom, field, state) for field in KINDS}


async def test_a_scheduled_item_reaches_anonymous_readers_at_its_time(
    client: httpx.AsyncClient, newsroom: Newsroom
) -> None:
    scheduled = newsroom["article", "scheduled"]
    assert scheduled.published_at is not None

    with clock.frozen(scheduled.published_at + timedelta(seconds=1)):
        feed = await gql_data(client, FEED)
        by_slug = await gql_data(client, ARTICLE, {"slug": scheduled.slug})

    assert _id(newsroom, "article", "scheduled") in _ids(feed["feed"])
    assert by_slug["article"] == {
        "id": _id(newsroom, "article", "scheduled"),
        "status": "PUBLISHED",
    }
