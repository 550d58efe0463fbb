"""Pinned stories: pin(id, until) keeps a published item in pinned(section:) (at most
CMS_MAX_PINNED, most recently pinned first) until its time; an expired pin drops out by the
rule alone (no job), from a cached response too; unpin takes it out. Only editors and
admins pin, only public items, only until a time to come."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from cms import clock
from cms.config import Settings
from cms.http.app import create_app
from cms.http.cache import ResponseCache
from cms.models import OutboxEvent
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    error_code,
    gql_data,
    seed_section,
)
from tests.api.graphql_client import app_client, gql

PIN = (
    """
mutation Pin($id: ID!, $until: DateTime) {
  pin(id: $id, until: $until) {
    __typename
    ... on Content { id version pinnedAt pinnedUntil }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
UNPIN = (
    """
mutation Unpin($id: ID!) {
  unpin(id: $id) {
    __typename
    ... on Content { id version pinnedAt pinnedUntil }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
PINNED = "query P($section: String) { pinned(section: $section) { id title pinnedUntil } }"
ITEM = "query($id: ID!) { node(id: $id) { ... on Content { version pinnedAt pinnedUntil } } }"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _pin(
    client: httpx.AsyncClient, token: str, id: str, until: datetime | None = None
) -> dict[str, Any]:
    variables = {"id": id, "until": until.isoformat() if until else None}
    result: dict[str, Any] = (await gql_data(client, PIN, variables, token))["pin"]
    return result


async def _pinned(
    client: httpx.AsyncClient, section: str | None = None, token: str | None = None
) -> list[str]:
    data = await gql_data(client, PINNED, {"section": section}, token)
    return [item["id"] for item in data["pinned"]]


async def _published(
    client: httpx.AsyncClient, token: str, title: str, **input: Any
) -> dict[str, Any]:
    story = await api_article(client, token, title=title, **input)
    await api_publish(client, token, story["id"])
    return story


# --- pinning ---------------------------------------------------------------------------


async def test_a_pinned_item_is_listed_until_its_time(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _published(client, editor, "Ceasefire talks")
    await _published(client, editor, "Not pinned")
    now = clock.utcnow()
    until = now + timedelta(hours=2)

    pinned = await _pin(client, editor, story["id"], until)
    listed = await _pinned(client)
    with clock.frozen(until - timedelta(seconds=1)):
        still = await _pinned(client)
    with clock.frozen(until):
        gone = await _pinned(client)
        item = (await gql_data(client, ITEM, {"id": story["id"]}))["node"]

    assert pinned["__typename"] == "Article", pinned
    assert _time(pinned["pinnedUntil"]) == until
    assert abs((_time(pinned["pinnedAt"]) - now).total_seconds()) < 60
    assert listed == still == [story["id"]]
    assert gone == []  # the pin's time has come: by the rule alone, no job ran
    assert (item["pinnedAt"], item["pinnedUntil"]) == (None, None)


async def test_a_pin_without_a_time_lasts_until_unpinned(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _published(client, editor, "Ceasefire talks")
    pinned = await _pin(client, editor, story["id"])

    with clock.frozen(clock.utcnow() + timedelta(days=365)):
        later = await _pinned(client)
    unpinned = (await gql_data(client, UNPIN, {"id": story["id"]}, editor))["unpin"]
    after = await _pinned(client)

    assert pinned["pinnedUntil"] is None and pinned["pinnedAt"] is not None
    assert later == [story["id"]]
    assert unpinned["__typename"] == "Article", unpinned
    assert (unpinned["pinnedAt"], unpinned["pinnedUntil"]) == (None, None)
    assert unpinned["version"] == pinned["version"] + 1
    assert after == []


async def test_unpinning_an_item_that_is_not_pinned_changes_nothing(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _published(client, editor, "Ceasefire talks")
    before = (await gql_data(client, ITEM, {"id": story["id"]}, editor))["node"]
    events = await OutboxEvent.all().count()

    result = (await gql_data(client, UNPIN, {"id": story["id"]}, editor))["unpin"]

    assert result["__typename"] == "Article", result
    assert result["version"] == before["version"]
    assert await OutboxEvent.all().count() == events


async def test_most_recently_pinned_first_and_at_most_three(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    stories = [await _published(client, editor, f"Story {n}") for n in range(5)]
    for minutes, story in enumerate(stories, start=1):
        with clock.frozen(now + timedelta(minutes=minutes)):
            await _pin(client, editor, story["id"])

    with clock.frozen(now + timedelta(minutes=10)):
        listed = await _pinned(client)
        # Pinned again: to the top, with its new time.
        await _pin(client, editor, stories[0]["id"], now + timedelta(hours=1))
        again = await _pinned(client)

    assert listed == [stories[4]["id"], stories[3]["id"], stories[2]["id"]]
    assert again == [stories[0]["id"], stories[4]["id"], stories[3]["id"]]


async def test_cms_max_pinned_bounds_the_list(
    settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    async with app_client(settings.model_copy(update={"max_pinned": 2})) as client:
        editor = tokens_by_role["editor"]
        now = clock.utcnow()
        stories = [await _published(client, editor, f"Story {n}") for n in range(3)]
        for minutes, story in enumerate(stories, start=1):
            with clock.frozen(now + timedelta(minutes=minutes)):
                await _pin(client, editor, story["id"])

        with clock.frozen(now + timedelta(minutes=10)):
            listed = await _pinned(client)

    assert listed == [stories[2]["id"], stories[1]["id"]]
    assert Settings.model_fields["max_pinned"].default == 3  # CMS_MAX_PINNED's default


async def test_a_pin_that_ends_makes_room_for_an_older_one(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """The newest three pins *that last*: an ended pin gives its place back."""
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    stories = [await _published(client, editor, f"Story {n}") for n in range(4)]
    for minutes, story in enumerate(stories, start=1):
        until = now + timedelta(hours=1) if story is stories[3] else None
        with clock.frozen(now + timedelta(minutes=minutes)):
            await _pin(client, editor, story["id"], until)

    with clock.frozen(now + timedelta(hours=2)):
        listed = await _pinned(client)

    assert listed == [stories[2]["id"], stories[1]["id"], stories[0]["id"]]


async def test_pinned_narrows_to_a_section(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    await seed_section(slug="war", name="War")
    await seed_section(slug="business", name="Business")
    war = await _published(client, editor, "Front line", sectionSlug="war")
    money = await _published(client, editor, "Markets", sectionSlug="business")
    episode = await api_video_episode(client, editor, sectionSlug="war")
    await api_publish(client, editor, episode["id"])
    for story in (war, money, episode):
        await _pin(client, editor, story["id"])

    assert set(await _pinned(client, "war")) == {war["id"], episode["id"]}
    assert await _pinned(client, "business") == [money["id"]]
    assert await _pinned(client, "nowhere") == []
    assert set(await _pinned(client)) == {war["id"], money["id"], episode["id"]}


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
@pytest.mark.parametrize(
    "withdraw",
    ["unpublish", "archive", "kill", "schedule", "expire"],
)
async def test_only_public_items_are_listed_pinned(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], reader: str, withdraw: str
) -> None:
    """Whatever takes a pinned item off the public paths takes it out of pinned, for token
    holders too (pinned is a public list)."""
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    await seed_section()
    story = await api_article(client, editor, title="Ceasefire talks", sectionSlug="war")
    until = (now + timedelta(hours=1)).isoformat() if withdraw == "expire" else None
    publish = "mutation($id: ID!, $u: DateTime) { publish(id: $id, until: $u) { __typename } }"
    await gql_data(client, publish, {"id": story["id"], "u": until}, editor)
    await _pin(client, editor, story["id"])
    documents = {
        "unpublish": "mutation($id: ID!) { unpublish(id: $id) { __typename } }",
        "archive": "mutation($id: ID!) { archive(id: $id) { __typename } }",
        "kill": 'mutation($id: ID!) { kill(id: $id, reason: "Legal") { __typename } }',
        "schedule": (
            "mutation($id: ID!, $at: DateTime) { publish(id: $id, at: $at) { __typename } }"
        ),
    }
    assert await _pinned(client, "war") == [story["id"]]  # before: listed
    if withdraw in documents:
        variables = {"id": story["id"]}
        if withdraw == "schedule":
            variables["at"] = (now + timedelta(days=1)).isoformat()
        await gql_data(client, documents[withdraw], variables, editor)
    later = now + timedelta(hours=2) if withdraw == "expire" else now

    with clock.frozen(later):
        listed = await _pinned(client, token=tokens_by_role.get(reader))
        in_section = await _pinned(client, "war", token=tokens_by_role.get(reader))

    assert listed == in_section == []


# --- refused ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "in review", "archived", "killed", "expired"])
async def test_pinning_an_item_readers_cannot_see_is_a_conflict(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], state: str
) -> None:
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    story = await api_article(client, editor, title="Not out")
    if state == "in review":
        await gql_data(
            client,
            "mutation($id: ID!) { submitForReview(id: $id) { __typename } }",
            {"id": story["id"]},
            editor,
        )
    elif state != "draft":
        publish = "mutation($id: ID!, $u: DateTime) { publish(id: $id, until: $u) { __typename } }"
        until = (now + timedelta(hours=1)).isoformat() if state == "expired" else None
        await gql_data(client, publish, {"id": story["id"], "u": until}, editor)
        if state == "archived":
            await gql_data(
                client,
                "mutation($id: ID!) { archive(id: $id) { __typename } }",
                {"id": story["id"]},
                editor,
            )
        elif state == "killed":
            await gql_data(
                client,
                'mutation($id: ID!) { kill(id: $id, reason: "x") { __typename } }',
                {"id": story["id"]},
                editor,
            )
    later = now + timedelta(hours=2) if state == "expired" else now

    with clock.frozen(later):
        before = (await gql_data(client, ITEM, {"id": story["id"]}, editor))["node"]
        result = await _pin(client, editor, story["id"])
        after = (await gql_data(client, ITEM, {"id": story["id"]}, editor))["node"]

    assert result["__typename"] == "ConflictError", result
    assert after == before


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(0)], ids=["past", "now"])
async def test_a_pin_until_a_time_gone_by_is_a_validation_error(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], offset: timedelta
) -> None:
    editor = tokens_by_role["editor"]
    story = await _published(client, editor, "Ceasefire talks")
    now = clock.utcnow()

    with clock.frozen(now):
        result = await _pin(client, editor, story["id"], now + offset)

    assert (result["__typename"], result["field"]) == ("ValidationError", "until"), result
    assert await _pinned(client) == []


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", "UNAUTHENTICATED"), ("viewer", "FORBIDDEN"), ("author", "FORBIDDEN"),
     ("editor", "Article"), ("admin", "Article")],
)  # fmt: skip
@pytest.mark.parametrize("mutation", ["pin", "unpin"])
async def test_only_editors_and_admins_pin_and_unpin(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    who: str,
    expected: str,
    mutation: str,
) -> None:
    editor = tokens_by_role["editor"]
    story = await _published(client, editor, "Ceasefire talks")
    if mutation == "unpin":
        await _pin(client, editor, story["id"])
    before = await _pinned(client)

    _, body = await gql(
        client, PIN if mutation == "pin" else UNPIN, {"id": story["id"]}, tokens_by_role.get(who)
    )

    after = await _pinned(client)
    if expected.isupper():
        assert error_code(body) == expected, body
        assert body["errors"][0]["path"] == [mutation]
        assert after == before
    else:
        assert body["data"][mutation]["__typename"] == expected, body
        assert after == ([story["id"]] if mutation == "pin" else [])


# --- the response cache ----------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def cache_client(
    request: pytest.FixtureRequest, settings: Settings, db: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the in-process store, or with Redis (its database emptied first); no
    periodic look at the outbox between two requests (a hit would depend on the clock)."""
    settings = settings.model_copy(update={"cache_generation_seconds": 3600})
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        redis = Redis.from_url(url)
        await redis.flushdb()
        await redis.aclose()
        settings = settings.model_copy(update={"redis_url": url})
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


async def _cached(client: httpx.AsyncClient, section: str | None = None) -> tuple[list[str], bool]:
    """pinned(section:) by anonymous GET: the ids, and whether the cache answered."""
    cache: ResponseCache = client.app.state.response_cache  # type: ignore[attr-defined]
    hits = cache.hits
    response = await client.get(
        "/graphql", params={"query": PINNED, "variables": json.dumps({"section": section})}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return [item["id"] for item in body["data"]["pinned"]], cache.hits > hits


async def test_a_cached_pinned_list_drops_a_pin_when_its_time_comes(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    await seed_section()
    story = await _published(cache_client, editor, "Ceasefire talks", sectionSlug="war")
    other = await _published(cache_client, editor, "Markets", sectionSlug="war")
    until = clock.utcnow() + timedelta(minutes=30)
    await _pin(cache_client, editor, other["id"])
    await _pin(cache_client, editor, story["id"], until)
    for section in (None, "war"):
        await _cached(cache_client, section)
        listed, hit = await _cached(cache_client, section)
        assert (listed, hit) == ([story["id"], other["id"]], True)

    with clock.frozen(until + timedelta(seconds=1)):
        after = [await _cached(cache_client, section) for section in (None, "war")]

    assert [listed for listed, _ in after] == [[other["id"]], [other["id"]]]


async def test_a_cached_item_stops_showing_its_pin_when_the_pin_ends(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """A frontend's "Pinned" badge reads pinnedAt: a cached answer must not outlive it."""
    editor = tokens_by_role["editor"]
    story = await _published(cache_client, editor, "Ceasefire talks")
    until = clock.utcnow() + timedelta(minutes=30)
    await _pin(cache_client, editor, story["id"], until)
    query = "query($id: ID!) { node(id: $id) { ... on Content { pinnedAt pinnedUntil } } }"
    params = {"query": query, "variables": json.dumps({"id": story["id"]})}
    cache: ResponseCache = cache_client.app.state.response_cache  # type: ignore[attr-defined]
    await cache_client.get("/graphql", params=params)
    hits = cache.hits
    pinned = (await cache_client.get("/graphql", params=params)).json()["data"]["node"]
    assert cache.hits == hits + 1 and pinned["pinnedAt"] is not None

    with clock.frozen(until + timedelta(seconds=1)):
        ended = (await cache_client.get("/graphql", params=params)).json()["data"]["node"]

    assert ended == {"pinnedAt": None, "pinnedUntil": None}


async def test_a_cached_pinned_list_shows_a_pin_and_an_unpin_at_once(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _published(cache_client, editor, "Ceasefire talks")
    await _cached(cache_client)
    assert await _cached(cache_client) == ([], True)

    await _pin(cache_client, editor, story["id"])
    pinned = await _cached(cache_client)
    again = await _cached(cache_client)
    await gql_data(cache_client, UNPIN, {"id": story["id"]}, editor)
    unpinned = await _cached(cache_client)

    assert pinned == ([story["id"]], False)
    assert again == ([story["id"]], True)
    assert unpinned == ([], False)


async def test_a_cached_pinned_list_shows_a_pinned_scheduled_item_at_its_time(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    at = clock.utcnow() + timedelta(minutes=30)
    story = await api_article(cache_client, editor, title="Ceasefire talks")
    await api_publish(cache_client, editor, story["id"], at=at.isoformat())
    pinned = await _pin(cache_client, editor, story["id"])
    await _cached(cache_client)
    before = await _cached(cache_client)

    with clock.frozen(at + timedelta(seconds=1)):
        after = await _cached(cache_client)

    assert pinned["__typename"] == "Article", pinned
    assert before == ([], True)
    assert after == ([story["id"]], False)
