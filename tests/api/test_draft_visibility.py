"""Drafts, items in review, scheduled, archived, killed and expired items never reach
anonymous readers, on any public read path (feed, search, node, article, videoEpisode,
author content, section and tag pages, pinned, RSS, JSON Feed, ninjs, subscriptions, cached
GETs); token holders preview them through article, videoEpisode, node, ninjs and contents,
but the feed stays public-only for everyone."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import feedparser
import httpx
import pytest
from redis.asyncio import Redis

from cms import clock
from cms.config import Settings
from cms.content import pins, publishing, review
from cms.http.app import create_app
from cms.http.cache import ResponseCache
from cms.models import Content, ContentKind
from tests.api.conftest import (
    SEED_VIEWER,
    api_article,
    api_video_episode,
    global_id,
    gql_data,
    seed_author,
    seed_content,
    seed_section,
)
from tests.realtime import next_event, nothing_within, post, serve, subscribe

STATES = ("public", "draft", "in_review", "scheduled", "archived", "killed", "expired")
HIDDEN = ("draft", "in_review", "scheduled", "archived", "killed", "expired")
KINDS = {"article": ContentKind.ARTICLE, "videoEpisode": ContentKind.VIDEO_EPISODE}
TYPENAMES = {"article": "Article", "videoEpisode": "VideoEpisode"}
STATUS = {
    "public": "PUBLISHED",
    "draft": "DRAFT",
    "in_review": "IN_REVIEW",
    "scheduled": "SCHEDULED",
    "archived": "ARCHIVED",
    "killed": "KILLED",
    "expired": "EXPIRED",
}
WORD = "harbour"  # in every title: a search for it finds every item readers may see

FEED = """
query Feed($section: String, $tag: String, $author: String, $kinds: [ContentKind!],
           $locale: String) {
  feed(first: 50, section: $section, tag: $tag, author: $author, kinds: $kinds, locale: $locale) {
    edges { node { id } }
  }
}
"""
ARTICLE = "query A($slug: String!) { article(slug: $slug) { id status } }"
VIDEO_EPISODE = "query V($slug: String!) { videoEpisode(slug: $slug) { id status } }"
NODE = "query N($id: ID!) { node(id: $id) { id ... on Content { status } } }"
AUTHOR_CONTENT = """
query { author(slug: "news-desk") { slug content(first: 50) { edges { node { id } } } } }
"""
CONTENTS = """
query C($status: [ContentStatus!]) {
  contents(status: $status, first: 50) { edges { node { id status } } }
}
"""
SEARCH = """
query S($query: String!, $kinds: [ContentKind!], $section: String) {
  search(query: $query, first: 50, kinds: $kinds, section: $section) { edges { node { id } } }
}
"""
PINNED = "query P($section: String) { pinned(section: $section) { id } }"
SECTION_PAGE = '{ section(slug: "war") { content(first: 50) { edges { node { id } } } } }'
TAG_PAGE = '{ tag(slug: "kyiv") { content(first: 50) { edges { node { id } } } } }'

Newsroom = dict[tuple[str, str], Content]


async def _make(kind: ContentKind, field: str, state: str, now: datetime) -> Content:
    """One item of `kind` in `state`, in section "war", by "news-desk", tagged "kyiv"; the
    public, scheduled and expired ones pinned (a withdrawal takes the pin off the others)."""

    async def seed(published_at: datetime | None) -> Content:
        return await seed_content(
            kind=kind,
            title=f"{WORD.capitalize()} {state} {field}",
            published_at=published_at,
            section="war",
            authors=("news-desk",),
            tags=("kyiv",),
        )

    if state == "expired":
        # Published two hours ago until an hour ago: made at a time when that was ahead.
        with clock.frozen(now - timedelta(hours=3)):
            item = await seed(None)
            await publishing.publish(
                id=item.id,
                viewer=SEED_VIEWER,
                at=now - timedelta(hours=2),
                until=now - timedelta(hours=1),
            )
            await pins.pin(id=item.id, viewer=SEED_VIEWER)
        return await Content.get(id=item.id)
    published_at = {
        "public": now - timedelta(hours=1),
        "draft": None,
        "in_review": None,
        "scheduled": now + timedelta(days=1),
        "archived": now - timedelta(hours=2),
        "killed": now - timedelta(hours=3),
    }[state]
    item = await seed(published_at)
    if published_at is not None:
        await pins.pin(id=item.id, viewer=SEED_VIEWER)
    if state == "in_review":
        await review.submit(id=item.id, viewer=SEED_VIEWER, note_text="Ready")
    elif state == "archived":
        await publishing.archive(id=item.id, viewer=SEED_VIEWER)
    elif state == "killed":
        await publishing.kill(id=item.id, viewer=SEED_VIEWER, reason="Legal")
    return await Content.get(id=item.id)


@pytest.fixture
async def newsroom(db: None) -> Newsroom:
    """One article and one video episode in each state, all in section "war", by
    "news-desk", tagged "kyiv", with the word "harbour" in their titles."""
    await seed_section()
    await seed_author()
    now = clock.utcnow()
    items: Newsroom = {}
    for field, kind in KINDS.items():
        for state in STATES:
            items[field, state] = await _make(kind, field, state, now)
    return items


def _id(newsroom: Newsroom, field: str, state: str) -> str:
    return global_id(TYPENAMES[field], newsroom[field, state].id)


def _public_ids(newsroom: Newsroom, *fields: str) -> set[str]:
    return {_id(newsroom, field, "public") for field in fields or KINDS}


def _ids(data: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in data["edges"]}


async def test_the_newsroom_holds_every_state(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str]
) -> None:
    """The matrix below is only worth something if each item really is in its state (and
    the scheduled and expired ones still pinned: a withdrawal takes the others' pins off)."""
    read = "query N($id: ID!) { node(id: $id) { ... on Content { status pinnedAt } } }"
    for (field, state), item in newsroom.items():
        data = await gql_data(
            client, read, {"id": _id(newsroom, field, state)}, tokens_by_role["viewer"]
        )
        assert data["node"]["status"] == STATUS[state], (field, state)
        pinned = data["node"]["pinnedAt"] is not None
        assert pinned == (state in ("public", "scheduled", "expired")), (field, state)
        assert (item.pinned_at is not None) == pinned, (field, state)


FEED_FILTERS = [
    pytest.param({}, ("article", "videoEpisode"), id="unfiltered"),
    pytest.param({"section": "war"}, ("article", "videoEpisode"), id="section"),
    pytest.param({"tag": "kyiv"}, ("article", "videoEpisode"), id="tag"),
    pytest.param({"author": "news-desk"}, ("article", "videoEpisode"), id="author"),
    pytest.param({"locale": "en"}, ("article", "videoEpisode"), id="locale"),
    pytest.param({"kinds": ["ARTICLE"]}, ("article",), id="articles"),
    pytest.param({"kinds": ["VIDEO_EPISODE"]}, ("videoEpisode",), id="video-episodes"),
]


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
@pytest.mark.parametrize(("filters", "fields"), FEED_FILTERS)
async def test_the_feed_holds_only_public_items_for_everyone(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    reader: str,
    filters: dict[str, Any],
    fields: tuple[str, ...],
) -> None:
    token = tokens_by_role.get(reader)

    data = await gql_data(client, FEED, filters, token)

    assert _ids(data["feed"]) == _public_ids(newsroom, *fields)


SEARCH_FILTERS = [
    pytest.param({}, ("article", "videoEpisode"), id="unfiltered"),
    pytest.param({"section": "war"}, ("article", "videoEpisode"), id="section"),
    pytest.param({"kinds": ["ARTICLE"]}, ("article",), id="articles"),
    pytest.param({"kinds": ["VIDEO_EPISODE"]}, ("videoEpisode",), id="video-episodes"),
]


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
@pytest.mark.parametrize(("filters", "fields"), SEARCH_FILTERS)
async def test_search_finds_only_public_items_for_everyone(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    reader: str,
    filters: dict[str, Any],
    fields: tuple[str, ...],
) -> None:
    data = await gql_data(client, SEARCH, {"query": WORD, **filters}, tokens_by_role.get(reader))

    assert _ids(data["search"]) == _public_ids(newsroom, *fields)


async def test_contents_search_finds_every_item_for_a_token_holder(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str]
) -> None:
    """The same words through contents(query:) find the hidden items too: the search index
    holds them, and only the public rule keeps them out of search."""
    query = "query C($q: String!) { contents(query: $q, first: 50) { edges { node { id } } } }"

    data = await gql_data(client, query, {"q": WORD}, tokens_by_role["viewer"])

    assert _ids(data["contents"]) == {
        _id(newsroom, field, state) for field in KINDS for state in STATES
    }


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_author_content_holds_only_public_items_for_everyone(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str], reader: str
) -> None:
    data = await gql_data(client, AUTHOR_CONTENT, token=tokens_by_role.get(reader))

    assert data["author"]["slug"] == "news-desk"
    assert _ids(data["author"]["content"]) == _public_ids(newsroom)


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
@pytest.mark.parametrize("page", [SECTION_PAGE, TAG_PAGE], ids=["section", "tag"])
async def test_section_and_tag_pages_hold_only_public_items_for_everyone(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    reader: str,
    page: str,
) -> None:
    data = await gql_data(client, page, token=tokens_by_role.get(reader))

    (holder,) = data.values()
    assert _ids(holder["content"]) == _public_ids(newsroom)


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
@pytest.mark.parametrize("section", [None, "war"])
async def test_pinned_holds_only_public_items_for_everyone(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    reader: str,
    section: str | None,
) -> None:
    """The scheduled and the expired items are pinned too: the rule alone keeps them out."""
    data = await gql_data(client, PINNED, {"section": section}, tokens_by_role.get(reader))

    assert {item["id"] for item in data["pinned"]} == _public_ids(newsroom)


