"""Invalidation by dependency: each cached response records the items it shows and the
lists it is a page of, and a change drops only what depends on it. Run with the
in-process store and with Redis (CMS_TEST_REDIS_URL), through the real app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from redis.asyncio import Redis

from cms import clock
from cms.auth.viewer import Viewer
from cms.cache import tags
from cms.config import Settings
from cms.content import editing, inputs
from cms.http import cache_keys
from cms.http.app import create_app
from cms.http.cache import ResponseCache
from cms.http.persisted import sha256
from cms.models import Author
from tests import factories
from tests.api.conftest import global_id
from tests.asgi import post_scope, vanishing_client

ARTICLE = "query($slug: String!) { article(slug: $slug) { title authors { name } } }"
FEED = "query($n: Int) { feed(first: $n) { edges { node { title } } } }"
UPDATE = (
    "mutation($id: ID!, $input: ArticlePatch!) { updateArticle(id: $id, input: $input) "
    "{ __typename } }"
)
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename } }"
UPDATE_AUTHOR = (
    "mutation($id: ID!, $input: AuthorPatch!) { updateAuthor(id: $id, input: $input) "
    "{ __typename } }"
)
EDITOR = Viewer(name="elsewhere", role=factories.ADMIN_VIEWER.role)


@pytest.fixture(params=["memory", "redis"])
async def cache_client(
    request: pytest.FixtureRequest, settings: Settings, db: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the in-process store, or with Redis (its database emptied first)."""
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


def _cache(client: httpx.AsyncClient) -> ResponseCache:
    cache: ResponseCache = client.app.state.response_cache  # type: ignore[attr-defined]
    return cache


