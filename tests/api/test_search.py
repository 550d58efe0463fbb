"""search(query): public items containing every word, newest first, pageable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from cms import clock
from tests import factories
from tests.api.conftest import error_code, gql, gql_data

SEARCH = """
query($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    edges { node { title } } pageInfo { hasNextPage endCursor }
  }
}
"""


def _titles(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in data["search"]["edges"]]


async def _seed() -> None:
    now = clock.utcnow()
    await factories.make_article(
        title="Troops enter Pokrovsk", body="Small infantry groups.",
        published_at=now - timedelta(minutes=1),
    )  # fmt: skip
    await factories.make_article(
        title="Power cuts", body="Crews in *Pokrovsk* restore power.",
        published_at=now - timedelta(minutes=2),
    )  # fmt: skip
    await factories.make_video_episode(
        title="Weekly", description="From Pokrovsk, and the markets: 100% up",
        published_at=now - timedelta(minutes=3),
    )  # fmt: skip
    await factories.make_article(title="Pokrovsk draft")  # never public
    await factories.make_article(title="Pokrovsk tomorrow", published_at=now + timedelta(days=1))


async def test_every_public_item_with_the_word_newest_first(client: httpx.AsyncClient) -> None:
    await _seed()

    data = await gql_data(client, SEARCH, {"q": "pokrovsk"})

    assert _titles(data) == ["Troops enter Pokrovsk", "Power cuts", "Weekly"]


async def test_all_words_must_match_ignoring_case(client: httpx.AsyncClient) -> None:
    await _seed()

    both = await gql_data(client, SEARCH, {"q": "POKROVSK  infantry"})
    none = await gql_data(client, SEARCH, {"q": "pokrovsk nothing-like-this"})

    assert _titles(both) == ["Troops enter Pokrovsk"]
    assert _titles(none) == []


async def test_wildcards_are_plain_characters(client: httpx.AsyncClient) -> None:
    await _seed()

    percent = await gql_data(client, SEARCH, {"q": "100%"})
    underscore = await gql_data(client, SEARCH, {"q": "Pok_ovsk"})

    assert _titles(percent) == ["Weekly"]
    assert _titles(underscore) == []


async def test_results_page_with_cursors(client: httpx.AsyncClient) -> None:
    await _seed()

    first = await gql_data(client, SEARCH, {"q": "pokrovsk", "first": 2})
    cursor = first["search"]["pageInfo"]["endCursor"]
    rest = await gql_data(client, SEARCH, {"q": "pokrovsk", "first": 2, "after": cursor})

    assert _titles(first) == ["Troops enter Pokrovsk", "Power cuts"]
    assert first["search"]["pageInfo"]["hasNextPage"] is True
    assert _titles(rest) == ["Weekly"]
    assert rest["search"]["pageInfo"]["hasNextPage"] is False


async def test_an_empty_or_huge_query_is_a_clear_error(client: httpx.AsyncClient) -> None:
    for query, words in (
        ("   ", "a word"),
        ("x" * 201, "200 characters"),
        (" ".join(f"w{n}" for n in range(9)), "8 words"),
    ):
        status, body = await gql(client, SEARCH, {"q": query})

        assert status == 200
        assert error_code(body) == "BAD_USER_INPUT"
        assert words in body["errors"][0]["message"]