@pytest.mark.parametrize("path", ["/feed.xml", "/feed.json", "/feed.xml?section=war",
                                  "/feed.json?author=news-desk"])  # fmt: skip
async def test_rss_and_json_feed_hold_only_public_items(
    client: httpx.AsyncClient, newsroom: Newsroom, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200, response.text
    if path.startswith("/feed.json"):
        listed = {item["id"] for item in response.json()["items"]}
    else:
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.get("bozo_exception")
        listed = {entry.id for entry in parsed.entries}
    assert listed == _public_ids(newsroom)
    for field, state in newsroom:
        if state != "public":
            assert newsroom[field, state].slug not in response.text, (field, state)


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", STATES)
async def test_by_slug_anonymous_readers_see_only_the_public_item(
    client: httpx.AsyncClient, newsroom: Newsroom, field: str, state: str
) -> None:
    document = ARTICLE if field == "article" else VIDEO_EPISODE

    data = await gql_data(client, document, {"slug": newsroom[field, state].slug})

    expected = {"id": _id(newsroom, field, state), "status": "PUBLISHED"}
    assert data[field] == (expected if state == "public" else None)


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", STATES)
async def test_through_node_anonymous_readers_see_only_the_public_item(
    client: httpx.AsyncClient, newsroom: Newsroom, field: str, state: str
) -> None:
    id = _id(newsroom, field, state)

    data = await gql_data(client, NODE, {"id": id})

    assert data["node"] == ({"id": id, "status": "PUBLISHED"} if state == "public" else None)


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", HIDDEN)
async def test_a_viewer_token_previews_hidden_items_by_slug(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    field: str,
    state: str,
) -> None:
    document = ARTICLE if field == "article" else VIDEO_EPISODE

    data = await gql_data(
        client, document, {"slug": newsroom[field, state].slug}, tokens_by_role["viewer"]
    )

    assert data[field] == {"id": _id(newsroom, field, state), "status": STATUS[state]}


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", HIDDEN)
async def test_a_viewer_token_previews_hidden_items_through_node(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    field: str,
    state: str,
) -> None:
    id = _id(newsroom, field, state)

    data = await gql_data(client, NODE, {"id": id}, tokens_by_role["viewer"])

    assert data["node"] == {"id": id, "status": STATUS[state]}


NODE_NINJS = {
    "article": "query N($id: ID!) { node(id: $id) { ... on Article { ninjs } } }",
    "videoEpisode": "query N($id: ID!) { node(id: $id) { ... on VideoEpisode { ninjs } } }",
}


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", STATES)
async def test_ninjs_anonymous_readers_get_only_the_public_item(
    client: httpx.AsyncClient, newsroom: Newsroom, field: str, state: str
) -> None:
    """GET /ninjs/{id}: the public item's document; a killed one's 410 notice, which
    names nothing of the story; a 404 for the rest. Content.ninjs through node: null."""
    id = _id(newsroom, field, state)
    item = newsroom[field, state]

    response = await client.get(f"/ninjs/{id}")
    data = await gql_data(client, NODE_NINJS[field], {"id": id})

    body = response.json()
    if state == "public":
        assert response.status_code == 200, response.text
        assert body["headlines"] == [{"role": "main", "value": item.title}]
        assert body["pubstatus"] == "usable"
        assert data["node"] == {"ninjs": body}
        return
    if state == "killed":
        assert response.status_code == 410, response.text
        assert body["pubstatus"] == "canceled"
        assert body["representationtype"] == "partial"
        assert "headlines" not in body and "bodies" not in body
        assert "Legal" not in response.text  # the kill's reason
    else:
        assert response.status_code == 404, response.text
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert WORD not in response.text.lower(), (field, state)
    assert item.slug not in response.text, (field, state)
    assert "news-desk" not in response.text and "kyiv" not in response.text
    assert data["node"] is None


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", HIDDEN)
async def test_a_viewer_token_reads_the_ninjs_of_hidden_items(
    client: httpx.AsyncClient,
    newsroom: Newsroom,
    tokens_by_role: dict[str, str],
    field: str,
    state: str,
) -> None:
    """A token holder reads the whole document of an item in any state (a killed one as a
    410), never stored by a shared cache."""
    id = _id(newsroom, field, state)
    viewer = tokens_by_role["viewer"]

    response = await client.get(f"/ninjs/{id}", headers={"Authorization": f"Bearer {viewer}"})
    data = await gql_data(client, NODE_NINJS[field], {"id": id}, viewer)

    assert response.status_code == (410 if state == "killed" else 200), response.text
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    assert body["headlines"] == [{"role": "main", "value": newsroom[field, state].title}]
    assert data["node"]["ninjs"]["pubstatus"] == body["pubstatus"]


async def test_contents_lists_every_item_for_a_viewer_token(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str]
) -> None:
    data = await gql_data(client, CONTENTS, token=tokens_by_role["viewer"])

    listed = {edge["node"]["id"]: edge["node"]["status"] for edge in data["contents"]["edges"]}
    assert listed == {
        _id(newsroom, field, state): STATUS[state] for field in KINDS for state in STATES
    }


