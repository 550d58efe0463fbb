"""Expiry: publish(id, at, until) makes an item public from `at` until `until`, then
EXPIRED by the visibility rule alone: EXPIRED for token holders, gone for anonymous readers
on every path (a cached response too) at that moment, with no job running; the dispatcher
announces CONTENT_EXPIRED at that time. until <= at is a ValidationError on "until"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import feedparser
import httpx
import pytest
from redis.asyncio import Redis

from cms import clock
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import FeedMessage, InMemoryBroker
from cms.http.app import create_app
from cms.http.cache import ResponseCache
from cms.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from cms.webhooks import addresses, deliveries
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_video_episode,
    gql_data,
    pk_of,
    seed_author,
    seed_section,
)
from tests.api.test_webhooks import Receiver, receiver  # noqa: F401 (a fixture)
from tests.realtime import next_event, post, serve, subscribe

PUBLISH = (
    """
mutation Publish($id: ID!, $at: DateTime, $until: DateTime) {
  publish(id: $id, at: $at, until: $until) {
    __typename
    ... on Content { id status publishedAt expiresAt version }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
STATUS = "query($id: ID!) { node(id: $id) { ... on Content { status expiresAt version } } }"
CONTENTS = """
query($status: [ContentStatus!]) { contents(status: $status) { edges { node { id } } } }
"""
READS: dict[str, str] = {
    "feed": "{ feed(first: 20) { edges { node { id } } } }",
    "article": "query($slug: String!) { article(slug: $slug) { id } }",
    "videoEpisode": "query($slug: String!) { videoEpisode(slug: $slug) { id } }",
    "node": "query($id: ID!) { node(id: $id) { id } }",
    "search": '{ search(query: "harbour") { edges { node { id } } } }',
    "author content": (
        '{ author(slug: "news-desk") { content(first: 20) { edges { node { id } } } } }'
    ),
    "section page": '{ section(slug: "war") { content(first: 20) { edges { node { id } } } } }',
    "tag page": '{ tag(slug: "kyiv") { content(first: 20) { edges { node { id } } } } }',
    "pinned": "{ pinned { id } }",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ids(data: Any) -> set[str]:
    """Every `id` anywhere in `data`."""
    if isinstance(data, dict):
        found = {data["id"]} if isinstance(data.get("id"), str) else set()
        for value in data.values():
            found |= _ids(value)
        return found
    if isinstance(data, list):
        return set().union(*(_ids(value) for value in data)) if data else set()
    return set()


def _variables(query: str, story: dict[str, Any]) -> dict[str, Any]:
    given = {"id": story["id"], "slug": story["slug"]}
    return {name: value for name, value in given.items() if f"${name}" in query}


async def _publish(
    client: httpx.AsyncClient,
    token: str,
    id: str,
    at: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    variables = {"id": id, "at": _iso(at), "until": _iso(until)}
    result: dict[str, Any] = (await gql_data(client, PUBLISH, variables, token))["publish"]
    return result


async def _story(client: httpx.AsyncClient, editor: str, field: str) -> dict[str, Any]:
    """A draft in section "war", by "news-desk", tagged "kyiv", "harbour" in its title."""
    await seed_section()
    await seed_author()
    relations = {"sectionSlug": "war", "authorSlugs": ["news-desk"], "tagSlugs": ["kyiv"]}
    make = api_article if field == "article" else api_video_episode
    return await make(client, editor, title="Harbour festival", **relations)


async def _public_reads(client: httpx.AsyncClient, story: dict[str, Any], field: str) -> set[str]:
    """The paths on which an anonymous reader finds `story` (POST), feeds included."""
    skip = "videoEpisode" if field == "article" else "article"
    found = set()
    for name, query in READS.items():
        if name != skip and story["id"] in _ids(
            await gql_data(client, query, _variables(query, story))
        ):
            found.add(name)
    rss = feedparser.parse((await client.get("/feed.xml")).content)
    if story["id"] in {entry.id for entry in rss.entries}:
        found.add("rss")
    if story["id"] in {item["id"] for item in (await client.get("/feed.json")).json()["items"]}:
        found.add("json feed")
    return found


SIGNIFICANT = (
    "query($id: ID!) { node(id: $id) { ... on Content { publishedAt significantlyUpdatedAt } } }"
)
ALL_PATHS = {
    "feed", "node", "search", "author content", "section page", "tag page", "pinned", "rss",
    "json feed",
}  # fmt: skip


@pytest.mark.parametrize("field", ["article", "videoEpisode"])
async def test_an_item_is_public_from_at_until_until_then_expired(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], field: str
) -> None:
    editor, viewer = tokens_by_role["editor"], tokens_by_role["viewer"]
    story = await _story(client, editor, field)
    now = clock.utcnow()
    at, until = now + timedelta(hours=1), now + timedelta(hours=3)

    published = await _publish(client, editor, story["id"], at, until)
    await gql_data(
        client, "mutation($id: ID!) { pin(id: $id) { __typename } }", {"id": story["id"]}, editor
    )
    seen: dict[str, tuple[set[str], str, set[str], set[str]]] = {}
    for moment, when in (
        ("before", now),
        ("from at", at),
        ("just before until", until - timedelta(seconds=1)),
        ("at until", until),
        ("long after", until + timedelta(days=30)),
    ):
        with clock.frozen(when):
            paths = await _public_reads(client, story, field)
            status = (await gql_data(client, STATUS, {"id": story["id"]}, viewer))["node"]
            expired = _ids(await gql_data(client, CONTENTS, {"status": ["EXPIRED"]}, viewer))
            public = _ids(await gql_data(client, CONTENTS, {"status": ["PUBLISHED"]}, viewer))
        seen[moment] = (paths, status["status"], expired, public)

    assert published["status"] == "SCHEDULED"
    assert (_time(published["publishedAt"]), _time(published["expiresAt"])) == (at, until)
    assert seen["before"] == (set(), "SCHEDULED", set(), set())
    assert seen["from at"] == (ALL_PATHS | {field}, "PUBLISHED", set(), {story["id"]})
    assert seen["just before until"] == seen["from at"]
    assert seen["at until"] == (set(), "EXPIRED", {story["id"]}, set())
    assert seen["long after"] == seen["at until"]


async def test_an_item_published_now_until_a_time(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    until = clock.utcnow() + timedelta(minutes=10)

    published = await _publish(client, editor, story["id"], until=until)
    with clock.frozen(until - timedelta(seconds=1)):
        before = await _public_reads(client, story, "article")
    with clock.frozen(until):
        after = await _public_reads(client, story, "article")
        status = (await gql_data(client, STATUS, {"id": story["id"]}, editor))["node"]

    assert (published["status"], _time(published["expiresAt"])) == ("PUBLISHED", until)
    assert before == (ALL_PATHS - {"pinned"}) | {"article"}
    assert after == set()
    assert status["status"] == "EXPIRED"


async def test_a_live_story_given_an_expiry_keeps_its_place_in_the_feed(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """Setting an expiry on a story that is running is not a new publication: it keeps its
    publishedAt (its place in the feed) and its "Updated" mark."""
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    published = await _publish(client, editor, story["id"], at=clock.utcnow() - timedelta(hours=3))
    await gql_data(
        client,
        'mutation($id: ID!) { updateArticle(id: $id, input: {dek: "More"}, significant: true)'
        " { __typename } }",
        {"id": story["id"]},
        editor,
    )
    until = clock.utcnow() + timedelta(hours=1)

    expiring = await _publish(client, editor, story["id"], until=until)
    node = (await gql_data(client, SIGNIFICANT, {"id": story["id"]}, editor))["node"]

    assert expiring["status"] == "PUBLISHED"
    assert _time(expiring["expiresAt"]) == until
    assert _time(node["publishedAt"]) == _time(published["publishedAt"])
    assert node["significantlyUpdatedAt"] is not None


@pytest.mark.parametrize(
    ("at", "until"),
    [
        pytest.param(timedelta(hours=2), timedelta(hours=1), id="until-before-at"),
        pytest.param(timedelta(hours=2), timedelta(hours=2), id="until-at-at"),
        pytest.param(None, timedelta(minutes=-1), id="until-in-the-past"),
        pytest.param(None, timedelta(0), id="until-now"),
        pytest.param(timedelta(hours=-2), timedelta(hours=-1), id="back-dated-and-over"),
    ],
)
async def test_an_until_not_after_at_and_now_is_a_validation_error(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    at: timedelta | None,
    until: timedelta,
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    now = clock.utcnow()
    events = await OutboxEvent.all().count()

    with clock.frozen(now):
        result = await _publish(
            client, editor, story["id"], now + at if at is not None else None, now + until
        )
    status = (await gql_data(client, STATUS, {"id": story["id"]}, editor))["node"]

    assert (result["__typename"], result["field"]) == ("ValidationError", "until"), result
    assert status == {"status": "DRAFT", "expiresAt": None, "version": 1}
    assert await OutboxEvent.all().count() == events


async def test_publishing_again_without_until_keeps_the_item_public(
    client: httpx.AsyncClient, settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    until = clock.utcnow() + timedelta(hours=1)
    await _publish(client, editor, story["id"], until=until)

    again = await _publish(client, editor, story["id"])
    with clock.frozen(until + timedelta(minutes=1)):
        await Dispatcher(settings, InMemoryBroker()).run_once()
        paths = await _public_reads(client, story, "article")

    assert (again["status"], again["expiresAt"]) == ("PUBLISHED", None)
    assert "feed" in paths and "node" in paths
    assert not await OutboxEvent.filter(type="CONTENT_EXPIRED").exists()


async def test_an_expired_item_published_again_is_public_again(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    now = clock.utcnow()
    await _publish(client, editor, story["id"], until=now + timedelta(hours=1))

    with clock.frozen(now + timedelta(hours=2)):
        again = await _publish(client, editor, story["id"])
        paths = await _public_reads(client, story, "article")

    assert (again["__typename"], again["status"], again["expiresAt"]) == (
        "Article", "PUBLISHED", None,
    )  # fmt: skip
    assert {"feed", "node", "article", "search"} <= paths


PAGES = {
    "feed": "query($after: String) { feed(first: 1, after: $after) { %s } }",
    "search": (
        'query($after: String) { search(query: "harbour", order: NEWEST, first: 1, '
        "after: $after) { %s } }"
    ),
}


@pytest.mark.parametrize("field", list(PAGES))
async def test_a_later_page_of_a_list_leaves_out_an_expired_item(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], field: str
) -> None:
    """Expiry is judged at now on every page, not at the cursor's time."""
    editor = tokens_by_role["editor"]
    now = clock.utcnow()
    newest, expiring, oldest = [
        await api_article(client, editor, title=f"Harbour {n}") for n in range(3)
    ]
    for hours, story in ((1, newest), (2, expiring), (3, oldest)):
        until = now + timedelta(hours=1) if story is expiring else None
        await _publish(client, editor, story["id"], now - timedelta(hours=hours), until)
    query = PAGES[field] % "edges { cursor node { id } }"

    pages: list[list[str]] = []
    after = None
    with clock.frozen(now + timedelta(hours=2)):
        for _ in range(3):
            edges = (await gql_data(client, query, {"after": after}))[field]["edges"]
            pages.append([edge["node"]["id"] for edge in edges])
            if not edges:
                break
            after = edges[-1]["cursor"]

    assert pages == [[newest["id"]], [oldest["id"]], []]


# --- the CONTENT_EXPIRED event ---------------------------------------------------------


class RecordingBroker(InMemoryBroker):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[FeedMessage] = []

    async def publish(self, message: FeedMessage) -> None:
        self.published.append(message)
        await super().publish(message)


async def test_the_dispatcher_announces_the_expiry_at_its_time_once(
    client: httpx.AsyncClient, settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    until = clock.utcnow() + timedelta(hours=1)
    await _publish(client, editor, story["id"], until=until)
    broker = RecordingBroker()
    dispatcher = Dispatcher(settings, broker)
    await dispatcher.run_once()
    broker.published.clear()

    with clock.frozen(until - timedelta(seconds=1)):
        await dispatcher.run_once()
        early = list(broker.published)
    with clock.frozen(until):
        await dispatcher.run_once()
        await dispatcher.run_once()  # announced once, not every round

    assert early == []
    assert [(m.type, m.content_id, m.public) for m in broker.published] == [
        ("CONTENT_EXPIRED", pk_of(story["id"]), True)  # anonymous readers are told it left
    ]
    [event] = await OutboxEvent.filter(type="CONTENT_EXPIRED")
    assert event.occurred_at >= until


@pytest.mark.parametrize("withdraw", ["unpublish", "archive", "kill"])
async def test_an_item_withdrawn_before_its_expiry_is_not_announced_expired(
    client: httpx.AsyncClient, settings: Settings, tokens_by_role: dict[str, str], withdraw: str
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    until = clock.utcnow() + timedelta(hours=1)
    await _publish(client, editor, story["id"], until=until)
    document = {
        "unpublish": "mutation($id: ID!) { unpublish(id: $id) { __typename } }",
        "archive": "mutation($id: ID!) { archive(id: $id) { __typename } }",
        "kill": 'mutation($id: ID!) { kill(id: $id, reason: "Legal") { __typename } }',
    }[withdraw]
    await gql_data(client, document, {"id": story["id"]}, editor)

    with clock.frozen(until + timedelta(minutes=1)):
        await Dispatcher(settings, InMemoryBroker()).run_once()

    assert not await OutboxEvent.filter(type="CONTENT_EXPIRED").exists()


async def _send_webhooks(settings: Settings) -> None:
    """What the dispatcher does: announce, hand the outbox to webhooks, send what is due."""
    await Dispatcher(settings, InMemoryBroker()).run_once()
    async with addresses.http_client(settings) as http:
        for _ in range(50):
            if not await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
                return
            await deliveries.deliver_due(client=http, settings=settings)
            await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not settle")


async def test_an_expiry_reaches_webhooks(
    client: httpx.AsyncClient,
    settings: Settings,
    tokens_by_role: dict[str, str],
    receiver: Receiver,  # noqa: F811
) -> None:
    editor, admin = tokens_by_role["editor"], tokens_by_role["admin"]
    receiver.fail_first = False
    create = """
    mutation($url: String!) {
      createWebhook(url: $url, events: [CONTENT_EXPIRED]) { ... on Webhook { secret } }
    }"""
    receiver.secret = (await gql_data(client, create, {"url": receiver.url}, admin))[
        "createWebhook"
    ]["secret"]
    story = await _story(client, editor, "article")
    # Soon: deliveries are signed at the (frozen) time, which receivers accept only within
    # five minutes of their own.
    until = clock.utcnow() + timedelta(minutes=1)
    await _publish(client, editor, story["id"], until=until)

    await _send_webhooks(settings)
    assert receiver.attempts == []  # not yet
    with clock.frozen(until + timedelta(seconds=1)):
        await _send_webhooks(settings)

    [attempt] = receiver.attempts
    assert (attempt.event, attempt.verified) == ("CONTENT_EXPIRED", True)
    content = attempt.body["data"]["content"]
    assert (content["id"], content["status"]) == (story["id"], "EXPIRED")
    assert _time(content["expiresAt"]) == until
    assert {"feed", f"item:{pk_of(story['id'])}"} <= set(attempt.body["data"]["cacheTags"])


async def test_anonymous_subscribers_are_told_an_item_expired(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    async with serve(settings.model_copy(update={"run_dispatcher": True})) as server:
        create = 'mutation { createArticle(input: {title: "Brief"}) { ... on Article { id } } }'
        id = (await post(server, create, editor))["data"]["createArticle"]["id"]
        until = clock.utcnow() + timedelta(hours=1)
        await post(server, PUBLISH, editor, id=id, until=until.isoformat())
        async with (
            subscribe(server) as anonymous,
            subscribe(server, tokens_by_role["viewer"]) as viewer,
        ):
            with clock.frozen(until + timedelta(seconds=1)):
                told = await next_event(anonymous)
                heard = await next_event(viewer)

    assert (told["type"], told["contentId"], told["content"]) == ("CONTENT_EXPIRED", id, None)
    assert (heard["type"], heard["content"]["status"]) == ("CONTENT_EXPIRED", "EXPIRED")


# --- cached responses and feeds --------------------------------------------------------


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


async def _cached(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> tuple[set[str], bool]:
    """The ids an anonymous GET shows, and whether the response cache answered it."""
    cache: ResponseCache = client.app.state.response_cache  # type: ignore[attr-defined]
    hits = cache.hits
    response = await client.get(
        "/graphql", params={"query": query, "variables": json.dumps(variables)}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return _ids(body["data"]), cache.hits > hits


async def test_a_cached_response_drops_an_expired_item_at_that_moment(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await _story(cache_client, editor, "article")
    lasting = await api_article(
        cache_client,
        editor,
        title="Harbour history",
        sectionSlug="war",
        authorSlugs=["news-desk"],
        tagSlugs=["kyiv"],
    )
    until = clock.utcnow() + timedelta(minutes=30)
    await _publish(cache_client, editor, lasting["id"])
    await _publish(cache_client, editor, story["id"], until=until)
    for item in (lasting, story):
        await gql_data(
            cache_client,
            "mutation($id: ID!) { pin(id: $id) { __typename } }",
            {"id": item["id"]},
            editor,
        )
    reads = {name: query for name, query in READS.items() if name != "videoEpisode"}
    for query in reads.values():
        await _cached(cache_client, query, _variables(query, story))

    with clock.frozen(until - timedelta(seconds=1)):
        before = {
            name: await _cached(cache_client, query, _variables(query, story))
            for name, query in reads.items()
        }
    with clock.frozen(until):
        after = {
            name: (await _cached(cache_client, query, _variables(query, story)))[0]
            for name, query in reads.items()
        }

    for name in reads:
        shown, hit = before[name]
        assert story["id"] in shown and hit, (name, before[name])
        assert story["id"] not in after[name], f"{name} still shows the expired item"
        if name not in ("article", "node"):
            assert lasting["id"] in after[name], name


@pytest.mark.parametrize("path", ["/feed.xml", "/feed.json"])
async def test_a_feed_reader_holding_a_copy_gets_the_feed_without_the_expired_item(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], path: str
) -> None:
    """A conditional GET after the expiry (by ETag, or by date alone as many readers send
    it) is answered with the feed, not with 304 (the reader's copy still lists the item)."""
    editor = tokens_by_role["editor"]
    story = await _story(client, editor, "article")
    now = clock.utcnow()
    until = now + timedelta(hours=1)
    await _publish(client, editor, story["id"], at=now - timedelta(hours=1), until=until)
    with clock.frozen(now + timedelta(minutes=1)):
        first = await client.get(path)
    assert story["id"] in first.text

    with clock.frozen(until + timedelta(minutes=1)):
        by_etag = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        by_date = await client.get(
            path, headers={"If-Modified-Since": first.headers["last-modified"]}
        )

    assert by_etag.status_code == 200
    assert story["id"] not in by_etag.text
    assert by_date.status_code == 200, "304: the reader keeps a copy listing the expired item"
    assert story["id"] not in by_date.text
