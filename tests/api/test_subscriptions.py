"""feedEvents over graphql-transport-ws, through a real server and a real WebSocket client.

The app runs under uvicorn in this test's event loop (so it shares the test database),
with the dispatcher on: a publish mutation's outbox event reaches subscribers through it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cms import clock
from cms.config import Settings
from tests import factories
from tests.api.conftest import global_id
from tests.realtime import WAIT, next_event, nothing_within, post, serve, subscribe

PUBLISH = "mutation($id: ID!, $at: DateTime) { publish(id: $id, at: $at) { __typename } }"
UPDATE = 'mutation($id: ID!) { updateArticle(id: $id, input: {dek: "x"}) { __typename } }'


@pytest.fixture
async def server(settings: Settings, db: None) -> AsyncIterator[str]:
    async with serve(settings.model_copy(update={"run_dispatcher": True})) as address:
        yield address


async def test_a_publish_reaches_an_anonymous_subscriber(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    draft = await factories.make_article(title="Breaking")
    async with subscribe(server) as ws:
        await post(server, PUBLISH, tokens_by_role["editor"], id=global_id("Article", draft.id))
        event = await next_event(ws, timeout=1.0)  # "within a second of a publish"

    assert event["type"] == "CONTENT_PUBLISHED"
    assert event["contentId"] == global_id("Article", draft.id)
    assert event["content"] == {"__typename": "Article", "title": "Breaking", "status": "PUBLISHED"}


async def test_anonymous_subscribers_hear_nothing_of_drafts(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    draft = await factories.make_article(title="Not yet")
    async with (
        subscribe(server) as anonymous,
        subscribe(server, tokens_by_role["viewer"]) as viewer,
    ):
        await post(server, UPDATE, tokens_by_role["editor"], id=global_id("Article", draft.id))

        heard = await next_event(viewer)
        assert await nothing_within(anonymous)

    assert heard["type"] == "CONTENT_UPDATED"
    assert heard["content"]["status"] == "DRAFT"


async def test_unpublishing_tells_anonymous_readers_with_null_content(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    story = await factories.make_article(title="Retracted", published_at=clock.utcnow())
    unpublish = "mutation($id: ID!) { unpublish(id: $id) { __typename } }"
    async with subscribe(server) as ws:
        await post(server, unpublish, tokens_by_role["editor"], id=global_id("Article", story.id))
        event = await next_event(ws)

    assert event["type"] == "CONTENT_UNPUBLISHED"
    assert event["content"] is None


async def test_filters_by_section_and_kind(server: str, tokens_by_role: dict[str, str]) -> None:
    await factories.make_section(slug="war")
    await factories.make_section(slug="business", name="Business")
    war = await factories.make_article(title="Front", section="war")
    money = await factories.make_article(title="Markets", section="business")
    episode = await factories.make_video_episode(title="Weekly", section="war")
    editor = tokens_by_role["editor"]
    async with subscribe(server, sections=["war"], kinds=["ARTICLE"]) as ws:
        for item, kind in ((money, "Article"), (episode, "VideoEpisode"), (war, "Article")):
            await post(server, PUBLISH, editor, id=global_id(kind, item.id))
        event = await next_event(ws)
        assert await nothing_within(ws, 0.8)

    assert event["content"]["title"] == "Front"


async def test_a_scheduled_item_is_announced_at_its_time(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    draft = await factories.make_article(title="At noon")
    at = clock.utcnow() + timedelta(seconds=1.5)
    async with subscribe(server) as ws:
        await post(
            server, PUBLISH, tokens_by_role["editor"],
            id=global_id("Article", draft.id), at=at.isoformat(),
        )  # fmt: skip
        event = await next_event(ws, timeout=4)
        arrived = clock.utcnow()

    assert event["type"] == "CONTENT_PUBLISHED"
    assert event["content"]["status"] == "PUBLISHED"
    assert at <= arrived  # announced at its time, not before


async def test_a_bad_token_in_connection_init_closes_with_4403(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({
            "type": "connection_init", "payload": {"authorization": "Bearer ndk_wrong"},
        }))  # fmt: skip
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_the_legacy_graphql_ws_protocol_is_refused(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-ws"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def _closed_with(ws: object, code: int) -> None:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), WAIT)  # type: ignore[attr-defined]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


@pytest.mark.parametrize(
    "payload",
    [{"authorization": 5}, {"authorization": ["Bearer x"]}, {"Authorization": {"a": 1}}, [1]],
    ids=["number", "list", "object", "payload-list"],
)
async def test_an_authorization_that_is_not_a_string_is_refused_not_anonymous(
    server: str, payload: object
) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        await _closed_with(ws, 4403 if isinstance(payload, dict) else 4400)


@pytest.mark.parametrize(
    "message",
    ["[1, 2]", "7", '"connection_init"', '{"a":' * 5000 + "1" + "}" * 5000, "[" * 5000],
    ids=["array", "number", "string", "nested-5000-deep", "unclosed-5000-deep"],
)
async def test_a_message_that_is_no_object_closes_with_4400(server: str, message: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(message)
        await _closed_with(ws, 4400)


async def test_a_socket_without_connection_init_is_closed_after_the_setting(
    settings: Settings, db: None
) -> None:
    async with serve(settings.model_copy(update={"ws_init_timeout_seconds": 0.5})) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            started = asyncio.get_running_loop().time()
            await _closed_with(ws, 4408)
            assert asyncio.get_running_loop().time() - started < WAIT


def test_the_connection_init_wait_is_ten_seconds_by_default() -> None:
    assert Settings(_env_file=None).ws_init_timeout_seconds == 10.0


async def test_a_lone_surrogate_in_a_variable_is_an_error_message_not_a_crash(
    server: str,
) -> None:
    # graphql-core echoes the value in its error; UTF-8 cannot carry it, so it reads "?".
    query = "subscription($k: [ContentKind!]) { feedEvents(kinds: $k) { type } }"
    subscribe = {"id": "1", "type": "subscribe",
                 "payload": {"query": query, "variables": {"k": ["\udf8f"]}}}  # fmt: skip
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connection_ack"
        await ws.send(json.dumps(subscribe))  # escaped: the frame itself is valid UTF-8
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))

    assert message["type"] == "error", message
    assert "Value '?' does not exist in 'ContentKind' enum" in message["payload"][0]["message"]