@pytest.mark.parametrize("state", STATES)
async def test_contents_filters_by_the_status_readers_see(
    client: httpx.AsyncClient, newsroom: Newsroom, tokens_by_role: dict[str, str], state: str
) -> None:
    data = await gql_data(client, CONTENTS, {"status": [STATUS[state]]}, tokens_by_role["viewer"])

    assert _ids(data["contents"]) == {_id(newsroom, field, state) for field in KINDS}


async def test_a_scheduled_item_reaches_anonymous_readers_at_its_time(
    client: httpx.AsyncClient, newsroom: Newsroom
) -> None:
    scheduled = newsroom["article", "scheduled"]
    assert scheduled.published_at is not None

    with clock.frozen(scheduled.published_at + timedelta(seconds=1)):
        feed = await gql_data(client, FEED)
        by_slug = await gql_data(client, ARTICLE, {"slug": scheduled.slug})

    assert _id(newsroom, "article", "scheduled") in _ids(feed["feed"])
    assert by_slug["article"] == {
        "id": _id(newsroom, "article", "scheduled"),
        "status": "PUBLISHED",
    }


# --- subscriptions ---------------------------------------------------------------------

UPDATES = {
    "article": 'mutation($id: ID!) { updateArticle(id: $id, input: {dek: "x"}) { __typename } }',
    "videoEpisode": (
        'mutation($id: ID!) { updateVideoEpisode(id: $id, input: {dek: "x"}) { __typename } }'
    ),
}


