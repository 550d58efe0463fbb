"""The response cache: anonymous GETs are answered from the cache until what they show
changes (tests/api/test_cache_tags.py: which change drops which response); ETag and
Cache-Control on GET; token holders bypass it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.cache.changes import Changes
from cms.cache.stores import MemoryStore
from cms.cache.versions import TagVersions
from cms.config import Settings
from cms.http.cache import ResponseCache
from tests import factories
from tests.api.conftest import global_id

FEED = "{ feed(first: 5) { edges { node { title } } } }"
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename } }"


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A worker that reads the outbox only at start-up, after its own writes and when a
    test says so: a look between two requests would make a hit depend on the clock."""
    return settings.model_copy(update={"cache_generation_seconds": 3600})


@pytest.fixture
def statements() -> Iterator[_Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = _Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def _titles(response: httpx.Response) -> list[str]:
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["feed"]["edges"]]


async def test_a_repeated_get_is_served_from_the_cache(
    client: httpx.AsyncClient, app: Any, statements: _Statements
) -> None:
    await factories.make_article(title="Cached", published_at=clock.utcnow())
    await app.state.response_cache.changes.catch_up(force=True)
    first = await client.get("/graphql", params={"query": FEED})
    statements.count = 0

    again = await client.get("/graphql", params={"query": "{feed(first:5){edges{node{title}}}}"})

    assert _titles(first) == _titles(again) == ["Cached"]
    assert statements.count == 0, "a cache hit must not touch the database"
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"


async def test_if_none_match_gives_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/graphql", params={"query": FEED})

    conditional = await client.get(
        "/graphql", params={"query": FEED}, headers={"If-None-Match": first.headers["etag"]}
    )

    assert conditional.status_code == 304
    assert conditional.content == b""


@pytest.mark.parametrize(
    "validators",
    ['"other", {etag}', "W/{etag}", "*", '"other",W/{etag} , "more"'],
)
async def test_if_none_match_follows_rfc_9110_as_the_feeds_do(
    client: httpx.AsyncClient, validators: str
) -> None:
    """A list of tags, weak tags and `*` are matched on /graphql exactly as on /feed.xml
    (one rule, cms.http.conditional)."""
    await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))
    graphql = await client.get("/graphql", params={"query": FEED})
    rss = await client.get("/feed.xml")

    again = await client.get(
        "/graphql",
        params={"query": FEED},
        headers={"If-None-Match": validators.format(etag=graphql.headers["etag"])},
    )
    rss_again = await client.get(
        "/feed.xml", headers={"If-None-Match": validators.format(etag=rss.headers["etag"])}
    )

    assert (again.status_code, rss_again.status_code) == (304, 304)
    assert again.content == b""


async def test_a_tag_that_does_not_match_gives_the_body(client: httpx.AsyncClient) -> None:
    await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))
    await client.get("/graphql", params={"query": FEED})

    again = await client.get(
        "/graphql", params={"query": FEED}, headers={"If-None-Match": '"nope", W/"nor-this"'}
    )

    assert again.status_code == 200
    assert _titles(again)


