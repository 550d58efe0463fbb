"""feedEvents over graphql-transport-ws, through a real server and a real WebSocket client.

The app runs under uvicorn in this test's event loop (so it shares the test database),
with the dispatcher on: a publish mutation's outbox event reaches subscribers through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cms import clock
from cms.config import Settings
from cms.http.app import create_app
from cms.models import OutboxEvent
from tests import factories
from tests.api.conftest import global_id

SUBSCRIBE = """
subscription($sections: [String!], $kinds: [ContentKind!]) {
  feedEvents(sections: $sections, kinds: $kinds) {
    type contentId at content { __typename title status }
  }
}
"""
PUBLISH = "mutation($id: ID!, $at: DateTime) { publish(id: $id, at: $at) { __typename } }"
UPDATE = 'mutation($id: ID!) { updateArticle(id: $id, input: {dek: "x"}) { __typename } }'
WAIT = 3.0  # seconds; events arrive within the dispatcher's poll (0.25 s)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def server(settings: Settings, db: None) -> AsyncIterator[str]:
    app = create_app(settings.model_copy(update={"run_dispatcher": True}), manage_database=False)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task


async def drained() -> None:
    """Wait until the dispatcher has sent every event recorded so far (the seed data's),
    so a subscriber hears only what the test does next."""
    for _ in range(int(WAIT / 0.05)):
        if not await OutboxEvent.filter(dispatched_at__isnull=True).exists():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the dispatcher did not drain the outbox")


@contextlib.asynccontextmanager
async def subscribe(
    address: str, token: str | None = None, **variables: Any
) -> AsyncIterator[ClientConnection]:
    await drained()
    async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({
            "id": "1", "type": "subscribe",
            "payload": {"query": SUBSCRIBE, "variables": variables},
        }))  # fmt: skip
        await asyncio.sleep(0.1)  # the server subscribes to the broker
        yield ws


async def next_event(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["feedEvents"]
    return event


async def nothing_within(ws: ClientConnection, seconds: float = 1.0) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


async def _post(address: str, query: str, token: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def test_a_publish_reaches_an_anonymous_subscriber(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    draft = await factories.make_article(title="Breaking")
    async with subscribe(server) as ws:
        await _post(server, PUBLISH, tokens_by_role["editor"], id=global_id("Article", draft.id))
        event = await next_event(ws, timeout=1.5)

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
        await _post(server, UPDATE, tokens_by_role["editor"], id=global_id("Article", draft.id))

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
        await _post(server, unpublish, tokens_by_role["editor"], id=global_id("Article", story.id))
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
            await _post(server, PUBLISH, editor, id=global_id(kind, item.id))
        event = await next_event(ws)
        assert await nothing_within(ws, 0.8)

    assert event["content"]["title"] == "Front"


async def test_a_scheduled_item_is_announced_at_its_time(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    draft = await factories.make_article(title="At noon")
    at = clock.utcnow() + timedelta(seconds=1.5)
    async with subscribe(server) as ws:
        await _post(
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