async def _get(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """The response's data, and whether the cache answered it."""
    hits = _cache(client).hits
    response = await client.get(
        "/graphql", params={"query": query, "variables": json.dumps(variables)}
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    data["_hit"] = _cache(client).hits > hits
    return data


async def _look(client: httpx.AsyncClient) -> None:
    """The worker's periodic look at the outbox (every CMS_CACHE_GENERATION_SECONDS), here
    at once: what the factories wrote behind the app's back is applied."""
    await _cache(client).changes.catch_up(force=True)


def _node(type_name: str, pk: int) -> str:
    return '{ node(id: "' + global_id(type_name, pk) + '") { id } }'


def _titles(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in data["feed"]["edges"]]


async def _post(client: httpx.AsyncClient, token: str, query: str, **variables: Any) -> None:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body


async def test_an_edit_drops_only_the_responses_showing_the_item(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    now = clock.utcnow()
    await factories.make_author(slug="ann")
    await factories.make_author(slug="bob")
    a = await factories.make_article(
        title="A old", slug="a", authors=["ann"], published_at=now - timedelta(hours=2)
    )
    await factories.make_article(
        title="B", slug="b", authors=["bob"], published_at=now - timedelta(hours=1)
    )
    await _look(cache_client)
    # Filled: the article A, the article B, a feed page showing only B, one showing both.
    for query, variables in [(ARTICLE, {"slug": "a"}), (ARTICLE, {"slug": "b"})]:
        assert not (await _get(cache_client, query, **variables))["_hit"]
    assert _titles(await _get(cache_client, FEED, n=1)) == ["B"]
    assert _titles(await _get(cache_client, FEED, n=5)) == ["B", "A old"]

    await _post(
        cache_client,
        tokens_by_role["editor"],
        UPDATE,
        id=global_id("Article", a.id),
        input={"title": "A new"},
    )

    b = await _get(cache_client, ARTICLE, slug="b")
    page_without_a = await _get(cache_client, FEED, n=1)
    a_again = await _get(cache_client, ARTICLE, slug="a")
    page_with_a = await _get(cache_client, FEED, n=5)
    assert (b["_hit"], page_without_a["_hit"]) == (True, True)
    assert (a_again["_hit"], page_with_a["_hit"]) == (False, False)
    assert a_again["article"]["title"] == "A new"
    assert _titles(page_with_a) == ["B", "A new"]


async def test_a_publish_drops_the_feed_page_but_not_an_unrelated_article(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    await factories.make_article(
        title="Old", slug="old", published_at=clock.utcnow() - timedelta(hours=1)
    )
    draft = await factories.make_article(title="Breaking", slug="breaking")
    await _look(cache_client)
    assert _titles(await _get(cache_client, FEED, n=5)) == ["Old"]
    assert (await _get(cache_client, ARTICLE, slug="old"))["article"]["title"] == "Old"
    assert (await _get(cache_client, ARTICLE, slug="breaking"))["article"] is None

    await _post(cache_client, tokens_by_role["editor"], PUBLISH, id=global_id("Article", draft.id))

    feed = await _get(cache_client, FEED, n=5)
    old = await _get(cache_client, ARTICLE, slug="old")
    breaking = await _get(cache_client, ARTICLE, slug="breaking")
    assert (feed["_hit"], _titles(feed)) == (False, ["Breaking", "Old"])
    assert old["_hit"]
    assert (breaking["_hit"], breaking["article"]["title"]) == (False, "Breaking")


async def test_a_change_made_elsewhere_is_read_from_the_outbox(
    settings: Settings, db: None
) -> None:
    """A write that does not come through this app (the command line, another worker):
    the worker reads the outbox (here at every request) and drops what depends on it."""
    looking = settings.model_copy(update={"cache_generation_seconds": 1e-6})
    now = clock.utcnow()
    a = await factories.make_article(title="A old", slug="a", published_at=now)
    await factories.make_article(title="B", slug="b", published_at=now)
    app = create_app(looking, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            await _get(client, ARTICLE, slug="a")
            await _get(client, ARTICLE, slug="b")

            await editing.update(
                id=a.id,
                kind=a.kind,
                data=inputs.ContentInput(title="A new"),
                viewer=EDITOR,
                expected_version=None,
            )

            b = await _get(client, ARTICLE, slug="b")
            a_again = await _get(client, ARTICLE, slug="a")
    assert b["_hit"]
    assert (a_again["_hit"], a_again["article"]["title"]) == (False, "A new")


async def test_an_author_edit_drops_the_responses_showing_the_byline(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    now = clock.utcnow()
    await factories.make_author(slug="ann")
    await factories.make_author(slug="bob")
    await factories.make_article(slug="a", authors=["ann"], published_at=now)
    await factories.make_article(slug="b", authors=["bob"], published_at=now)
    await _look(cache_client)
    await _get(cache_client, ARTICLE, slug="a")
    await _get(cache_client, ARTICLE, slug="b")
    ann = await Author.get(slug="ann")

    await _post(
        cache_client,
        tokens_by_role["editor"],
        UPDATE_AUTHOR,
        id=global_id("Author", ann.id),
        input={"name": "Ann Renamed"},
    )

    a = await _get(cache_client, ARTICLE, slug="a")
    b = await _get(cache_client, ARTICLE, slug="b")
    assert (a["_hit"], a["article"]["authors"]) == (False, [{"name": "Ann Renamed"}])
    assert b["_hit"]


async def test_a_scheduled_item_shows_when_its_time_comes(
    cache_client: httpx.AsyncClient,
) -> None:
    now = clock.utcnow()
    await factories.make_article(title="Now", published_at=now - timedelta(minutes=1))
    await factories.make_article(title="Later", published_at=now + timedelta(minutes=5))
    await _look(cache_client)
    assert _titles(await _get(cache_client, FEED, n=5)) == ["Now"]
    assert (await _get(cache_client, FEED, n=5))["_hit"]

    with clock.frozen(now + timedelta(minutes=6)):
        after = await _get(cache_client, FEED, n=5)

    assert (after["_hit"], _titles(after)) == (False, ["Later", "Now"])


async def test_cacheable_responses_carry_their_tags_for_cdns(
    cache_client: httpx.AsyncClient,
) -> None:
    await factories.make_section(slug="world")
    story = await factories.make_article(slug="a", section="world", published_at=clock.utcnow())
    feed = await cache_client.get("/graphql", params={"query": "{ feed { edges { cursor } } }"})
    section = await cache_client.get(
        "/graphql",
        params={"query": '{ feed(section: "world", tag: "a b,c") { edges { cursor } } }'},
    )
    hit = await cache_client.get("/graphql", params={"query": "{ feed { edges { cursor } } }"})

    for response in (feed, hit):
        keys = response.headers["surrogate-key"].split(" ")
        assert keys == sorted([tags.FEED, tags.item(story.id)])
        assert response.headers["cache-tag"].split(",") == keys
    assert section.headers["surrogate-key"].split(" ") == ["section:world", "tag:a%20b%2Cc"]


async def test_apq_posts_are_cached_like_gets(cache_client: httpx.AsyncClient) -> None:
    await factories.make_article(title="Persisted", published_at=clock.utcnow())
    query = "{ feed(first: 3) { edges { node { title } } } }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    cache = _cache(cache_client)

    registered = await cache_client.post(
        "/graphql", json={"query": query, "extensions": extensions}
    )
    hits = cache.hits
    by_hash = await cache_client.post("/graphql", json={"extensions": extensions})
    assert cache.hits == hits + 1
    by_get = await cache_client.get("/graphql", params={"extensions": json.dumps(extensions)})
    assert cache.hits == hits + 2
    conditional = await cache_client.post(
        "/graphql",
        json={"extensions": extensions},
        headers={"If-None-Match": registered.headers["etag"]},
    )

    assert registered.json()["data"]["feed"]["edges"][0]["node"]["title"] == "Persisted"
    assert by_hash.content == by_get.content == registered.content
    assert by_hash.headers["etag"] == registered.headers["etag"]
    assert by_hash.headers["cache-control"].startswith("public")
    assert conditional.status_code == 304


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ feed { edges { cursor } } }"},  # a document without a hash
        {"query": "{ sections { slug } }", "extensions": {"persistedQuery": {
            "version": 1, "sha256Hash": "0" * 64}}},  # the hash is not the document's
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 12}}},
        {"extensions": {"persistedQuery": "no"}, "operationName": 3},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
         "operationName": 3},  # an operation name that is not a string
        [1, 2],
    ],
)  # fmt: skip
async def test_other_posts_are_never_cached(cache_client: httpx.AsyncClient, body: object) -> None:
    for _ in range(2):
        response = await cache_client.post("/graphql", json=body)
        assert "etag" not in response.headers
    assert _cache(cache_client).hits == 0