async def test_anonymous_subscribers_hear_nothing_of_hidden_items(
    settings: Settings, newsroom: Newsroom, tokens_by_role: dict[str, str]
) -> None:
    """An edit of an item in any hidden state reaches token holders, never anonymous
    subscribers."""
    dispatching = settings.model_copy(update={"run_dispatcher": True})
    heard = []
    async with (
        serve(dispatching) as server,
        subscribe(server) as anonymous,
        subscribe(server, tokens_by_role["viewer"]) as viewer,
    ):
        for field in KINDS:
            for state in HIDDEN:
                await post(
                    server, UPDATES[field], tokens_by_role["editor"], id=_id(newsroom, field, state)
                )
        for _ in range(len(KINDS) * len(HIDDEN)):
            heard.append(await next_event(viewer))
        assert await nothing_within(anonymous)

    assert sorted((event["contentId"], event["type"], event["content"]["status"])
                  for event in heard) == sorted(
        (_id(newsroom, field, state), "CONTENT_UPDATED", STATUS[state])
        for field in KINDS
        for state in HIDDEN
    )  # fmt: skip


# --- cached GETs -----------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def cache_client(
    request: pytest.FixtureRequest, settings: Settings, db: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the in-process store, or with Redis (its database emptied first); it
    looks at the outbox only after its own writes and when a time comes (no periodic look
    between two requests, which would make a hit depend on the clock)."""
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


def _cache(client: httpx.AsyncClient) -> ResponseCache:
    cache: ResponseCache = client.app.state.response_cache  # type: ignore[attr-defined]
    return cache


Read = tuple[str, Callable[[dict[str, Any]], set[str]]]


def _edges(*path: str) -> Callable[[dict[str, Any]], set[str]]:
    """The ids on the connection at `path` (none when a holder on the way is null)."""

    def shown(data: dict[str, Any]) -> set[str]:
        for key in path:
            data = data[key] or {"edges": []}
        return _ids(data)

    return shown


def _one(field: str) -> Callable[[dict[str, Any]], set[str]]:
    return lambda data: {data[field]["id"]} if data[field] else set()


CACHED_READS: dict[str, Read] = {
    "feed": ("{ feed(first: 20) { edges { node { id } } } }", _edges("feed")),
    "node": ("query($id: ID!) { node(id: $id) { id } }", _one("node")),
    "search": (
        '{ search(query: "harbour") { edges { node { id } } } }',
        _edges("search"),
    ),
    "author content": (AUTHOR_CONTENT, _edges("author", "content")),
    "section page": (SECTION_PAGE, _edges("section", "content")),
    "tag page": (TAG_PAGE, _edges("tag", "content")),
    "pinned": (
        "{ pinned { id } }",
        lambda data: {item["id"] for item in data["pinned"]},
    ),
}
BY_SLUG_READS: dict[str, Read] = {
    field: (f"query($slug: String!) {{ {field}(slug: $slug) {{ id }} }}", _one(field))
    for field in KINDS
}
"""article(slug:) and videoEpisode(slug:): a story is read by its own kind's too."""

