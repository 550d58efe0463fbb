"""Corrections: addCorrection (editors) appends a dated public correction to a published
item. It shows on every read path, oldest first; CONTENT_CORRECTED goes out; no mutation
edits or removes one, and restoring an older revision keeps them. RSS and JSON Feed show
them under their item (`test_feeds_show_corrections_*`)."""

from __future__ import annotations

import asyncio
import email.utils
import html
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import feedparser
import httpx
import pytest

from cms import clock
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import InMemoryBroker
from cms.models import DeliveryStatus, OutboxEvent, Revision, WebhookDelivery
from cms.webhooks import addresses, deliveries
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    error_code,
    gql_data,
    pk_of,
    seed_author,
    seed_section,
)
from tests.api.graphql_client import gql
from tests.api.test_webhooks import Receiver, receiver  # noqa: F401 (a fixture)
from tests.realtime import next_event, post, serve, subscribe

ADD = (
    """
mutation Add($id: ID!, $text: String!) {
  addCorrection(id: $id, text: $text) {
    __typename
    ... on Content { id version corrections { id at text } }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
CORRECTIONS = "corrections { id at text }"
READS: dict[str, str] = {
    "feed": f"{{ feed(first: 10) {{ edges {{ node {{ id {CORRECTIONS} }} }} }} }}",
    "node": f"query($id: ID!) {{ node(id: $id) {{ ... on Content {{ id {CORRECTIONS} }} }} }}",
    "article": f"query($slug: String!) {{ article(slug: $slug) {{ id {CORRECTIONS} }} }}",
    "videoEpisode": (
        f"query($slug: String!) {{ videoEpisode(slug: $slug) {{ id {CORRECTIONS} }} }}"
    ),
    "search": (f'{{ search(query: "harbour") {{ edges {{ node {{ id {CORRECTIONS} }} }} }} }}'),
    "author content": (
        f'{{ author(slug: "news-desk") {{ content(first: 10) '
        f"{{ edges {{ node {{ id {CORRECTIONS} }} }} }} }} }}"
    ),
    "section page": (
        f'{{ section(slug: "war") {{ content(first: 10) '
        f"{{ edges {{ node {{ id {CORRECTIONS} }} }} }} }} }}"
    ),
    "tag page": (
        f'{{ tag(slug: "kyiv") {{ content(first: 10) '
        f"{{ edges {{ node {{ id {CORRECTIONS} }} }} }} }} }}"
    ),
    "pinned": f"{{ pinned {{ id {CORRECTIONS} }} }}",
}
HISTORY = """
query($id: ID!) {
  node(id: $id) { ... on Content { version status revisions { id version note } } }
}
"""
RESTORE = (
    "mutation($id: ID!) { restoreRevision(id: $id) { __typename "
    "... on Content { title corrections { text } } ...ErrorFields } }" + ERROR_FIELDS
)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _add(client: httpx.AsyncClient, token: str, id: str, text: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql_data(client, ADD, {"id": id, "text": text}, token))[
        "addCorrection"
    ]
    return result


def _found(data: Any, id: str) -> list[dict[str, Any]] | None:
    """The corrections of item `id` wherever it is in `data` (None when it is not there)."""
    if isinstance(data, dict):
        if data.get("id") == id and "corrections" in data:
            corrections: list[dict[str, Any]] = data["corrections"]
            return corrections
        values = list(data.values())
    elif isinstance(data, list):
        values = data
    else:
        return None
    for value in values:
        found = _found(value, id)
        if found is not None:
            return found
    return None


@pytest.fixture
async def stories(client: httpx.AsyncClient, tokens_by_role: dict[str, str]) -> dict[str, Any]:
    """A public article and video episode (section "war", by "news-desk", tagged "kyiv",
    "harbour" in their titles, pinned)."""
    editor = tokens_by_role["editor"]
    await seed_section()
    await seed_author()
    relations = {"sectionSlug": "war", "authorSlugs": ["news-desk"], "tagSlugs": ["kyiv"]}
    article = await api_article(client, editor, title="Harbour reopens", **relations)
    episode = await api_video_episode(client, editor, title="Harbour weekly", **relations)
    for item in (article, episode):
        await api_publish(client, editor, item["id"])
        await gql_data(
            client, "mutation($id: ID!) { pin(id: $id) { __typename } }", {"id": item["id"]}, editor
        )
    return {"article": article, "videoEpisode": episode}


async def test_an_editor_appends_dated_corrections_oldest_first(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], stories: dict[str, Any]
) -> None:
    editor = tokens_by_role["editor"]
    story = stories["article"]
    now = clock.utcnow()
    before = (await gql_data(client, HISTORY, {"id": story["id"]}, editor))["node"]

    with clock.frozen(now + timedelta(minutes=1)):
        first = await _add(client, editor, story["id"], "  The bridge is 300 m long, not 30 m. ")
    with clock.frozen(now + timedelta(minutes=2)):
        second = await _add(client, tokens_by_role["admin"], story["id"], "The mayor is Ann.")
    history = (await gql_data(client, HISTORY, {"id": story["id"]}, editor))["node"]

    assert first["__typename"] == second["__typename"] == "Article", (first, second)
    assert [c["text"] for c in first["corrections"]] == ["The bridge is 300 m long, not 30 m."]
    assert [c["text"] for c in second["corrections"]] == [
        "The bridge is 300 m long, not 30 m.",
        "The mayor is Ann.",
    ]
    assert second["corrections"][0] == first["corrections"][0]  # unchanged by the second
    at = [_time(c["at"]) for c in second["corrections"]]
    assert at == [now + timedelta(minutes=1), now + timedelta(minutes=2)]
    assert first["corrections"][0]["id"] != second["corrections"][1]["id"]
    assert (first["version"], second["version"]) == (before["version"] + 1, before["version"] + 2)
    assert history["status"] == "PUBLISHED"  # still public
    assert [r["note"] for r in history["revisions"][:2]] == [
        "The mayor is Ann.",
        "The bridge is 300 m long, not 30 m.",
    ]


async def test_a_retried_correction_is_added_once(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], stories: dict[str, Any]
) -> None:
    """A client that timed out sends the same correction again: it is there once (a
    correction can never be removed); the same words later are a new correction."""
    editor = tokens_by_role["editor"]
    story = stories["article"]
    now = clock.utcnow()
    text = "The bridge is 300 m long, not 30 m."

    with clock.frozen(now + timedelta(minutes=1)):
        first = await _add(client, editor, story["id"], text)
    with clock.frozen(now + timedelta(minutes=2)):
        retried = await _add(client, editor, story["id"], text)
    with clock.frozen(now + timedelta(minutes=12)):
        later = await _add(client, editor, story["id"], text)

    assert [c["text"] for c in retried["corrections"]] == [text]
    assert retried["version"] == first["version"]  # nothing written, no event
    assert [c["text"] for c in later["corrections"]] == [text, text]
    assert later["version"] == first["version"] + 1


@pytest.mark.parametrize(
    ("field", "path"),
    [
        (field, path)
        for field in ("article", "videoEpisode")
        for path in READS
        if path not in ("article", "videoEpisode") or path == field  # by slug: its own kind
    ],
)
@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_corrections_show_on_every_read_path(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    stories: dict[str, Any],
    field: str,
    path: str,
    reader: str,
) -> None:
    story = stories[field]
    other = stories["videoEpisode" if field == "article" else "article"]
    added = await _add(client, tokens_by_role["editor"], story["id"], "A date was wrong.")
    query = READS[path]
    variables = {
        name: value
        for name, value in {"id": story["id"], "slug": story["slug"]}.items()
        if f"${name}" in query
    }

    # Both ways: POST, and GET (cacheable; answered after the correction was added).
    posted = await gql_data(client, query, variables, tokens_by_role.get(reader))
    params = {"query": query, "variables": json.dumps(variables)}
    got = (await client.get("/graphql", params=params)).json()

    assert _found(posted, story["id"]) == added["corrections"]
    assert len(added["corrections"]) == 1
    assert _found(got["data"], story["id"]) == added["corrections"]
    if path not in ("node", "article", "videoEpisode"):
        assert _found(posted, other["id"]) == []  # only under its own item


async def test_a_cached_response_shows_a_correction_at_once(
    client: httpx.AsyncClient, app: Any, tokens_by_role: dict[str, str], stories: dict[str, Any]
) -> None:
    story = stories["article"]
    cache = app.state.response_cache
    await cache.changes.catch_up(force=True)
    for query in READS.values():
        variables = {"id": story["id"], "slug": story["slug"]}
        given = {name: v for name, v in variables.items() if f"${name}" in query}
        params = {"query": query, "variables": json.dumps(given)}
        await client.get("/graphql", params=params)
        hits = cache.hits
        assert _found((await client.get("/graphql", params=params)).json(), story["id"]) in (
            [],
            None,  # videoEpisode(slug:) of an article's slug
        )
        assert cache.hits == hits + 1  # the second GET was a hit: the test proves something

    added = await _add(client, tokens_by_role["editor"], story["id"], "The toll is 2 euros.")

    for name, query in READS.items():
        if name == "videoEpisode":
            continue
        variables = {"id": story["id"], "slug": story["slug"]}
        given = {key: v for key, v in variables.items() if f"${key}" in query}
        params = {"query": query, "variables": json.dumps(given)}
        body = (await client.get("/graphql", params=params)).json()
        assert _found(body, story["id"]) == added["corrections"], name


# --- who may, and what ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", "UNAUTHENTICATED"), ("viewer", "FORBIDDEN"), ("author", "FORBIDDEN"),
     ("editor", "Article"), ("admin", "Article")],
)  # fmt: skip
async def test_only_editors_and_admins_add_corrections(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    stories: dict[str, Any],
    who: str,
    expected: str,
) -> None:
    story = stories["article"]

    _, body = await gql(client, ADD, {"id": story["id"], "text": "Fixed."}, tokens_by_role.get(who))

    corrections = await gql_data(client, READS["node"], {"id": story["id"]})
    if expected.isupper():
        assert error_code(body) == expected, body
        assert body["data"] is None
        assert corrections["node"]["corrections"] == []
    else:
        assert body["data"]["addCorrection"]["__typename"] == expected, body
        assert [c["text"] for c in corrections["node"]["corrections"]] == ["Fixed."]


@pytest.mark.parametrize("state", ["draft", "in review", "scheduled", "archived", "killed",
                                   "expired"])  # fmt: skip
async def test_only_a_published_item_takes_a_correction(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], state: str
) -> None:
    editor = tokens_by_role["editor"]
    item = await api_article(client, editor, title="Not out")
    now = clock.utcnow()
    if state == "in review":
        await gql_data(
            client,
            "mutation($id: ID!) { submitForReview(id: $id) { __typename } }",
            {"id": item["id"]},
            editor,
        )
    elif state == "scheduled":
        await api_publish(client, editor, item["id"], at=(now + timedelta(days=1)).isoformat())
    elif state in ("archived", "killed", "expired"):
        publish = "mutation($id: ID!, $u: DateTime) { publish(id: $id, until: $u) { __typename } }"
        until = (now + timedelta(hours=1)).isoformat() if state == "expired" else None
        await gql_data(client, publish, {"id": item["id"], "u": until}, editor)
        if state == "archived":
            await gql_data(
                client,
                "mutation($id: ID!) { archive(id: $id) { __typename } }",
                {"id": item["id"]},
                editor,
            )
        elif state == "killed":
            await gql_data(
                client,
                'mutation($id: ID!) { kill(id: $id, reason: "Legal") { __typename } }',
                {"id": item["id"]},
                editor,
            )
    later = now + timedelta(hours=2) if state == "expired" else now
    events = await OutboxEvent.all().count()

    with clock.frozen(later):
        result = await _add(client, editor, item["id"], "Nothing to correct yet.")
        read = await gql_data(client, READS["node"], {"id": item["id"]}, editor)

    assert result["__typename"] == "ConflictError", result
    assert read["node"]["corrections"] == []
    assert await OutboxEvent.all().count() == events


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
async def test_a_blank_or_overlong_correction_is_a_validation_error(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], stories: dict[str, Any], text: str
) -> None:
    story = stories["article"]

    result = await _add(client, tokens_by_role["editor"], story["id"], text)

    assert (result["__typename"], result["field"]) == ("ValidationError", "text"), result
    assert (await gql_data(client, READS["node"], {"id": story["id"]}))["node"]["corrections"] == []


async def test_no_mutation_edits_or_removes_a_correction(client: httpx.AsyncClient) -> None:
    """The schema has one way to touch corrections, appending; the inputs of the item's
    updates carry none."""
    query = """
    { mutation: __schema { mutationType { fields { name } } }
      article: __type(name: "ArticlePatch") { inputFields { name } }
      episode: __type(name: "VideoEpisodePatch") { inputFields { name } }
      correction: __type(name: "Correction") { fields { name } } }
    """

    data = await gql_data(client, query)

    mutations = {field["name"] for field in data["mutation"]["mutationType"]["fields"]}
    assert {name for name in mutations if "orrection" in name} == {"addCorrection"}
    for patch in ("article", "episode"):
        assert not [f for f in data[patch]["inputFields"] if "orrection" in f["name"]]
    assert {field["name"] for field in data["correction"]["fields"]} == {"id", "at", "text"}


async def test_restoring_an_older_revision_keeps_the_corrections(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], stories: dict[str, Any]
) -> None:
    editor = tokens_by_role["editor"]
    story = stories["article"]
    added = await _add(client, editor, story["id"], "The ferry leaves at 9.")
    update = 'mutation($id: ID!) { updateArticle(id: $id, input: {title: "New"}) { __typename } }'
    await gql_data(client, update, {"id": story["id"]}, editor)
    oldest = (await gql_data(client, HISTORY, {"id": story["id"]}, editor))["node"]["revisions"][-1]
    unpublish = "mutation($id: ID!) { unpublish(id: $id) { __typename } }"

    restored = (await gql_data(client, RESTORE, {"id": oldest["id"]}, editor))["restoreRevision"]
    await gql_data(client, unpublish, {"id": story["id"]}, editor)
    await api_publish(client, editor, story["id"])
    read = await gql_data(client, READS["article"], {"slug": story["slug"]})

    assert restored["title"] == "Harbour reopens"
    assert restored["corrections"] == [{"text": "The ferry leaves at 9."}]
    assert read["article"]["corrections"] == added["corrections"]


# --- events ----------------------------------------------------------------------------


async def test_a_correction_is_a_content_corrected_event(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], stories: dict[str, Any]
) -> None:
    story = stories["article"]

    added = await _add(client, tokens_by_role["editor"], story["id"], "Spelling of a name.")

    [event] = await OutboxEvent.filter(type="CONTENT_CORRECTED", content_id=pk_of(story["id"]))
    assert event.payload["correction"]["text"] == "Spelling of a name."
    assert _time(event.payload["correction"]["at"]) == _time(added["corrections"][0]["at"])
    revision = await Revision.get(content_id=pk_of(story["id"]), version=added["version"])
    assert revision.note == "Spelling of a name."


async def _send_webhooks(settings: Settings) -> None:
    """What the dispatcher does: hand the outbox to webhooks, then send what is due."""
    await Dispatcher(settings, InMemoryBroker()).dispatch_outbox()
    async with addresses.http_client(settings) as http:
        for _ in range(50):
            if not await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
                return
            await deliveries.deliver_due(client=http, settings=settings)
            await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not settle")


async def _corrected_through_a_webhook(
    client: httpx.AsyncClient,
    settings: Settings,
    tokens_by_role: dict[str, str],
    story: dict[str, Any],
    receiver: Receiver,  # noqa: F811
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A correction of `story`, delivered to `receiver`: (the body's data, the correction
    as the mutation answered it)."""
    receiver.fail_first = False
    create = """
    mutation($url: String!) {
      createWebhook(url: $url, events: [CONTENT_CORRECTED]) { ... on Webhook { secret } }
    }"""
    created = await gql_data(client, create, {"url": receiver.url}, tokens_by_role["admin"])
    receiver.secret = created["createWebhook"]["secret"]

    added = await _add(client, tokens_by_role["editor"], story["id"], "A wrong figure.")
    await _send_webhooks(settings)

    [attempt] = receiver.attempts
    assert (attempt.event, attempt.verified) == ("CONTENT_CORRECTED", True)
    data: dict[str, Any] = attempt.body["data"]
    assert data["content"]["id"] == story["id"]
    return data, added["corrections"][-1]


async def test_a_correction_reaches_webhooks_as_the_api_shows_it(
    client: httpx.AsyncClient,
    settings: Settings,
    tokens_by_role: dict[str, str],
    stories: dict[str, Any],
    receiver: Receiver,  # noqa: F811
) -> None:
    data, shown = await _corrected_through_a_webhook(
        client, settings, tokens_by_role, stories["article"], receiver
    )

    # The correction itself, as the API shows it (its global ID, its time, its text).
    correction = data["correction"]
    assert _time(correction["at"]) == _time(shown["at"])
    assert correction["text"] == shown["text"]
    assert correction["id"] == shown["id"]


async def test_a_corrected_item_reaches_webhooks_with_its_corrections(
    client: httpx.AsyncClient,
    settings: Settings,
    tokens_by_role: dict[str, str],
    stories: dict[str, Any],
    receiver: Receiver,  # noqa: F811
) -> None:
    """`data.content` is the item as the API shows it: with its corrections."""
    data, shown = await _corrected_through_a_webhook(
        client, settings, tokens_by_role, stories["article"], receiver
    )

    assert data["content"]["corrections"] == [shown]


@pytest.fixture
async def server(settings: Settings, db: None) -> AsyncIterator[str]:
    async with serve(settings.model_copy(update={"run_dispatcher": True})) as address:
        yield address


async def test_subscribers_hear_a_correction_of_a_public_item(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    create = 'mutation { createArticle(input: {title: "Heard"}) { ... on Article { id } } }'
    id = (await post(server, create, editor))["data"]["createArticle"]["id"]
    await post(server, "mutation($id: ID!) { publish(id: $id) { __typename } }", editor, id=id)
    async with subscribe(server) as anonymous:
        await post(server, ADD, editor, id=id, text="A date.")
        event = await next_event(anonymous)

    assert (event["type"], event["contentId"]) == ("CONTENT_CORRECTED", id)
    assert event["content"]["status"] == "PUBLISHED"


# --- RSS and JSON Feed -----------------------------------------------------------------


async def _corrected_feed_story(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Two public articles, the first corrected twice (one correction with markup in it)."""
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    corrected = await api_article(client, editor, title="Dam inspection", body="The dam holds.")
    untouched = await api_article(client, editor, title="Weather", body="Rain.")
    for item in (corrected, untouched):
        await api_publish(client, editor, item["id"], at=(now - timedelta(hours=1)).isoformat())
    await _add(client, editor, corrected["id"], "The dam is 40 m high, not 14 m.")
    added = await _add(client, editor, corrected["id"], "Fish & <chips> were not served.")
    return corrected, untouched, added["corrections"]


async def test_feeds_show_corrections_under_their_item_in_rss(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    corrected, untouched, corrections = await _corrected_feed_story(client, tokens_by_role)

    response = await client.get("/feed.xml")

    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    entries = {entry.id: entry for entry in parsed.entries}
    shown = entries[corrected["id"]].content[0].value
    assert "The dam holds." in shown
    assert "The dam is 40 m high, not 14 m." in shown
    assert html.escape("Fish & <chips> were not served.") in shown  # text, not markup
    assert "<chips>" not in shown
    assert shown.index("The dam holds.") < shown.index("40 m high")  # under the text
    assert shown.index("40 m high") < shown.index("Fish")  # oldest first
    assert "40 m high" not in entries[untouched["id"]].content[0].value
    assert len(corrections) == 2


async def test_feeds_show_corrections_under_their_item_in_json_feed(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    corrected, untouched, corrections = await _corrected_feed_story(client, tokens_by_role)

    response = await client.get("/feed.json")

    assert response.status_code == 200
    items = {item["id"]: item for item in response.json()["items"]}
    shown = items[corrected["id"]]["content_html"]
    assert "The dam holds." in shown
    assert "The dam is 40 m high, not 14 m." in shown
    assert html.escape("Fish & <chips> were not served.") in shown
    assert "<chips>" not in shown
    assert shown.index("The dam holds.") < shown.index("40 m high") < shown.index("Fish")
    assert "40 m high" not in items[untouched["id"]]["content_html"]
    assert len(corrections) == 2


@pytest.mark.parametrize("path", ["/feed.xml", "/feed.json"])
async def test_feeds_show_corrections_to_readers_holding_an_older_copy(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], path: str
) -> None:
    """A reader's conditional GET (by ETag, or by date alone) after a correction gets the
    corrected feed, not 304."""
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    story = await api_article(client, editor, title="Dam inspection", body="The dam holds.")
    await api_publish(client, editor, story["id"], at=(now - timedelta(hours=1)).isoformat())
    first = await client.get(path)
    stamp = first.headers["last-modified"]

    with clock.frozen(now + timedelta(minutes=5)):
        await _add(client, editor, story["id"], "The dam is 40 m high.")
    with clock.frozen(now + timedelta(minutes=6)):
        by_etag = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        by_date = await client.get(path, headers={"If-Modified-Since": stamp})

    assert (by_etag.status_code, by_date.status_code) == (200, 200)
    assert "The dam is 40 m high." in by_etag.text
    assert email.utils.parsedate_to_datetime(by_date.headers["last-modified"]) > (
        email.utils.parsedate_to_datetime(stamp)
    )