async def test_a_persisted_mutation_is_not_cached(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    mutation = 'mutation { createSection(input: {name: "Z"}) { __typename } }'
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(mutation)}}
    for _ in range(2):
        response = await cache_client.post(
            "/graphql", json={"query": mutation, "extensions": extensions}
        )
        assert "etag" not in response.headers


async def test_a_large_or_non_json_post_goes_to_the_view(cache_client: httpx.AsyncClient) -> None:
    big = await cache_client.post(
        "/graphql",
        json={"query": "{ sections { slug } }", "extensions": {"pad": "x" * 70_000}},
    )
    text = await cache_client.post(
        "/graphql", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    broken = await cache_client.post(
        "/graphql", content=b"{nope", headers={"Content-Type": "application/json"}
    )

    assert "etag" not in big.headers
    assert text.status_code == 415
    assert broken.status_code == 400


async def test_sections_and_nodes_depend_on_what_can_change_them(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    sections = "{ sections { slug } }"
    missing_tag = _node("Tag", 999)
    missing_media = _node("Media", 999)
    section_node = _node("Section", 1)
    author_node = _node("Author", 1)
    item_node = _node("Article", 1)
    for query in (sections, missing_tag, missing_media, section_node, author_node, item_node):
        await _get(cache_client, query)
    assert (await _get(cache_client, missing_tag))["_hit"] is False  # never cached
    assert (await _get(cache_client, missing_media))["_hit"] is False
    assert (await _get(cache_client, author_node))["_hit"] is True

    await _post(
        cache_client, tokens_by_role["editor"], 'mutation { createSection(input: {name: "Q"}) '
        "{ __typename } }"
    )  # fmt: skip

    again = await _get(cache_client, sections)
    assert (again["_hit"], again["sections"]) == (False, [{"slug": "q"}])
    assert (await _get(cache_client, section_node))["_hit"] is False
    assert (await _get(cache_client, item_node))["_hit"] is True


async def test_workers_sharing_redis_see_each_others_writes_at_once(
    settings: Settings, db: None, redis_url: str, tokens_by_role: dict[str, str]
) -> None:
    """Two workers, one Redis: the tags the writing worker bumps are the reading worker's
    too, so its cached answer showing the item misses on the very next read."""
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    shared = settings.model_copy(update={"redis_url": redis_url})
    now = clock.utcnow()
    a = await factories.make_article(title="A old", slug="a", published_at=now)
    await factories.make_article(title="B", slug="b", published_at=now)
    reader_app, writer_app = (
        create_app(shared, manage_database=False),
        create_app(shared, manage_database=False),
    )
    async with (
        reader_app.router.lifespan_context(reader_app),
        writer_app.router.lifespan_context(writer_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=reader_app), base_url="http://testserver"
        ) as reader,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=writer_app), base_url="http://testserver"
        ) as writer,
    ):
        reader.app = reader_app  # type: ignore[attr-defined]
        await _get(reader, ARTICLE, slug="a")
        await _get(reader, ARTICLE, slug="b")

        await _post(
            writer, tokens_by_role["editor"], UPDATE, id=global_id("Article", a.id),
            input={"title": "A new"},
        )  # fmt: skip

        b = await _get(reader, ARTICLE, slug="b")
        a_again = await _get(reader, ARTICLE, slug="a")
        metrics = (await reader.get("/metrics")).text
    assert b["_hit"]
    assert (a_again["_hit"], a_again["article"]["title"]) == (False, "A new")
    assert 'newsdesk_response_cache_total{result="hit"} 1.0' in metrics
    assert 'newsdesk_response_cache_total{result="miss"} 3.0' in metrics