async def test_a_publish_is_visible_at_once(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    await factories.make_article(title="Older", published_at=clock.utcnow() - timedelta(hours=1))
    draft = await factories.make_article(title="Breaking")
    before = await client.get("/graphql", params={"query": FEED})

    published = await client.post(
        "/graphql",
        json={"query": PUBLISH, "variables": {"id": global_id("Article", draft.id)}},
        headers={"Authorization": f"Bearer {tokens_by_role['editor']}"},
    )
    after = await client.get("/graphql", params={"query": FEED})

    assert published.json()["data"]["publish"]["__typename"] == "Article"
    assert _titles(before) == ["Older"]
    assert _titles(after) == ["Breaking", "Older"]
    assert after.headers["etag"] != before.headers["etag"]


async def test_a_scheduled_item_shows_at_once_when_its_time_comes(
    client: httpx.AsyncClient, app: Any
) -> None:
    # A write through the services (another worker, the CLI) is seen when the worker reads
    # the outbox, at most every CMS_CACHE_GENERATION_SECONDS (1 s; here when told), and a
    # scheduled item's time coming is seen at once.
    now = clock.utcnow()
    await factories.make_article(title="Later", published_at=now + timedelta(minutes=5))
    await app.state.response_cache.changes.catch_up(force=True)
    before = await client.get("/graphql", params={"query": FEED})

    with clock.frozen(now + timedelta(minutes=6)):
        after = await client.get("/graphql", params={"query": FEED})

    assert _titles(before) == []
    assert _titles(after) == ["Later"]


async def test_token_holders_bypass_the_cache(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], statements: _Statements
) -> None:
    headers = {"Authorization": f"Bearer {tokens_by_role['viewer']}"}
    await client.get("/graphql", params={"query": FEED}, headers=headers)
    statements.count = 0

    again = await client.get("/graphql", params={"query": FEED}, headers=headers)

    assert again.status_code == 200
    assert statements.count > 0
    assert "etag" not in again.headers


async def test_errors_are_not_cached(client: httpx.AsyncClient) -> None:
    bad = '{ feed(first: 2, after: "garbage") { edges { cursor } } }'

    first = await client.get("/graphql", params={"query": bad})
    second = await client.get("/graphql", params={"query": bad})

    assert first.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "etag" not in second.headers


async def test_variables_and_operation_name_are_part_of_the_key(
    client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await factories.make_article(title="One", published_at=now - timedelta(minutes=1))
    await factories.make_article(title="Two", published_at=now - timedelta(minutes=2))
    query = "query Feed($n: Int) { feed(first: $n) { edges { node { title } } } }"

    one = await client.get("/graphql", params={"query": query, "variables": '{"n": 1}'})
    two = await client.get("/graphql", params={"query": query, "variables": '{"n": 2}'})

    assert _titles(one) == ["One"]
    assert _titles(two) == ["One", "Two"]


def _cache_in_front_of(view: Any, settings: Settings) -> ResponseCache:
    """A response cache, with a memory store of its own, in front of `view`."""
    store = MemoryStore(max_bytes=10_000)
    versions = TagVersions(store)
    changes = Changes(versions, refresh_seconds=3600)
    return ResponseCache(view, settings=settings, store=store, versions=versions, changes=changes)


async def test_the_view_gets_a_post_body_the_cache_read_then_the_client_going_away(
    settings: Settings, db: None
) -> None:
    """The cache reads a POST's body to find its key; the view behind it still reads that
    body, once, and then what the client does next (here: it goes away)."""
    heard: list[dict[str, Any]] = []

    async def view(scope: Any, receive: Any, send: Any) -> None:
        heard.extend([await receive(), await receive()])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"data": {}}'})

    cache = _cache_in_front_of(view, settings)
    body = b'{"query": "{ __typename }"}'  # a document without a hash: the view's
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    await cache(scope, receive, send)

    assert heard == [
        {"type": "http.request", "body": body, "more_body": False},
        {"type": "http.disconnect"},
    ]
    assert [message.get("status") for message in sent] == [200, None]
    assert (cache.hits, cache.misses) == (0, 0)


async def test_an_answer_made_while_something_changed_is_sent_but_not_kept(
    settings: Settings, db: None
) -> None:
    """A change invalidated while the answer was being made may be missing from it: the
    answer goes out, and the next request is answered afresh."""
    answers = 0

    async def view(scope: Any, receive: Any, send: Any) -> None:
        nonlocal answers
        answers += 1
        await cache.versions.bump(["feed"])  # an edit lands meanwhile
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"data": {"__typename": "Query"}}'})

    cache = _cache_in_front_of(view, settings)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/graphql",
        "query_string": b"query=%7B+__typename+%7D",
        "headers": [],
    }
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    for _ in range(2):
        await cache(dict(scope), receive, send)

    assert statuses == [200, 200]
    assert answers == 2
    assert (cache.hits, cache.misses) == (0, 2)
