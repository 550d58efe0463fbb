"""Translations (issue 15, parts 1 and 3): an item created with translationOf joins that
item's story (the same kind, another locale, one item per locale); `translations` lists
the story's other items, the public ones for anonymous readers and all of them for token
holders, ordered by locale; a locale outside CMS_LOCALES is a ValidationError on locale;
deleting an item leaves the rest of its story as it was; each item's `url` is its own
locale's page, so frontends write hreflang links from `translations`. Over HTTP, on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.config import Settings
from cms.models import Content
from tests.api.conftest import (
    CREATE_ARTICLE,
    CREATE_VIDEO_EPISODE,
    ERROR_FIELDS,
    api_article,
    api_publish,
    error_code,
    global_id,
    gql,
    gql_data,
    pk_of,
)
from tests.api.graphql_client import app_client
from tests.statements import counting

# A newsroom of six locales, where a story can have an item in every state at once.
LOCALES = ("en", "uk", "pl", "de", "fr", "es")
VIDEO_URL = "https://video.example/e.mp4"

TRANSLATIONS = """
query($id: ID!) {
  node(id: $id) {
    ... on Content {
      id locale
      translations { __typename id locale title status url }
    }
  }
}
"""
UPDATE_ARTICLE = (
    """
mutation($id: ID!, $input: ArticlePatch!) {
  updateArticle(id: $id, input: $input) {
    __typename
    ... on Article { id locale version }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
PUBLISH = (
    """
mutation($id: ID!, $at: DateTime, $until: DateTime) {
  publish(id: $id, at: $at, until: $until) { __typename ...ErrorFields }
}
"""
    + ERROR_FIELDS
)
KILL = 'mutation($id: ID!) { kill(id: $id, reason: "Legal") { __typename } }'
DELETE = "mutation($id: ID!) { deleteContent(id: $id) { __typename } }"
UNPUBLISH = "mutation($id: ID!) { unpublish(id: $id) { __typename } }"


@pytest.fixture
async def polyglot(settings: Settings, db: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app with CMS_LOCALES=en,uk,pl,de,fr,es."""
    async with app_client(settings.model_copy(update={"locales": LOCALES})) as client:
        yield client


async def _create(
    client: httpx.AsyncClient, token: str, *, kind: str = "article", **input: Any
) -> dict[str, Any]:
    """createArticle or createVideoEpisode as `token`'s holder: its result, error or not."""
    if kind == "article":
        document, field, base = CREATE_ARTICLE, "createArticle", {"title": "A story"}
    else:
        document, field = CREATE_VIDEO_EPISODE, "createVideoEpisode"
        base = {"title": "An episode", "videoUrl": VIDEO_URL}
    result: dict[str, Any] = (
        await gql_data(client, document, {"input": {**base, **input}}, token)
    )[field]
    return result


async def _made(
    client: httpx.AsyncClient, token: str, *, kind: str = "article", **input: Any
) -> dict[str, Any]:
    """`_create` that must succeed: the Article's or VideoEpisode's {__typename id slug …}."""
    result = await _create(client, token, kind=kind, **input)
    assert result["__typename"] == ("Article" if kind == "article" else "VideoEpisode"), result
    return result


async def _translate(
    client: httpx.AsyncClient, token: str, of: dict[str, Any], locale: str, title: str
) -> dict[str, Any]:
    """A translation of `of` (same kind) in `locale`, as a draft."""
    kind = "article" if of["__typename"] == "Article" else "episode"
    result = await _create(
        client, token, kind=kind, title=title, locale=locale, translationOf=of["id"]
    )
    assert result["__typename"] == of["__typename"], result
    return result


async def _members(
    client: httpx.AsyncClient, id: str, token: str | None = None
) -> list[tuple[str, str, str]] | None:
    """(locale, title, status) of the item's translations as `token`'s holder (or an
    anonymous reader) sees them; None when that reader cannot see the item itself."""
    node = (await gql_data(client, TRANSLATIONS, {"id": id}, token))["node"]
    if node is None:
        return None
    return [(item["locale"], item["title"], item["status"]) for item in node["translations"]]


async def _story_of(id: str) -> int | None:
    return (await Content.get(id=pk_of(id))).story_id


def _iso(value: datetime) -> str:
    return value.isoformat()


async def _publish(
    client: httpx.AsyncClient,
    token: str,
    id: str,
    at: datetime | None = None,
    until: datetime | None = None,
) -> None:
    variables = {"id": id, "at": _iso(at) if at else None, "until": _iso(until) if until else None}
    result = (await gql_data(client, PUBLISH, variables, token))["publish"]
    assert result["__typename"] in ("Article", "VideoEpisode"), result


async def _mutate(client: httpx.AsyncClient, token: str, document: str, id: str) -> None:
    data = await gql_data(client, document, {"id": id}, token)
    (result,) = data.values()
    assert result["__typename"] in ("Article", "VideoEpisode", "Deleted"), result


# --- joining a story ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["article", "episode"])
async def test_a_translation_joins_the_story_of_the_item_it_translates(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], kind: str
) -> None:
    editor, viewer = tokens_by_role["editor"], tokens_by_role["viewer"]
    original = await _made(client, editor, kind=kind, title="Dam breached")
    assert await _story_of(original["id"]) is None  # no story until it has a translation

    translation = await _translate(client, editor, original, "uk", "Дамбу прорвало")

    # One story, named after the item first translated; both directions, drafts included.
    assert await _story_of(original["id"]) == await _story_of(translation["id"])
    assert await _story_of(translation["id"]) == pk_of(original["id"])
    for token in (viewer, editor):
        assert await _members(client, original["id"], token) == [("uk", "Дамбу прорвало", "DRAFT")]
        assert await _members(client, translation["id"], token) == [("en", "Dam breached", "DRAFT")]
    typename = (await gql_data(client, TRANSLATIONS, {"id": original["id"]}, viewer))["node"][
        "translations"
    ][0]["__typename"]
    assert typename == original["__typename"]
    # Anonymous readers see the story once both are public.
    assert await _members(client, original["id"]) is None
    for item in (original, translation):
        await api_publish(client, editor, item["id"])
    assert await _members(client, original["id"]) == [("uk", "Дамбу прорвало", "PUBLISHED")]
    assert await _members(client, translation["id"]) == [("en", "Dam breached", "PUBLISHED")]


async def test_an_item_without_translations_lists_none(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    alone = await api_article(client, editor, title="Alone")
    await api_publish(client, editor, alone["id"])

    assert await _members(client, alone["id"]) == []
    assert await _members(client, alone["id"], tokens_by_role["viewer"]) == []


@pytest.mark.parametrize(
    ("kind", "other"), [("article", "episode"), ("episode", "article")], ids=["article", "episode"]
)
async def test_a_translation_of_another_kind_is_a_validation_error_on_translation_of(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], kind: str, other: str
) -> None:
    editor = tokens_by_role["editor"]
    original = await _made(client, editor, kind=other, title="Original")
    before = await Content.all().count()

    result = await _create(
        client, editor, kind=kind, title="Переклад", locale="uk", translationOf=original["id"]
    )

    assert (result["__typename"], result["field"]) == ("ValidationError", "translationOf")
    assert await Content.all().count() == before
    assert await _story_of(original["id"]) is None


@pytest.mark.parametrize(
    "translation_of",
    [
        pytest.param(global_id("Article", 987_654), id="no such item"),
        pytest.param("not-an-id", id="malformed"),
        pytest.param(global_id("Section", 1), id="a section"),
        pytest.param(global_id("Article", 2**40), id="no row can have it"),
        pytest.param("", id="empty"),
    ],
)
async def test_a_translation_of_nothing_is_a_validation_error_on_translation_of(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], translation_of: str
) -> None:
    editor = tokens_by_role["editor"]
    await _made(client, editor, title="Something else")  # a row, so ids are not all free
    before = await Content.all().count()

    result = await _create(client, editor, title="Т", locale="uk", translationOf=translation_of)

    assert (result["__typename"], result["field"]) == ("ValidationError", "translationOf")
    assert await Content.all().count() == before


async def test_a_translation_of_a_deleted_item_is_a_validation_error_on_translation_of(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    gone = await api_article(client, editor, title="Gone")
    await _mutate(client, editor, DELETE, gone["id"])

    result = await _create(client, editor, title="Т", locale="uk", translationOf=gone["id"])

    assert (result["__typename"], result["field"]) == ("ValidationError", "translationOf")


async def test_a_null_translation_of_makes_an_item_of_no_story(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    created = await _create(client, tokens_by_role["editor"], title="Plain", translationOf=None)

    assert created["__typename"] == "Article", created
    assert await _story_of(created["id"]) is None


async def test_a_second_item_in_a_locale_the_story_has_is_a_validation_error_on_locale(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    original = await _made(client, editor, title="Original")  # en, no story yet

    # In the original's own locale: explicitly, and by CMS_DEFAULT_LOCALE.
    explicit = await _create(
        client, editor, title="Again", locale="en", translationOf=original["id"]
    )
    implicit = await _create(client, editor, title="Again", translationOf=original["id"])
    assert await _story_of(original["id"]) is None  # the refused join left nothing behind
    translation = await _translate(client, editor, original, "uk", "Оригінал")
    # A second Ukrainian item, translating either member of the story.
    of_original = await _create(
        client, editor, title="Ще раз", locale="uk", translationOf=original["id"]
    )
    of_translation = await _create(
        client, editor, title="Ще раз", locale="uk", translationOf=translation["id"]
    )
    back_to_english = await _create(
        client, editor, title="Again", locale="en", translationOf=translation["id"]
    )

    for result in (explicit, implicit, of_original, of_translation, back_to_english):
        assert (result["__typename"], result["field"]) == ("ValidationError", "locale"), result
    assert await Content.all().count() == 2
    assert await _members(client, original["id"], editor) == [("uk", "Оригінал", "DRAFT")]


@pytest.mark.parametrize("locale", ["de", "EN", "en-GB", "xx"])
async def test_a_locale_outside_cms_locales_is_a_validation_error_on_locale(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], locale: str
) -> None:
    editor = tokens_by_role["editor"]
    original = await _made(client, editor, title="Original")
    before = await Content.all().count()

    plain = await _create(client, editor, title="Plain", locale=locale)
    translated = await _create(
        client, editor, title="Translated", locale=locale, translationOf=original["id"]
    )
    episode = await _create(client, editor, kind="episode", locale=locale)
    updated = (
        await gql_data(
            client, UPDATE_ARTICLE, {"id": original["id"], "input": {"locale": locale}}, editor
        )
    )["updateArticle"]

    for result in (plain, translated, episode, updated):
        assert (result["__typename"], result["field"]) == ("ValidationError", "locale"), result
    assert await Content.all().count() == before
    assert (await Content.get(id=pk_of(original["id"]))).locale == "en"


async def test_each_of_cms_locales_is_accepted(
    client: httpx.AsyncClient, polyglot: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    english = await _create(client, editor, title="English", locale="en")
    ukrainian = await _create(client, editor, title="Українська", locale="uk")
    polish = await _create(polyglot, editor, title="Polski", locale="pl")
    # The app with the default CMS_LOCALES (en,uk) refuses what the other accepts.
    refused = await _create(client, editor, title="Polski", locale="pl")

    assert [english["__typename"], ukrainian["__typename"], polish["__typename"]] == ["Article"] * 3
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "locale")
    stored = {item.title: item.locale for item in await Content.all()}
    assert stored == {"English": "en", "Українська": "uk", "Polski": "pl"}


async def test_a_translation_of_a_translation_joins_the_same_story(
    polyglot: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor, viewer = tokens_by_role["editor"], tokens_by_role["viewer"]
    english = await _made(polyglot, editor, kind="episode", title="Weekly")
    ukrainian = await _translate(polyglot, editor, english, "uk", "Тижневик")
    polish = await _translate(polyglot, editor, ukrainian, "pl", "Tygodnik")
    german = await _translate(polyglot, editor, polish, "de", "Wochenschau")
    items = {"en": english, "uk": ukrainian, "pl": polish, "de": german}

    stories = {await _story_of(item["id"]) for item in items.values()}
    assert stories == {pk_of(english["id"])}
    everyone = [
        ("de", "Wochenschau", "DRAFT"),
        ("en", "Weekly", "DRAFT"),
        ("pl", "Tygodnik", "DRAFT"),
        ("uk", "Тижневик", "DRAFT"),
    ]
    for locale, item in items.items():
        others = [member for member in everyone if member[0] != locale]
        assert await _members(polyglot, item["id"], viewer) == others, locale
    # One item per locale holds across the story, whichever member is translated.
    for item in items.values():
        refused = await _create(
            polyglot, editor, kind="episode", locale="pl", translationOf=item["id"]
        )
        assert (refused["__typename"], refused["field"]) == ("ValidationError", "locale")


async def test_two_translations_into_one_locale_at_once_make_one_item(
    polyglot: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """Translating two members of a story into Polish at the same moment: each writer locks
    a different row, so the unique (story, locale) settles it: one item, one ValidationError."""
    editor = tokens_by_role["editor"]
    english = await _made(polyglot, editor, title="Original")
    ukrainian = await _translate(polyglot, editor, english, "uk", "Оригінал")

    results = await asyncio.gather(
        *(
            _create(polyglot, editor, title=f"Polski {n}", locale="pl", translationOf=of["id"])
            for n, of in enumerate((english, ukrainian, english, ukrainian))
        )
    )

    made = [result for result in results if result["__typename"] == "Article"]
    refused = [result for result in results if result["__typename"] != "Article"]
    assert len(made) == 1, results
    assert {(r["__typename"], r["field"]) for r in refused} == {("ValidationError", "locale")}
    assert await Content.filter(locale="pl").count() == 1
    assert await _story_of(made[0]["id"]) == pk_of(english["id"])


async def test_changing_a_locale_to_one_the_story_has_is_a_validation_error_on_locale(
    polyglot: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    english = await _made(polyglot, editor, title="Original")
    ukrainian = await _translate(polyglot, editor, english, "uk", "Оригінал")

    async def relocate(item: dict[str, Any], locale: str) -> dict[str, Any]:
        variables = {"id": item["id"], "input": {"locale": locale}}
        result: dict[str, Any] = (await gql_data(polyglot, UPDATE_ARTICLE, variables, editor))[
            "updateArticle"
        ]
        return result

    taken = await relocate(ukrainian, "en")
    taken_back = await relocate(english, "uk")
    same = await relocate(ukrainian, "uk")  # its own locale: no change of locale at all
    moved = await relocate(ukrainian, "pl")
    # The story has no Ukrainian item now: a new one may join it.
    again = await _translate(polyglot, editor, english, "uk", "Знову")

    for result in (taken, taken_back):
        assert (result["__typename"], result["field"]) == ("ValidationError", "locale"), result
    assert (same["__typename"], same["locale"]) == ("Article", "uk")
    assert (moved["__typename"], moved["locale"]) == ("Article", "pl")
    assert await _story_of(again["id"]) == await _story_of(english["id"])
    assert await _members(polyglot, english["id"], editor) == [
        ("pl", "Оригінал", "DRAFT"),
        ("uk", "Знову", "DRAFT"),
    ]


async def test_translation_of_is_not_an_update_field(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    one = await api_article(client, editor, title="One")
    other = await api_article(client, editor, title="Інший", locale="uk")
    version = (await Content.get(id=pk_of(other["id"]))).version

    status, body = await gql(
        client,
        UPDATE_ARTICLE,
        {"id": other["id"], "input": {"translationOf": one["id"]}},
        editor,
    )
    inline = (
        "mutation($id: ID!, $of: ID!) { updateArticle(id: $id, input: {translationOf: $of})"
        " { __typename } }"
    )
    _, inline_body = await gql(client, inline, {"id": other["id"], "of": one["id"]}, editor)

    assert body.get("errors"), body
    assert "translationOf" in body["errors"][0]["message"]
    assert body.get("data") is None
    assert status in (200, 400)
    assert "translationOf" in inline_body["errors"][0]["message"]
    assert error_code(inline_body) == "GRAPHQL_VALIDATION_FAILED"
    row = await Content.get(id=pk_of(other["id"]))
    assert (row.story_id, row.version) == (None, version)


# --- who sees which translations ---------------------------------------------------------


async def test_anonymous_readers_see_the_public_translations_and_token_holders_all(
    polyglot: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor, viewer = tokens_by_role["editor"], tokens_by_role["viewer"]
    now = clock.utcnow()
    english = await _made(polyglot, editor, title="Harbour")
    await api_publish(polyglot, editor, english["id"])
    public = await _translate(polyglot, editor, english, "uk", "Гавань")
    await _publish(polyglot, editor, public["id"])
    draft = await _translate(polyglot, editor, english, "pl", "Port")
    killed = await _translate(polyglot, editor, english, "de", "Hafen")
    await _publish(polyglot, editor, killed["id"])
    await _mutate(polyglot, editor, KILL, killed["id"])
    expiring = await _translate(polyglot, editor, english, "fr", "Port de mer")
    await _publish(polyglot, editor, expiring["id"], until=now + timedelta(minutes=1))
    scheduled = await _translate(polyglot, editor, english, "es", "Puerto")
    await _publish(polyglot, editor, scheduled["id"], at=now + timedelta(days=1))

    with clock.frozen(now + timedelta(minutes=5)):  # the French one has expired
        anonymous = await _members(polyglot, english["id"])
        from_ukrainian = await _members(polyglot, public["id"])
        holders = {
            role: await _members(polyglot, english["id"], tokens_by_role[role])
            for role in ("viewer", "author", "editor", "admin")
        }
        from_draft = await _members(polyglot, draft["id"], viewer)
        hidden_draft = await _members(polyglot, draft["id"])

    assert anonymous == [("uk", "Гавань", "PUBLISHED")]
    assert from_ukrainian == [("en", "Harbour", "PUBLISHED")]
    assert hidden_draft is None
    everyone = [
        ("de", "Hafen", "KILLED"),
        ("es", "Puerto", "SCHEDULED"),
        ("fr", "Port de mer", "EXPIRED"),
        ("pl", "Port", "DRAFT"),
        ("uk", "Гавань", "PUBLISHED"),
    ]
    assert holders == dict.fromkeys(holders, everyone)
    assert from_draft == [
        ("de", "Hafen", "KILLED"),
        ("en", "Harbour", "PUBLISHED"),
        ("es", "Puerto", "SCHEDULED"),
        ("fr", "Port de mer", "EXPIRED"),
        ("uk", "Гавань", "PUBLISHED"),
    ]
    # The scheduled one joins the anonymous list when its time comes.
    with clock.frozen(now + timedelta(days=1, minutes=1)):
        assert await _members(polyglot, english["id"]) == [
            ("es", "Puerto", "PUBLISHED"),
            ("uk", "Гавань", "PUBLISHED"),
        ]


async def test_a_public_translation_of_a_draft_lists_nothing_to_anonymous_readers(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    draft = await _made(client, editor, title="Not yet")
    translation = await _translate(client, editor, draft, "uk", "Ще ні")
    await api_publish(client, editor, translation["id"])

    assert await _members(client, translation["id"]) == []
    assert await _members(client, translation["id"], tokens_by_role["viewer"]) == [
        ("en", "Not yet", "DRAFT")
    ]


async def test_deleting_an_item_leaves_the_rest_of_its_story(
    polyglot: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor, viewer = tokens_by_role["editor"], tokens_by_role["viewer"]
    english = await _made(polyglot, editor, title="Original")
    ukrainian = await _translate(polyglot, editor, english, "uk", "Переклад")
    polish = await _translate(polyglot, editor, english, "pl", "Tłumaczenie")
    for item in (english, ukrainian, polish):
        await api_publish(polyglot, editor, item["id"])
    story = pk_of(english["id"])

    await _mutate(polyglot, editor, DELETE, english["id"])

    assert not await Content.exists(id=story)
    for token in (None, viewer):
        assert await _members(polyglot, ukrainian["id"], token) == [
            ("pl", "Tłumaczenie", "PUBLISHED")
        ]
        assert await _members(polyglot, polish["id"], token) == [("uk", "Переклад", "PUBLISHED")]
    # The story goes on: a new translation of a member joins it.
    german = await _translate(polyglot, editor, ukrainian, "de", "Übersetzung")
    assert {await _story_of(item["id"]) for item in (ukrainian, polish, german)} == {story}
    assert await _members(polyglot, polish["id"], viewer) == [
        ("de", "Übersetzung", "DRAFT"),
        ("uk", "Переклад", "PUBLISHED"),
    ]
    # And the last two of a story list each other until one goes too.
    await _mutate(polyglot, editor, DELETE, german["id"])
    await _mutate(polyglot, editor, DELETE, polish["id"])
    assert await _members(polyglot, ukrainian["id"], viewer) == []
    assert await _members(polyglot, ukrainian["id"]) == []


@pytest.mark.parametrize("compiled", [True, False], ids=["plans", "graphql-core"])
async def test_plans_and_graphql_core_list_the_same_translations(
    settings: Settings, db: None, tokens_by_role: dict[str, str], compiled: bool
) -> None:
    changed = settings.model_copy(update={"compiled_reads": compiled})
    async with app_client(changed) as client:
        editor = tokens_by_role["editor"]
        english = await _made(client, editor, title="Both paths")
        ukrainian = await _translate(client, editor, english, "uk", "Обидва шляхи")
        await api_publish(client, editor, english["id"])
        feed = "{ feed { edges { node { title translations { title locale } } } } }"

        anonymous = await gql_data(client, feed)
        holder = await _members(client, english["id"], tokens_by_role["viewer"])
        await api_publish(client, editor, ukrainian["id"])
        published = await gql_data(client, feed)

    assert anonymous == {"feed": {"edges": [{"node": {"title": "Both paths", "translations": []}}]}}
    assert holder == [("uk", "Обидва шляхи", "DRAFT")]
    assert [edge["node"] for edge in published["feed"]["edges"]] == [
        {"title": "Обидва шляхи", "translations": [{"title": "Both paths", "locale": "en"}]},
        {"title": "Both paths", "translations": [{"title": "Обидва шляхи", "locale": "uk"}]},
    ]


async def test_translations_of_a_feed_page_cost_the_same_for_one_item_and_twenty(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    for number in range(20):
        english = await _made(client, editor, title=f"Story {number}")
        ukrainian = await _translate(client, editor, english, "uk", f"Історія {number}")
        at = _iso(now - timedelta(minutes=2 * number + 1))
        await api_publish(client, editor, english["id"], at=at)
        await api_publish(
            client, editor, ukrainian["id"], at=_iso(now - timedelta(minutes=2 * number + 2))
        )
    query = """
    query($first: Int!) { feed(first: $first, locale: "en") {
      edges { node { title translations { title url authors { name } tags { slug } } } } } }
    """

    counts = {}
    for first in (1, 20):
        with counting() as statements:
            data = await gql_data(client, query, {"first": first})
        edges = data["feed"]["edges"]
        assert len(edges) == first
        assert all(
            [t["title"] for t in edge["node"]["translations"]]
            == [edge["node"]["title"].replace("Story", "Історія")]
            for edge in edges
        )
        counts[first] = len(statements)

    assert counts[1] == counts[20], counts


# --- the response cache -----------------------------------------------------------------

ORIGINAL = "query($slug: String!) { article(slug: $slug) { title translations { locale title } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Content { translations { locale title } } } }"


async def _cached(
    client: httpx.AsyncClient, app: Any, query: str, **variables: Any
) -> tuple[dict[str, Any], bool]:
    """An anonymous GET's data, and whether the response cache answered it."""
    hits = app.state.response_cache.hits
    response = await client.get(
        "/graphql", params={"query": query, "variables": json.dumps(variables)}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data, app.state.response_cache.hits > hits


async def test_a_cached_read_shows_a_translation_the_moment_it_is_published(
    client: httpx.AsyncClient, app: Any, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    english = await _made(client, editor, title="Cached story", slug="cached")
    await api_publish(client, editor, english["id"])
    alone, _ = await _cached(client, app, ORIGINAL, slug="cached")
    still, hit = await _cached(client, app, ORIGINAL, slug="cached")
    assert alone == still == {"article": {"title": "Cached story", "translations": []}}
    assert hit, "the second read should come from the cache"

    ukrainian = await _translate(client, editor, english, "uk", "Збережена історія")
    with_draft, _ = await _cached(client, app, ORIGINAL, slug="cached")
    await api_publish(client, editor, ukrainian["id"])
    published, _ = await _cached(client, app, ORIGINAL, slug="cached")
    again, hit_again = await _cached(client, app, ORIGINAL, slug="cached")
    retitle = {"id": ukrainian["id"], "input": {"title": "Нова назва"}}
    await gql_data(client, UPDATE_ARTICLE, retitle, editor)
    retitled, _ = await _cached(client, app, ORIGINAL, slug="cached")
    await _mutate(client, editor, KILL, ukrainian["id"])
    killed, _ = await _cached(client, app, ORIGINAL, slug="cached")

    assert with_draft["article"]["translations"] == []
    listed = [{"locale": "uk", "title": "Збережена історія"}]
    assert published["article"]["translations"] == listed
    assert again == published and hit_again
    assert retitled["article"]["translations"] == [{"locale": "uk", "title": "Нова назва"}]
    assert killed["article"]["translations"] == []


async def test_a_cached_read_of_a_translation_drops_a_deleted_or_withdrawn_original(
    client: httpx.AsyncClient, app: Any, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    english = await _made(client, editor, title="Original")
    ukrainian = await _translate(client, editor, english, "uk", "Переклад")
    polish_free = await api_article(client, editor, title="Other story")
    for item in (english, ukrainian, polish_free):
        await api_publish(client, editor, item["id"])

    listed, _ = await _cached(client, app, NODE, id=ukrainian["id"])
    _, hit = await _cached(client, app, NODE, id=ukrainian["id"])
    await _mutate(client, editor, UNPUBLISH, english["id"])
    withdrawn, _ = await _cached(client, app, NODE, id=ukrainian["id"])
    await api_publish(client, editor, english["id"])
    back, _ = await _cached(client, app, NODE, id=ukrainian["id"])
    await _mutate(client, editor, DELETE, english["id"])
    deleted, _ = await _cached(client, app, NODE, id=ukrainian["id"])

    assert listed == {"node": {"translations": [{"locale": "en", "title": "Original"}]}}
    assert hit
    assert withdrawn == {"node": {"translations": []}}
    assert back == listed
    assert deleted == {"node": {"translations": []}}


# --- URLs per locale ---------------------------------------------------------------------

URLS = "query($id: ID!) { node(id: $id) { ... on Content { locale url translations { url } } } }"


async def _urls(client: httpx.AsyncClient, id: str, token: str) -> tuple[str, list[str]]:
    node = (await gql_data(client, URLS, {"id": id}, token))["node"]
    return node["url"], [item["url"] for item in node["translations"]]


async def test_each_locale_has_its_own_url_with_the_default_paths(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor, viewer = tokens_by_role["editor"], tokens_by_role["viewer"]
    article = await _made(client, editor, title="Bridge", slug="bridge")
    translated = await _translate(client, editor, article, "uk", "Міст")
    episode = await _made(client, editor, kind="episode", title="Weekly", slug="weekly")
    translated_episode = await _translate(client, editor, episode, "uk", "Тижневик")
    await gql_data(
        client, UPDATE_ARTICLE, {"id": translated["id"], "input": {"slug": "bridge"}}, editor
    )

    article_urls = await _urls(client, article["id"], viewer)
    translated_urls = await _urls(client, translated["id"], viewer)
    episode_urls = await _urls(client, episode["id"], viewer)
    translated_episode_urls = await _urls(client, translated_episode["id"], viewer)

    uk_slug = translated_episode["slug"]
    assert article_urls == (
        "https://news.example/news/bridge",
        ["https://news.example/uk/news/bridge"],
    )
    assert translated_urls == (
        "https://news.example/uk/news/bridge",
        ["https://news.example/news/bridge"],
    )
    assert episode_urls == (
        "https://news.example/video/weekly",
        [f"https://news.example/uk/video/{uk_slug}"],
    )
    assert translated_episode_urls == (
        f"https://news.example/uk/video/{uk_slug}",
        ["https://news.example/video/weekly"],
    )
    # Anonymous readers get the same addresses once the items are public.
    for item in (article, translated):
        await api_publish(client, editor, item["id"])
    node = (await gql_data(client, URLS, {"id": article["id"]}))["node"]
    assert (node["url"], [t["url"] for t in node["translations"]]) == article_urls


@pytest.mark.parametrize(
    ("update", "english", "ukrainian"),
    [
        pytest.param(
            {"article_path": "/{locale}/news/{slug}"},
            "https://news.example/en/news/bridge",
            "https://news.example/uk/news/bridge",
            id="a pattern with {locale}",
        ),
        pytest.param(
            {"article_path": "/stories/{slug}.{locale}.html"},
            "https://news.example/stories/bridge.en.html",
            "https://news.example/stories/bridge.uk.html",
            id="{locale} anywhere",
        ),
        pytest.param(
            {"default_locale": "uk"},
            "https://news.example/en/news/bridge",
            "https://news.example/news/bridge",
            id="uk the default locale",
        ),
        pytest.param(
            {"site_url": "https://www.newsroom.example", "article_path": "/a/{slug}/"},
            "https://www.newsroom.example/a/bridge/",
            "https://www.newsroom.example/uk/a/bridge/",
            id="another site and pattern",
        ),
    ],
)
async def test_urls_follow_the_path_settings_per_locale(
    settings: Settings,
    db: None,
    tokens_by_role: dict[str, str],
    update: dict[str, Any],
    english: str,
    ukrainian: str,
) -> None:
    editor = tokens_by_role["editor"]
    async with app_client(settings.model_copy(update=update)) as client:
        original = await _made(client, editor, title="Bridge", slug="bridge", locale="en")
        translation = await _create(
            client, editor, title="Міст", slug="bridge", locale="uk", translationOf=original["id"]
        )
        for item in (original, translation):
            await api_publish(client, editor, item["id"])

        holder = await _urls(client, original["id"], tokens_by_role["viewer"])
        reader = (await gql_data(client, URLS, {"id": translation["id"]}))["node"]

    assert holder == (english, [ukrainian])
    assert (reader["url"], [t["url"] for t in reader["translations"]]) == (ukrainian, [english])
