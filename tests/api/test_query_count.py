"""A feed page costs a fixed number of SQL statements, whatever its size.

Tortoise logs every statement it sends on the "tortoise.db_client" logger at DEBUG; a
handler there counts them for one HTTP request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from tests import factories
from tests.api.graphql_client import post_graphql
from tests.statements import counting

# Page query (section and hero image joined in), bylines (avatars joined in), tags.
STATEMENTS_PER_FEED_PAGE = 3

FULL_FEED = """
query Feed($first: Int!, $after: String) {
  feed(first: $first, after: $after) {
    edges {
      cursor
      node {
        __typename id title slug url publishedAt
        authors { name slug kind avatar { url altText } }
        tags { name slug }
        section { name slug }
        heroImage { url width height altText }
        ... on Article { readingTimeMinutes body }
        ... on VideoEpisode { videoUrl durationSeconds }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TITLES_ONLY = """
query Titles($first: Int!) { feed(first: $first) { edges { node { title } } } }
"""


async def _counted(
    client: httpx.AsyncClient, query: str, **variables: Any
) -> tuple[dict[str, Any], list[str]]:
    with counting() as statements:
        body = await post_graphql(client, query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"], list(statements)


async def _newsroom(items: int) -> None:
    """`items` public items, each with a section, two bylines with avatars, two tags and
    a hero image; articles and video episodes mixed."""
    sections = [await factories.make_section(slug=slug) for slug in ("war", "business")]
    authors = [
        await factories.make_author(slug=f"author-{number}", avatar=True) for number in range(4)
    ]
    heroes = [await factories.make_media() for _ in range(5)]
    start = clock.utcnow() - timedelta(hours=1)
    for number in range(items):
        maker = factories.make_video_episode if number % 4 == 0 else factories.make_article
        await maker(
            title=f"Story {number}",
            section=sections[number % 2],
            authors=[authors[number % 4], authors[(number + 1) % 4]],
            tags=[f"tag-{number % 3}", f"tag-{3 + number % 5}"],
            hero_image=heroes[number % 5],
            published_at=start - timedelta(minutes=number),
        )


async def test_a_feed_page_costs_the_same_statements_for_1_20_and_100_items(
    client: httpx.AsyncClient,
) -> None:
    await _newsroom(105)

    counts = {}
    for first in (1, 20, 100):
        data, statements = await _counted(client, FULL_FEED, first=first)
        edges = data["feed"]["edges"]
        assert len(edges) == first
        assert all(len(edge["node"]["authors"]) == 2 for edge in edges)
        assert all(edge["node"]["authors"][0]["avatar"] for edge in edges)
        assert all(len(edge["node"]["tags"]) == 2 for edge in edges)
        assert all(edge["node"]["section"] and edge["node"]["heroImage"] for edge in edges)
        counts[first] = len(statements)

    assert counts == {1: 3, 20: 3, 100: 3} == dict.fromkeys(counts, STATEMENTS_PER_FEED_PAGE)


async def test_a_later_page_costs_the_same(client: httpx.AsyncClient) -> None:
    await _newsroom(25)
    first_page, _ = await _counted(client, FULL_FEED, first=20)

    data, statements = await _counted(
        client, FULL_FEED, first=20, after=first_page["feed"]["pageInfo"]["endCursor"]
    )

    assert len(data["feed"]["edges"]) == 5
    assert len(statements) == STATEMENTS_PER_FEED_PAGE, statements


@pytest.mark.parametrize("first", [1, 20])
async def test_a_feed_of_titles_costs_one_statement(client: httpx.AsyncClient, first: int) -> None:
    await _newsroom(21)

    data, statements = await _counted(client, TITLES_ONLY, first=first)

    assert len(data["feed"]["edges"]) == first
    assert len(statements) == 1, statements


async def test_an_empty_feed_costs_one_statement(client: httpx.AsyncClient) -> None:
    data, statements = await _counted(client, FULL_FEED, first=20)

    assert data["feed"]["edges"] == []
    assert len(statements) == 1, statements