async def test_a_damaged_entry_is_a_miss_and_the_view_answers(
    cache_client: httpx.AsyncClient,
) -> None:
    """An entry the store gives back that is not one of ours (another version's format, a
    value cut short) is never served: the view answers, and its answer is cached again."""
    await factories.make_article(title="Fresh", published_at=clock.utcnow())
    query = "{ feed(first: 3) { edges { node { title } } } }"
    cache = _cache(cache_client)
    await cache_client.get("/graphql", params={"query": query})
    key = cache_keys.for_get(urlencode({"query": query}).encode(), cache.max_tokens)
    assert key is not None
    await cache.store.set(f"response:{key}", b"not an entry\n{}")
    hits, misses = cache.hits, cache.misses

    answered = await cache_client.get("/graphql", params={"query": query})
    again = await cache_client.get("/graphql", params={"query": query})

    assert answered.json()["data"]["feed"]["edges"][0]["node"]["title"] == "Fresh"
    assert (cache.hits, cache.misses) == (hits + 1, misses + 1)
    assert again.content == answered.content


async def test_a_response_that_shows_no_content_is_cached_without_surrogate_keys(
    cache_client: httpx.AsyncClient,
) -> None:
    cache = _cache(cache_client)
    first = await cache_client.get("/graphql", params={"query": "{ __typename }"})
    hits = cache.hits

    again = await cache_client.get("/graphql", params={"query": "{ __typename }"})

    assert again.json()["data"] == first.json()["data"] == {"__typename": "Query"}
    assert cache.hits == hits + 1
    assert again.headers["etag"] == first.headers["etag"]
    assert "surrogate-key" not in again.headers
    assert "cache-tag" not in again.headers


async def test_a_post_whose_client_goes_away_mid_body_is_neither_cached_nor_counted(
    cache_client: httpx.AsyncClient,
) -> None:
    query = "{ feed(first: 3) { edges { node { title } } } }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    body = json.dumps({"query": query, "extensions": extensions}).encode()
    cache = _cache(cache_client)
    receive, send, sent = vanishing_client([body[:20]])
    scope = post_scope()
    hits, misses = cache.hits, cache.misses
    await cache_client.app(scope, receive, send)  # type: ignore[attr-defined]

    assert (cache.hits, cache.misses) == (hits, misses)
    assert [message["status"] for message in sent if "status" in message] == [400]


async def test_a_get_without_a_document_or_hash_is_the_views_to_refuse(
    cache_client: httpx.AsyncClient,
) -> None:
    cache = _cache(cache_client)

    json_only = {"accept": "application/json"}  # not a browser: no GraphiQL page
    answers = [
        await cache_client.get("/graphql", params={"variables": "{}"}, headers=json_only)
        for _ in range(2)
    ]

    assert [answer.status_code for answer in answers] == [400, 400]
    assert "etag" not in answers[1].headers
    assert (cache.hits, cache.misses) == (0, 0)


