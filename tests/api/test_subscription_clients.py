"""feedEvents through the clients users really run, against a live `cms serve`.

The npm `graphql-ws` client under Node.js, gql (PyPI) and the `websockets` library at the
frame level. Every graphql-transport-ws message used to go out as a binary frame (orjson
returns bytes), which graphql-ws closed with 4004 and gql refused ("Binary data received
in the websocket"); hand-written sockets that accept binary frames never noticed. These
tests fail if any message the server sends is not a text frame.

One live server (one worker, so the in-memory broker and the dispatcher share the
process that holds the sockets) serves the whole module. Events from the demo seed or from
other tests may arrive on a subscription: clients wait for the item the test made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests import node
from tests.api import graphql_client
from tests.live import LiveServer, run_live_server

NODE_PACKAGES = ["graphql-ws@6.4.2", "graphql@16.15.0", "ws@8.23.0"]
TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")
WAIT = 10.0  # seconds: the longest any step may take before the test fails
SETTLE = 0.25  # seconds between sending `subscribe` and the publish, for the server to subscribe
NODE_TIMEOUT = 60.0

SUBSCRIBE = """
subscription { feedEvents { type contentId content { __typename title status } } }
"""
SECTIONS = "query { sections { slug } }"
NOT_A_FIELD = "subscription { feedEvents { noSuchField } }"
CREATE = """
mutation($title: String!) {
  createArticle(input: {title: $title}) { __typename ... on Article { id status } }
}
"""
UPDATE = """
mutation($id: ID!, $dek: String!) {
  updateArticle(id: $id, input: {dek: $dek}) { __typename ... on Article { status } }
}
"""
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename ... on Article { status } } }"

# Subscribes with graphql-ws's createClient over `ws`, collects the events about `contentId`
# until one of type `until`, and prints one JSON line: {"events": [...]},
# {"closed": {code, reason}}, {"errors": [...]}, {"error": "..."} or {"timeout": ..., "events"}.
# It touches `readyFile` SETTLE after connection_ack (the subscribe message follows the ack).
GRAPHQL_WS_CLIENT = """
import { writeFileSync } from "node:fs";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, contentId, until, readyFile, settleMs, deadlineMs, query] =
  process.argv.slice(2);
const events = [];

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
  retryAttempts: 0,
  on: {
    connected: () => setTimeout(() => writeFileSync(readyFile, "subscribed\\n"), Number(settleMs)),
  },
});

async function finish(report) {
  process.stdout.write(JSON.stringify(report) + "\\n");
  await client.dispose();
  process.exit(0);
}

setTimeout(() => {
  process.stdout.write(JSON.stringify({ timeout: `after ${deadlineMs} ms`, events }) + "\\n");
  process.exit(0);
}, Number(deadlineMs));

try {
  for await (const result of client.iterate({ query })) {
    if (result.errors) await finish({ errors: result.errors });
    const event = result.data.feedEvents;
    if (event.contentId !== contentId) continue;
    events.push(event);
    if (event.type === until) await finish({ events });
  }
  await finish({ completed: true, events });
} catch (error) {
  if (error && typeof error.code === "number") {
    await finish({ closed: { code: error.code, reason: error.reason } });
  }
  await finish({ error: String(error) });
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("subscription-clients")) as live:
        yield live


@pytest.fixture(scope="module")
def graphql_ws() -> Path:
    """The folder holding the npm graphql-ws client and its peers (skips without npm)."""
    return node.node_packages(NODE_PACKAGES)


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://", 1) + "/graphql"


# --- HTTP: what the newsroom does while clients listen -----------------------------------


async def post(server: LiveServer, query: str, **variables: Any) -> dict[str, Any]:
    """`data` of a mutation by the server's editor token; fails on any error."""
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=WAIT) as http:
        status, body = await graphql_client.gql(http, query, variables, server.token)
    assert "errors" not in body, body
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


async def create_draft(server: LiveServer, title: str) -> str:
    article = (await post(server, CREATE, title=title))["createArticle"]
    assert article["__typename"] == "Article", article
    assert article["status"] == "DRAFT"
    content_id: str = article["id"]
    return content_id


async def update(server: LiveServer, content_id: str) -> None:
    data = await post(server, UPDATE, id=content_id, dek="Updated while a client listens")
    assert data["updateArticle"] == {"__typename": "Article", "status": "DRAFT"}


async def publish(server: LiveServer, content_id: str) -> None:
    data = await post(server, PUBLISH, id=content_id)
    assert data["publish"] == {"__typename": "Article", "status": "PUBLISHED"}


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:8]}"


# --- graphql-ws (npm) under Node.js ---------------------------------------------------


