"""Tag and section pages: `tag(slug)` and `section(slug)`, each with its `content`
connection of public items, newest first, paged by keyset like the feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from cms import clock
from tests import factories
from tests.api.conftest import gql_data

PAGE = """
query($slug: String!, $first: Int, $after: String) {
  %s(slug: $slug) {
    name slug
    content(first: $first, after: $after) {
      edges { node { title } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def _titles(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in page["content"]["edges"]]


async def _newsroom() -> None:
    now = clock.utcnow()
    city = await factories.make_section(slug="city", name="City")
    for hours, title, section, tags in (
        (1, "Night buses return", city, ["transport"]),
        (2, "Budget vote delayed", city, ["budget", "city-hall"]),
        (3, "Bridge repairs funded", None, ["budget"]),
        (4, "Libraries open late", city, []),
        (5, "Ferry fares frozen", None, ["transport", "budget"]),
    ):
        await factories.make_article(
            title=title, section=section, tags=tags, published_at=now - timedelta(hours=hours)
        )
    await factories.make_article(title="Draft budget memo", section=city, tags=["budget"])
    await factories.make_article(
        title="Tomorrow's budget", tags=["budget"], published_at=now + timedelta(days=1)
    )


async def test_a_tag_page_lists_its_public_items_newest_first_page_by_page(
    client: httpx.AsyncClient,
) -> None:
    await _newsroom()

    first = (await gql_data(client, PAGE % "tag", {"slug": "budget", "first": 2}))["tag"]
    cursor = first["content"]["pageInfo"]["endCursor"]
    rest = (await gql_data(client, PAGE % "tag", {"slug": "budget", "after": cursor}))["tag"]

    assert (first["name"], first["slug"]) == ("Budget", "budget")
    assert _titles(first) == ["Budget vote delayed", "Bridge repairs funded"]
    assert first["content"]["pageInfo"]["hasNextPage"] is True
    assert _titles(rest) == ["Ferry fares frozen"]
    assert rest["content"]["pageInfo"]["hasNextPage"] is False


async def test_a_section_page_lists_its_public_items_newest_first(
    client: httpx.AsyncClient,
) -> None:
    await _newsroom()

    page = (await gql_data(client, PAGE % "section", {"slug": "city"}))["section"]

    assert page["name"] == "City"
    assert _titles(page) == ["Night buses return", "Budget vote delayed", "Libraries open late"]


async def test_an_unknown_slug_is_null(client: httpx.AsyncClient) -> None:
    await _newsroom()

    tag = await gql_data(client, PAGE % "tag", {"slug": "weather"})
    section = await gql_data(client, PAGE % "section", {"slug": "weather"})

    assert tag == {"tag": None}
    assert section == {"section": None}


async def test_a_slug_longer_than_any_is_null(client: httpx.AsyncClient) -> None:
    """Longer than the column (PostgreSQL's driver would refuse the value): no such tag or
    section, not a server error (the fuzzer found it)."""
    long = "x" * 101

    tag = await gql_data(client, PAGE % "tag", {"slug": long})
    section = await gql_data(client, PAGE % "section", {"slug": long})

    assert tag == {"tag": None}
    assert section == {"section": None}


async def test_the_pages_match_the_narrowed_feed(client: httpx.AsyncClient) -> None:
    """The same items, in the same order, with the same cursors as feed(tag:) and
    feed(section:)."""
    await _newsroom()
    feed = "query($tag: String, $section: String) { feed(tag: $tag, section: $section) { %s } }"
    fields = "edges { cursor node { title } } pageInfo { hasNextPage endCursor }"
    page = "query($slug: String!) { %s(slug: $slug) { content { %s } } }"

    for kind, slug in (("tag", "transport"), ("section", "city")):
        narrowed = await gql_data(client, feed % fields, {kind: slug})
        listed = await gql_data(client, page % (kind, fields), {"slug": slug})
        assert listed[kind]["content"] == narrowed["feed"], kind