WITHDRAW = {
    "draft": ["mutation($id: ID!) { unpublish(id: $id) { __typename } }"],
    "in_review": [
        "mutation($id: ID!) { unpublish(id: $id) { __typename } }",
        "mutation($id: ID!) { submitForReview(id: $id) { __typename } }",
    ],
    "scheduled": ["mutation($id: ID!, $at: DateTime) { publish(id: $id, at: $at) { __typename } }"],
    "archived": ["mutation($id: ID!) { archive(id: $id) { __typename } }"],
    "killed": ['mutation($id: ID!) { kill(id: $id, reason: "Legal") { __typename } }'],
}


async def _cached_get(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """An anonymous GET's data, and whether the response cache answered it."""
    hits = _cache(client).hits
    response = await client.get(
        "/graphql", params={"query": query, "variables": json.dumps(variables)}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data, _cache(client).hits > hits


@pytest.mark.parametrize("field", list(KINDS))
@pytest.mark.parametrize("state", HIDDEN)
async def test_a_cached_get_never_shows_an_item_after_it_stops_being_public(
    cache_client: httpx.AsyncClient, tokens_by_role: dict[str, str], state: str, field: str
) -> None:
    """Every public read is cached, twice (the second a hit), then the item (an article
    or a video episode) leaves the public paths (a mutation, or for an expiry the clock
    alone): no cached GET shows it."""
    editor = tokens_by_role["editor"]
    await seed_section()
    await seed_author()
    now = clock.utcnow()
    relations = {"sectionSlug": "war", "authorSlugs": ["news-desk"], "tagSlugs": ["kyiv"]}
    create = api_article if field == "article" else api_video_episode
    story = await create(cache_client, editor, title="Harbour reopens", **relations)
    reads = {f"{field} by slug": BY_SLUG_READS[field], **CACHED_READS}
    until = now + timedelta(hours=1)
    publish = "mutation($id: ID!, $u: DateTime) { publish(id: $id, until: $u) { __typename } }"
    expires = until.isoformat() if state == "expired" else None
    await gql_data(cache_client, publish, {"id": story["id"], "u": expires}, editor)
    pin = "mutation($id: ID!) { pin(id: $id) { __typename } }"
    await gql_data(cache_client, pin, {"id": story["id"]}, editor)
    variables = {"slug": story["slug"], "id": story["id"]}

    def read_variables(query: str) -> dict[str, Any]:
        return {name: value for name, value in variables.items() if f"${name}" in query}

    for name, (query, shown) in reads.items():
        first, _ = await _cached_get(cache_client, query, read_variables(query))
        again, hit = await _cached_get(cache_client, query, read_variables(query))
        assert shown(first) == shown(again) == {story["id"]}, name
        assert hit, f"{name}: the second GET is not a cache hit; the test would prove nothing"

    for document in WITHDRAW.get(state, []):
        values = {"id": story["id"], "at": (now + timedelta(days=1)).isoformat()}
        given = {name: value for name, value in values.items() if f"${name}" in document}
        await gql_data(cache_client, document, given, editor)
    moment = (
        clock.frozen(until + timedelta(seconds=1))
        if state == "expired"
        else contextlib.nullcontext()
    )
    with moment:
        for name, (query, shown) in reads.items():
            data, _ = await _cached_get(cache_client, query, read_variables(query))
            assert shown(data) == set(), f"{name} still shows the {state} item"


async def test_a_cached_get_shows_no_hidden_item_of_a_newsroom(
    cache_client: httpx.AsyncClient, newsroom: Newsroom
) -> None:
    """The whole matrix's newsroom, read by GET twice (filled, then a hit): only public
    items, both times."""
    await _cache(cache_client).changes.catch_up(force=True)  # written behind the app's back
    for name, (query, shown) in CACHED_READS.items():
        if name == "node":
            continue
        first, _ = await _cached_get(cache_client, query, {})
        again, hit = await _cached_get(cache_client, query, {})
        assert hit, name
        assert shown(first) == shown(again) == _public_ids(newsroom), name
    for field in KINDS:
        for state in HIDDEN:
            item = newsroom[field, state]
            by_slug = ARTICLE if field == "article" else VIDEO_EPISODE
            for _ in range(2):
                slug_data, _ = await _cached_get(cache_client, by_slug, {"slug": item.slug})
                node_data, _ = await _cached_get(
                    cache_client, NODE, {"id": _id(newsroom, field, state)}
                )
                assert slug_data[field] is None, (field, state)
                assert node_data["node"] is None, (field, state)