async def test_tag_and_section_pages_depend_on_their_lists(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    city = await factories.make_section(slug="city", name="City")
    await factories.make_article(
        title="Old", tags=["budget"], section=city, published_at=clock.utcnow() - timedelta(hours=1)
    )
    budget_draft = await factories.make_article(title="Fresh", tags=["budget"])
    weather_draft = await factories.make_article(title="Rain", tags=["weather"])
    await _look(cache_client)
    tag_page = '{ tag(slug: "budget") { content { edges { node { title } } } } }'
    section_page = '{ section(slug: "city") { content { edges { node { title } } } } }'
    await _get(cache_client, tag_page)
    await _get(cache_client, section_page)
    response = await cache_client.get("/graphql", params={"query": tag_page})
    assert "tag:budget" in response.headers["surrogate-key"].split(" ")

    publish = "mutation($id: ID!) { publish(id: $id) { __typename } }"
    editor = tokens_by_role["editor"]
    await _post(cache_client, editor, publish, id=global_id("Article", weather_draft.id))
    untouched = await _get(cache_client, tag_page)
    await _post(cache_client, editor, publish, id=global_id("Article", budget_draft.id))
    entered = await _get(cache_client, tag_page)

    assert untouched["_hit"] is True
    assert (await _get(cache_client, section_page))["_hit"] is True
    assert entered["_hit"] is False
    assert [edge["node"]["title"] for edge in entered["tag"]["content"]["edges"]] == [
        "Fresh",
        "Old",
    ]


async def test_renaming_a_tag_drops_the_responses_showing_its_items(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    now = clock.utcnow()
    await factories.make_article(
        title="Tagged", slug="tagged", tags=["metro"], published_at=now - timedelta(hours=1)
    )
    await factories.make_article(title="Other", slug="other", published_at=now - timedelta(hours=2))
    await _look(cache_client)
    shown = "query($slug: String!) { article(slug: $slug) { tags { name } } }"
    await _get(cache_client, shown, slug="tagged")
    await _get(cache_client, shown, slug="other")
    tag = (await _get(cache_client, '{ tag(slug: "metro") { id } }'))["tag"]["id"]

    await _post(
        cache_client,
        tokens_by_role["editor"],
        'mutation($id: ID!) { updateTag(id: $id, input: {name: "Underground"}) { __typename } }',
        id=tag,
    )

    tagged = await _get(cache_client, shown, slug="tagged")
    other = await _get(cache_client, shown, slug="other")
    assert (tagged["_hit"], tagged["article"]["tags"]) == (False, [{"name": "Underground"}])
    assert other["_hit"] is True


async def test_tag_lookups_follow_creation_renames_and_new_slugs(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    by_slug = "query($slug: String!) { tag(slug: $slug) { name slug } }"
    missing = await _get(cache_client, by_slug, slug="energy")
    assert (await _get(cache_client, by_slug, slug="energy"))["_hit"] is False  # never cached

    create = 'mutation { createTag(input: {name: "Energy"}) { ... on Tag { id } } }'
    response = await cache_client.post(
        "/graphql", json={"query": create}, headers={"Authorization": f"Bearer {editor}"}
    )
    id = response.json()["data"]["createTag"]["id"]
    created = await _get(cache_client, by_slug, slug="energy")
    node = '{ node(id: "' + id + '") { ... on Tag { name slug } } }'
    await _get(cache_client, node)
    assert (await _get(cache_client, node))["_hit"] is True

    await _post(
        cache_client,
        editor,
        'mutation($id: ID!) { updateTag(id: $id, input: {name: "Power", slug: "power"}) '
        "{ __typename } }",
        id=id,
    )

    old = await _get(cache_client, by_slug, slug="energy")
    new = await _get(cache_client, by_slug, slug="power")
    renamed = await _get(cache_client, node)
    assert missing["tag"] is None
    assert created["tag"] == {"name": "Energy", "slug": "energy"}
    assert (old["_hit"], old["tag"]) == (False, None)
    assert new["tag"] == {"name": "Power", "slug": "power"}
    assert (renamed["_hit"], renamed["node"]) == (False, {"name": "Power", "slug": "power"})