async def run_graphql_ws(
    folder: Path,
    server: LiveServer,
    ready: Path,
    *,
    token: str = "",
    content_id: str = "",
    until: str = "CONTENT_PUBLISHED",
    then: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Run the graphql-ws client; once it has subscribed, run `then` (the publish);
    return the JSON report the script printed."""
    args = [
        ws_url(server), token, content_id, until, str(ready),
        str(int(SETTLE * 1000)), str(int(WAIT * 1000)), SUBSCRIBE,
    ]  # fmt: skip
    run = asyncio.ensure_future(
        asyncio.to_thread(
            node.run_script, folder, GRAPHQL_WS_CLIENT, args=args, timeout=NODE_TIMEOUT
        )
    )
    if then is not None:
        async with asyncio.timeout(WAIT):
            while not ready.exists() and not run.done():
                await asyncio.sleep(0.05)
        if ready.exists():
            await then()
    done: subprocess.CompletedProcess[str] = await run
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines, f"the script printed nothing; stderr:\n{done.stderr}"
    report: dict[str, Any] = json.loads(lines[-1])
    return report


async def test_graphql_ws_hears_a_publish_anonymously(
    server: LiveServer, graphql_ws: Path, tmp_path: Path
) -> None:
    title = unique("Heard by Node")
    draft = await create_draft(server, title)

    report = await run_graphql_ws(
        graphql_ws, server, tmp_path / "ready", content_id=draft,
        then=lambda: publish(server, draft),
    )  # fmt: skip

    assert "events" in report, report
    # Nothing of the draft's life before (anonymous readers never hear of drafts), then this:
    assert report["events"] == [
        {
            "type": "CONTENT_PUBLISHED",
            "contentId": draft,
            "content": {"__typename": "Article", "title": title, "status": "PUBLISHED"},
        }
    ]


async def test_graphql_ws_with_a_token_in_connection_params_hears_drafts(
    server: LiveServer, graphql_ws: Path, tmp_path: Path
) -> None:
    title = unique("Node editor")
    draft = await create_draft(server, title)

    async def update_then_publish() -> None:
        await update(server, draft)
        await publish(server, draft)

    report = await run_graphql_ws(
        graphql_ws, server, tmp_path / "ready", token=server.token, content_id=draft,
        then=update_then_publish,
    )  # fmt: skip

    assert "events" in report, report
    *before, published = report["events"]
    # The draft's update reaches token holders only: hearing it proves the token was applied.
    # (Its content is the item as it is when dispatched, so its status is not asserted.)
    assert {event["type"] for event in before} == {"CONTENT_UPDATED"}, before
    assert published == {
        "type": "CONTENT_PUBLISHED",
        "contentId": draft,
        "content": {"__typename": "Article", "title": title, "status": "PUBLISHED"},
    }


async def test_graphql_ws_with_a_bad_token_is_closed_with_4403(
    server: LiveServer, graphql_ws: Path, tmp_path: Path
) -> None:
    report = await run_graphql_ws(graphql_ws, server, tmp_path / "ready", token="ndk_wrong")

    assert report == {"closed": {"code": 4403, "reason": "Forbidden"}}


# --- gql (PyPI) ----------------------------------------------------------------------


async def events_about(
    results: AsyncIterator[dict[str, Any]], content_id: str, until: str
) -> list[dict[str, Any]]:
    """The events about `content_id`, up to the first of type `until`."""
    events: list[dict[str, Any]] = []
    async for result in results:
        event: dict[str, Any] = result["feedEvents"]
        if event["contentId"] == content_id:
            events.append(event)
            if event["type"] == until:
                return events
    raise AssertionError(f"the subscription ended after {events}")


def transport_ws(server: LiveServer, **options: Any) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=ws_url(server),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],  # "graphql-transport-ws"
        connect_timeout=WAIT,
        ack_timeout=WAIT,
        close_timeout=WAIT,
        **options,
    )


def close_code(error: BaseException) -> tuple[int, str] | None:
    """The close frame behind a gql transport error (gql keeps it as the cause)."""
    cause = error.__cause__
    while cause is not None and not isinstance(cause, ConnectionClosed):
        cause = cause.__cause__
    if cause is None or cause.rcvd is None:
        return None
    return cause.rcvd.code, cause.rcvd.reason


async def test_gql_with_a_token_hears_an_update_and_a_publish(server: LiveServer) -> None:
    title = unique("Heard by gql")
    draft = await create_draft(server, title)
    transport = transport_ws(server, init_payload={"authorization": f"Bearer {server.token}"})

    async with Client(transport=transport, execute_timeout=WAIT) as session:
        assert transport.subprotocol == TRANSPORT_WS
        async with contextlib.aclosing(session.subscribe(gql(SUBSCRIBE))) as results:
            heard = asyncio.ensure_future(events_about(results, draft, "CONTENT_PUBLISHED"))
            await asyncio.sleep(SETTLE)  # gql sends `subscribe`; the server subscribes
            await update(server, draft)
            await publish(server, draft)
            *before, published = await asyncio.wait_for(heard, WAIT)

    # The draft's update reaches token holders only: the init_payload's token was applied.
    assert {event["type"] for event in before} == {"CONTENT_UPDATED"}, before
    assert published == {
        "type": "CONTENT_PUBLISHED",
        "contentId": draft,
        "content": {"__typename": "Article", "title": title, "status": "PUBLISHED"},
    }


async def test_gql_with_its_default_subprotocols_gets_graphql_transport_ws(
    server: LiveServer,
) -> None:
    # gql offers the legacy protocol first by default; the server picks the one it speaks.
    transport = WebsocketsTransport(url=ws_url(server), ack_timeout=WAIT)

    async with Client(transport=transport, execute_timeout=WAIT) as session:
        assert transport.subprotocol == TRANSPORT_WS
        result = await session.execute(gql(SECTIONS))  # a query over the socket: next, complete

    assert result["sections"], result


async def test_gql_with_a_bad_token_is_closed_with_4403(server: LiveServer) -> None:
    transport = transport_ws(server, init_payload={"authorization": "Bearer ndk_wrong"})

    with pytest.raises(TransportConnectionFailed) as failed:
        async with Client(transport=transport, execute_timeout=WAIT):
            pass

    assert close_code(failed.value) == (4403, "Forbidden")


async def test_gql_offering_only_the_legacy_protocol_is_closed_with_4406(
    server: LiveServer,
) -> None:
    transport = WebsocketsTransport(
        url=ws_url(server),
        subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL],  # "graphql-ws", the legacy one
        init_payload={"authorization": f"Bearer {server.token}"},
        ack_timeout=WAIT,
    )

    with pytest.raises(TransportConnectionFailed) as failed:
        async with Client(transport=transport, execute_timeout=WAIT):
            pass

    assert close_code(failed.value) == (4406, "Subprotocol not acceptable")


async def test_the_legacy_protocol_is_never_negotiated(server: LiveServer) -> None:
    # What any client offering only the legacy protocol sees: the handshake succeeds with
    # no subprotocol chosen, then the server closes before reading a message.
    async with connect(ws_url(server), subprotocols=[LEGACY_WS], open_timeout=WAIT) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Protocol" not in ws.response.headers
        assert ws.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4406,
        "Subprotocol not acceptable",
    )


# --- frames: every message the server sends is a text frame ----------------------------


class Frames:
    """A graphql-transport-ws socket that records every data frame the server sends."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[tuple[str, str]] = []  # (message type, "text" | "binary")

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))  # a str: a text frame

    async def receive(self) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), WAIT)
        message: dict[str, Any] = json.loads(frame)
        self.received.append((message["type"], "text" if isinstance(frame, str) else "binary"))
        return message


