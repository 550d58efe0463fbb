"""Ranked full-text search: search(query, kinds, section, locale, order) ranks public items
by relevance (ties by newest), matches whole words with English stemming, finds Ukrainian
text in any case, keeps quoted phrases, never fails on hostile input, and returns a
highlighted, HTML-escaped snippet per edge; contents(query) searches every status for
token holders."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms import clock
from cms.models import Content
from tests import factories
from tests.api.conftest import api_article, api_publish, error_code, gql_data
from tests.api.graphql_client import gql

SEARCH = """
query Search($q: String!, $first: Int, $after: String, $kinds: [ContentKind!],
             $section: String, $locale: String, $order: SearchOrder) {
  search(query: $q, first: $first, after: $after, kinds: $kinds, section: $section,
         locale: $locale, order: $order) {
    edges { cursor snippet node { __typename title } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# Only the query and the snippet: hostile input must get through the matcher and the
# highlighter alike.
SEARCH_PLAIN = """
query Search($q: String!) { search(query: $q) { edges { snippet node { title } } } }
"""

CONTENTS = """
query Contents($q: String) {
  contents(query: $q, first: 20) { edges { node { title status } } }
}
"""

FEED = "{ feed(first: 20) { edges { snippet node { title } } } }"

UNPUBLISH = "mutation U($id: ID!) { unpublish(id: $id) { __typename } }"

# Words of an error from the database's own query parser: never shown to a client.
PARSER_FAULTS = ("fts5", "syntax error", "tsquery", "unterminated", "malformed match")


def _ago(minutes: int) -> datetime:
    return clock.utcnow() - timedelta(minutes=minutes)


async def _search(client: httpx.AsyncClient, q: str, **arguments: Any) -> dict[str, Any]:
    """`search` of a request that must succeed; arguments left out take their defaults."""
    variables = {"q": q, **{name: value for name, value in arguments.items() if value is not None}}
    data = await gql_data(client, SEARCH, variables)
    search: dict[str, Any] = data["search"]
    return search


def _titles(search: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in search["edges"]]


async def _found(client: httpx.AsyncClient, q: str, **arguments: Any) -> list[str]:
    return _titles(await _search(client, q, **arguments))


def _assert_survived(status: int, body: dict[str, Any], query: str) -> None:
    """200, and either a (possibly empty) list of edges or a clear BAD_USER_INPUT error about
    the query; never the database's parser error, never a masked fault."""
    assert status == 200, (query, body)
    text = json.dumps(body, ensure_ascii=False).lower()
    for fault in PARSER_FAULTS:
        assert fault not in text, (query, body)
    if body.get("errors"):
        assert error_code(body) == "BAD_USER_INPUT", (query, body)
        message = body["errors"][0]["message"]
        assert "query" in message.lower(), (query, body)
        assert "unexpected" not in message.lower(), (query, body)
    else:
        edges = body["data"]["search"]["edges"]
        assert isinstance(edges, list), (query, body)
        for edge in edges:
            snippet = edge["snippet"]
            assert snippet is None or "<script" not in snippet.lower(), (query, body)


# --- ranking -----------------------------------------------------------------------------


async def _title_and_body_match() -> None:
    await factories.make_article(
        title="Ceasefire talks resume in Istanbul",
        body="Delegations met behind closed doors for a second day.",
        published_at=_ago(10),
    )
    await factories.make_article(
        title="Evening briefing",
        body="Grain prices rose, a bridge reopened and, late in the day, a ceasefire "
        "was mentioned by one of the delegates among many other things on the agenda.",
        published_at=_ago(1),
    )
    await factories.make_article(
        title="Unrelated story", body="Nothing here.", published_at=_ago(2)
    )


async def test_a_title_match_outranks_a_later_body_only_match(client: httpx.AsyncClient) -> None:
    await _title_and_body_match()

    relevance = await _found(client, "ceasefire")
    explicit = await _found(client, "ceasefire", order="RELEVANCE")

    assert relevance == ["Ceasefire talks resume in Istanbul", "Evening briefing"]
    assert explicit == relevance


async def test_order_newest_gives_date_order(client: httpx.AsyncClient) -> None:
    await _title_and_body_match()

    newest = await _found(client, "ceasefire", order="NEWEST")

    assert newest == ["Evening briefing", "Ceasefire talks resume in Istanbul"]


# --- words, stems, scripts ---------------------------------------------------------------


async def test_a_word_matches_whole_words_only(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Warm front", body="A warm spell.", published_at=_ago(1))
    await factories.make_article(
        title="Software release", body="New software ships.", published_at=_ago(2)
    )
    await factories.make_article(title="The war at sea", body="Ships sail.", published_at=_ago(3))

    assert await _found(client, "war") == ["The war at sea"]


async def test_english_stemming_finds_other_forms_of_a_word(client: httpx.AsyncClient) -> None:
    await factories.make_article(
        title="Coal news", body="Miners strike again in the east.", published_at=_ago(1)
    )
    await factories.make_article(
        title="Strikes spread", body="Dockers join in.", published_at=_ago(2)
    )
    await factories.make_article(title="Weather", body="Sunny all week.", published_at=_ago(3))

    strikes = await _found(client, "strikes")
    strike = await _found(client, "strike")

    assert factories.DEFAULT_LOCALE == "en"
    assert sorted(strikes) == ["Coal news", "Strikes spread"]
    assert sorted(strike) == ["Coal news", "Strikes spread"]


async def _cyrillic_and_latin() -> None:
    await factories.make_article(
        title="Бої біля Покровська тривають",
        body="Покровськ під обстрілом: евакуація триває.",
        locale="uk",
        published_at=_ago(1),
    )
    await factories.make_article(
        title="Fighting near Pokrovsk", body="Pokrovsk is under fire.", published_at=_ago(2)
    )


async def test_ukrainian_text_is_found_in_any_case(client: httpx.AsyncClient) -> None:
    await _cyrillic_and_latin()

    capitalised = await _found(client, "Покровськ")
    lower = await _found(client, "покровськ")

    assert capitalised == ["Бої біля Покровська тривають"]
    assert lower == ["Бої біля Покровська тривають"]


async def test_a_latin_query_finds_only_latin_text(client: httpx.AsyncClient) -> None:
    await _cyrillic_and_latin()

    assert await _found(client, "Pokrovsk") == ["Fighting near Pokrovsk"]


async def test_a_quoted_phrase_matches_only_adjacent_words(client: httpx.AsyncClient) -> None:
    await factories.make_article(
        title="Troops enter Pokrovsk", body="Small infantry groups.", published_at=_ago(1)
    )
    await factories.make_article(
        title="Pokrovsk holds",
        body="In Pokrovsk, few civilians dare to enter the centre.",
        published_at=_ago(2),
    )

    phrase = await _found(client, '"enter Pokrovsk"')
    words = await _found(client, "enter Pokrovsk")

    assert phrase == ["Troops enter Pokrovsk"]
    assert sorted(words) == ["Pokrovsk holds", "Troops enter Pokrovsk"]


# --- hostile input -----------------------------------------------------------------------

HOSTILE = [
    '"',
    '"unbalanced',
    "AND",
    "OR NOT",
    "NEAR(a b)",
    "war*",
    "-war",
    "^war",
    "(war",
    "title:war",
    "war) OR (1=1",
    "'; DROP TABLE content; --",
    "🙂",
    "w" * 200,
    "a:b:c",
    '"a" "b"',
    "*",
    "{war}",
    "war NEAR/2 peace",
    "\\",
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_input_never_fails(client: httpx.AsyncClient, query: str) -> None:
    await factories.make_article(title="The war at sea", body="Peace talks.", published_at=_ago(1))

    status, body = await gql(client, SEARCH_PLAIN, {"q": query})

    _assert_survived(status, body, query)
    # and the table is still there, still searchable
    assert await _found(client, "war") == ["The war at sea"]


_OPERATORS = [
    "AND", "OR", "NOT", "NEAR", "NEAR/3", "*", "^", "-", "+", "!", "&", "|", "<->", "<2>",
    ":", "(", ")", '"', "'", "\\", "{", "}", "[", "]", "%", "_", ";", "--", "/*", "*/",
    "title:", "body:", "war", "peace", "Покровськ", "🙂", "\u0301", "\u00a0", "\t",
]  # fmt: skip

_HOSTILE_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(_OPERATORS), max_size=10).map(" ".join),
    st.lists(st.sampled_from(_OPERATORS), max_size=10).map("".join),
    st.lists(
        st.one_of(st.sampled_from(_OPERATORS), st.text(min_size=1, max_size=6)), max_size=9
    ).map(" ".join),
).filter(lambda text: not re.search("[\ud800-\udfff]", text))  # unsendable as UTF-8


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=_HOSTILE_TEXT)
async def test_generated_input_never_fails(client: httpx.AsyncClient, query: str) -> None:
    status, body = await gql(client, SEARCH_PLAIN, {"q": query})

    _assert_survived(status, body, query)


# --- visibility --------------------------------------------------------------------------


async def test_drafts_and_scheduled_items_are_never_found_anonymously(
    client: httpx.AsyncClient,
) -> None:
    await factories.make_article(title="Avdiivka public", published_at=_ago(5))
    await factories.make_article(title="Avdiivka draft")
    await factories.make_article(
        title="Avdiivka scheduled", published_at=clock.utcnow() + timedelta(days=1)
    )

    relevance = await _found(client, "avdiivka")
    newest = await _found(client, "avdiivka", order="NEWEST")

    assert relevance == ["Avdiivka public"]
    assert newest == ["Avdiivka public"]


async def test_unpublishing_removes_an_item_from_results_at_once(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor, title="Vuhledar falls", body="The town fell.")
    await api_publish(client, editor, article["id"])
    assert await _found(client, "vuhledar") == ["Vuhledar falls"]

    result = await gql_data(client, UNPUBLISH, {"id": article["id"]}, editor)

    assert result["unpublish"]["__typename"] == "Article", result
    assert await _found(client, "vuhledar") == []


async def test_contents_query_finds_drafts_for_token_holders(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    await factories.make_article(title="Chasiv Yar draft", body="Unfinished.")
    await factories.make_article(title="Chasiv Yar published", published_at=_ago(3))
    await factories.make_article(title="Another draft", body="Nothing to see.")

    data = await gql_data(client, CONTENTS, {"q": "chasiv"}, tokens_by_role["editor"])
    found = {edge["node"]["title"]: edge["node"]["status"] for edge in data["contents"]["edges"]}
    anonymous = await _found(client, "chasiv")

    assert found == {"Chasiv Yar draft": "DRAFT", "Chasiv Yar published": "PUBLISHED"}
    assert anonymous == ["Chasiv Yar published"]


# --- snippets ----------------------------------------------------------------------------


async def test_the_snippet_marks_the_match_and_escapes_html(client: httpx.AsyncClient) -> None:
    await factories.make_article(
        title="Night shelling",
        # Inside the passage (a passage starts at a word: a text that began with the tag
        # could show it cut, escaped all the same).
        body="Officials said <script>alert(1)</script> Pokrovsk was shelled overnight.",
        published_at=_ago(1),
    )

    search = await _search(client, "pokrovsk")

    assert _titles(search) == ["Night shelling"]
    snippet = search["edges"][0]["snippet"]
    assert isinstance(snippet, str), search
    marked = re.findall(r"<mark>(.*?)</mark>", snippet)
    assert marked, snippet
    assert all(word.lower() == "pokrovsk" for word in marked), snippet
    assert "&lt;script&gt;" in snippet
    assert "<script" not in snippet.lower()
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", ""), snippet


async def test_the_snippet_is_null_in_the_feed(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Pokrovsk today", published_at=_ago(1))

    data = await gql_data(client, FEED)

    assert [edge["snippet"] for edge in data["feed"]["edges"]] == [None]


# --- filters -----------------------------------------------------------------------------


async def test_kinds_narrows_results(client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Kherson article", published_at=_ago(1))
    await factories.make_video_episode(
        title="Kherson episode", description="From the river.", published_at=_ago(2)
    )

    videos = await _search(client, "kherson", kinds=["VIDEO_EPISODE"])
    everything = await _found(client, "kherson", order="NEWEST")

    assert [(e["node"]["__typename"], e["node"]["title"]) for e in videos["edges"]] == [
        ("VideoEpisode", "Kherson episode")
    ]
    assert everything == ["Kherson article", "Kherson episode"]


async def test_section_narrows_results(client: httpx.AsyncClient) -> None:
    await factories.make_section(slug="frontline")
    await factories.make_article(title="Kherson front", section="frontline", published_at=_ago(1))
    await factories.make_article(title="Kherson markets", published_at=_ago(2))

    in_section = await _found(client, "kherson", section="frontline")
    everywhere = await _found(client, "kherson", order="NEWEST")

    assert in_section == ["Kherson front"]
    assert everywhere == ["Kherson front", "Kherson markets"]


async def test_locale_narrows_results(client: httpx.AsyncClient) -> None:
    await factories.make_article(
        title="Саміт NATO у Вільнюсі", body="NATO.", locale="uk", published_at=_ago(1)
    )
    await factories.make_article(title="NATO summit opens", body="NATO.", published_at=_ago(2))

    ukrainian = await _found(client, "NATO", locale="uk")
    english = await _found(client, "NATO", locale="en")
    both = await _found(client, "NATO", order="NEWEST")

    assert ukrainian == ["Саміт NATO у Вільнюсі"]
    assert english == ["NATO summit opens"]
    assert both == ["Саміт NATO у Вільнюсі", "NATO summit opens"]


# --- paging under ranking ----------------------------------------------------------------


NEWEST_DRONE_STORIES = [f"Morning report {count}" for count in range(1, 5)] + [
    f"Drone attack {number}" for number in range(3)
]


async def _drone_stories() -> list[Content]:
    """Seven items that mention "drone", of varying relevance: three alike with the word in
    the title (a tie, broken by newest), four with it in the body only, one to four times;
    the most relevant are not the newest."""
    made: list[Content] = []
    for number in range(3):
        made.append(
            await factories.make_article(
                title=f"Drone attack {number}",
                body="Air defence was active overnight.",
                published_at=_ago(30 + number),
            )
        )
    for count in range(1, 5):
        made.append(
            await factories.make_article(
                title=f"Morning report {count}",
                body=" ".join(["A drone was seen near the port."] * count)
                + " Officials gave no details.",
                published_at=_ago(count),
            )
        )
    return made


async def test_pages_follow_the_ranking_each_item_once(client: httpx.AsyncClient) -> None:
    await _drone_stories()
    whole = _titles(await _search(client, "drone", first=20))

    paged: list[str] = []
    after: str | None = None
    for _ in range(10):
        page = await _search(client, "drone", first=2, after=after)
        paged.extend(_titles(page))
        assert len(page["edges"]) <= 2
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after, page
    else:
        pytest.fail("paging never ended")

    assert len(set(whole)) == 7
    assert paged == whole
    assert whole != NEWEST_DRONE_STORIES  # ranked, not by date
    ties = [whole.index(f"Drone attack {number}") for number in range(3)]
    assert ties == list(range(ties[0], ties[0] + 3)), whole  # equal scores, newest first


async def test_pages_in_newest_order_each_item_once(client: httpx.AsyncClient) -> None:
    await _drone_stories()
    whole = _titles(await _search(client, "drone", first=20, order="NEWEST"))

    paged: list[str] = []
    after: str | None = None
    for _ in range(10):
        page = await _search(client, "drone", first=3, after=after, order="NEWEST")
        paged.extend(_titles(page))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    else:
        pytest.fail("paging never ended")

    assert whole == NEWEST_DRONE_STORIES
    assert paged == whole


@pytest.mark.parametrize("cursor", ["garbage", "", "!!!", "eyJhIjoxfQ"])
async def test_a_malformed_cursor_is_a_clear_error(client: httpx.AsyncClient, cursor: str) -> None:
    await _drone_stories()

    status, body = await gql(client, SEARCH, {"q": "drone", "first": 2, "after": cursor})

    assert status == 200, body
    assert error_code(body) == "BAD_USER_INPUT", body
    message = body["errors"][0]["message"].lower()
    assert "cursor" in message
    assert "invalid" in message
    assert body["data"] is None