@contextlib.asynccontextmanager
async def frames(server: LiveServer) -> AsyncIterator[Frames]:
    async with connect(ws_url(server), subprotocols=[TRANSPORT_WS], open_timeout=WAIT) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        yield Frames(ws)


async def test_every_message_the_server_sends_is_a_text_frame(server: LiveServer) -> None:
    title = unique("Text frames")
    draft = await create_draft(server, title)

    async with frames(server) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        assert (await socket.receive())["type"] == "connection_ack"

        await socket.send({"type": "ping"})
        assert (await socket.receive())["type"] == "pong"

        await socket.send({"id": "bad", "type": "subscribe", "payload": {"query": NOT_A_FIELD}})
        error = await socket.receive()
        assert (error["type"], error["id"]) == ("error", "bad")
        assert "noSuchField" in error["payload"][0]["message"]

        await socket.send({"id": "once", "type": "subscribe", "payload": {"query": SECTIONS}})
        answer = await socket.receive()
        assert (answer["type"], answer["id"]) == ("next", "once")
        assert "errors" not in answer["payload"], answer
        assert answer["payload"]["data"]["sections"]
        assert await socket.receive() == {"id": "once", "type": "complete"}

        await socket.send({"id": "feed", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        await asyncio.sleep(SETTLE)  # the server subscribes to the broker
        await publish(server, draft)
        while True:  # the demo seed's events may come first
            message = await socket.receive()
            assert (message["type"], message["id"]) == ("next", "feed"), message
            assert "errors" not in message["payload"], message
            event = message["payload"]["data"]["feedEvents"]
            if event["contentId"] == draft:
                break
        assert event["content"] == {"__typename": "Article", "title": title, "status": "PUBLISHED"}

        await socket.send({"id": "feed", "type": "complete"})
        await socket.send({"type": "ping"})
        while (message := await socket.receive())["type"] != "pong":
            assert message["type"] == "next", message  # sent before the server read `complete`

    assert {kind for kind, _ in socket.received} == {
        "connection_ack", "pong", "error", "next", "complete",
    }  # fmt: skip
    assert [(kind, frame) for kind, frame in socket.received if frame != "text"] == []
