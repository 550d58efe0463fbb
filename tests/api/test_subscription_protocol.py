"""graphql-transport-ws as a client may get it wrong: malformed subscribes, reused ids,
messages before the handshake, queries over the socket, a stream with hundreds of members,
and the app shutting its streams down. A real server (uvicorn in the test's loop) and real
WebSocket clients; events go straight to the app's broker, as the dispatcher sends them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cms import clock
from cms.config import Settings
from cms.http.graphql import GraphQLView
from schema import build_schema
from tests import factories
from tests.api.test_subscription_limits import (
    SUBSCRIBE,
    _broker,
    _connected,
    _published,
    _receive,
    _subscribe,
    _until,
    _view,
)
from tests.realtime import WAIT, free_port, serve_app


async def _close_code(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None, "the server never sent a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"id": 1, "type": "subscribe", "payload": {"query": SUBSCRIBE}}, "Invalid subscribe"),
        ({"id": "1", "type": "subscribe", "payload": "subscription { x }"}, "Invalid subscribe"),
        ({"id": "1", "type": "subscribe", "payload": {"query": 7}}, "string `query`"),
        (
            {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": []}},
            "object `variables`",
        ),
        (
            {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE, "operationName": 3}},
            "`operationName`",
        ),
    ],
    ids=[
        "id-not-a-string",
        "payload-not-an-object",
        "query-not-a-string",
        "variables-a-list",
        "operation-name-a-number",
    ],  # fmt: skip
)
async def test_a_malformed_subscribe_closes_the_socket_with_4400(
    settings: Settings, db: None, message: dict[str, Any], reason: str
) -> None:
    async with serve_app(settings) as (address, app), _connected(address) as ws:
        await ws.send(json.dumps(message))
        code, text = await _close_code(ws)
        await _until(lambda: _view(app).fanout.subscriptions == 0, "nothing held")

    assert code == 4400
    assert reason in text


async def test_a_subscribe_before_connection_init_is_closed_with_4401(
    settings: Settings, db: None
) -> None:
    async with (
        serve_app(settings) as (address, app),
        connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await _subscribe(ws, "1")
        code, text = await _close_code(ws)
        assert _view(app).fanout.subscriptions == 0

    assert (code, text) == (4401, "Unauthorized")


async def test_a_subscription_id_in_use_closes_the_socket_with_4409(
    settings: Settings, db: None
) -> None:
    async with serve_app(settings) as (address, app), _connected(address) as ws:
        view, broker = _view(app), _broker(app)
        await _subscribe(ws, "same")
        await _until(lambda: view.fanout.subscriptions == 1, "subscribed")
        await _subscribe(ws, "same")
        code, text = await _close_code(ws)
        # Closing the socket lets go of the first subscription too.
        await _until(lambda: view.fanout.streams == 0 and broker.subscribers == 0, "freed")

    assert code == 4409
    assert text == "Subscriber for same already exists"


@pytest.mark.parametrize("operation_name", ["", "Latest"], ids=["unnamed", "named"])
async def test_a_query_over_the_socket_answers_next_then_complete(
    settings: Settings, db: None, operation_name: str
) -> None:
    await factories.make_article(title="Over the socket", published_at=clock.utcnow())
    query = "query Latest { feed(first: 1) { edges { node { title } } } }"
    async with serve_app(settings) as (address, app), _connected(address) as ws:
        await ws.send(json.dumps({
            "id": "q", "type": "subscribe",
            "payload": {"query": query, "operationName": operation_name, "variables": None},
        }))  # fmt: skip
        answer = await _receive(ws)
        done = await _receive(ws)
        assert _view(app).fanout.streams == 0  # a query joins no stream

    assert answer["type"] == "next" and answer["id"] == "q", answer
    assert "errors" not in answer["payload"], answer
    assert answer["payload"]["data"]["feed"]["edges"][0]["node"]["title"] == "Over the socket"
    assert done == {"id": "q", "type": "complete"}


async def test_complete_for_an_unknown_id_is_ignored_and_the_socket_goes_on(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(title="Still here", published_at=clock.utcnow())
    async with serve_app(settings) as (address, app), _connected(address) as ws:
        view, broker = _view(app), _broker(app)
        await _subscribe(ws, "1")
        await _until(lambda: view.fanout.subscriptions == 1, "subscribed")
        await ws.send(json.dumps({"id": "never-subscribed", "type": "complete"}))
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _receive(ws))["type"] == "pong"
        assert view.fanout.subscriptions == 1  # the real subscription is untouched
        await broker.publish(_published(story))
        event = await _receive(ws)

    assert event["id"] == "1"
    assert event["payload"]["data"]["feedEvents"]["content"]["title"] == "Still here"


async def test_one_event_reaches_every_member_of_a_stream_larger_than_a_batch(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(title="For everyone", published_at=clock.utcnow())
    members = 201  # more than one batch (cms.http.fanout.BATCH) between yields
    roomy = settings.model_copy(
        update={"max_subscriptions_per_connection": 250, "ws_max_pending_messages": 500}
    )
    types_only = "subscription { feedEvents { type contentId } }"
    async with serve_app(roomy) as (address, app), _connected(address) as ws:
        view, broker = _view(app), _broker(app)
        for n in range(members):
            await _subscribe(ws, str(n), types_only)
        await _until(lambda: view.fanout.subscriptions == members, "all subscribed")
        assert view.fanout.streams == 1 and broker.subscribers == 1
        await broker.publish(_published(story))
        messages = [await _receive(ws) for _ in range(members)]

    assert {message["type"] for message in messages} == {"next"}
    assert sorted(int(message["id"]) for message in messages) == list(range(members))


async def test_closing_the_fanout_at_shutdown_stops_every_stream(
    settings: Settings, db: None
) -> None:
    async with serve_app(settings) as (address, app):
        view, broker = _view(app), _broker(app)
        async with _connected(address) as first, _connected(address) as second:
            await _subscribe(first, "1")
            await _subscribe(second, "1", sections=["desk"])
            await _until(lambda: view.fanout.subscriptions == 2, "subscribed")
            assert view.fanout.streams == 2 and broker.subscribers == 2

            await view.fanout.close()  # what the app's shutdown does first

            assert view.fanout.streams == 0
            assert broker.subscribers == 0  # every broker registration let go


async def test_a_stream_that_fails_sends_its_error_then_complete_and_frees_the_id(
    settings: Settings, db: None
) -> None:
    # A view built without a broker (GraphQLView's broker is optional) cannot run
    # feedEvents: the failure reaches the subscriber as a `next` with errors, then
    # `complete`, and the socket goes on.
    view = GraphQLView(build_schema(settings), settings)
    app = Starlette(routes=[WebSocketRoute("/graphql", view)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with _connected(f"127.0.0.1:{port}") as ws:
            await _subscribe(ws, "1")
            failed = await _receive(ws)
            done = await _receive(ws)
            await _until(lambda: view.fanout.streams == 0, "the stream is gone")
            await _subscribe(ws, "1")  # the id is free again
            again = await _receive(ws)
    finally:
        server.should_exit = True
        await task

    assert failed["type"] == "next" and failed["id"] == "1", failed
    assert failed["payload"]["data"] is None
    assert [error["message"] for error in failed["payload"]["errors"]] == [
        "subscriptions need the app's broker"
    ]
    assert done == {"id": "1", "type": "complete"}
    assert again["type"] == "next" and again["payload"]["errors"], again


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("subscription { feedEvents { type }", "Syntax Error: Expected Name, found <EOF>."),
        (
            "subscription { feedEvents { type contentId at } }",
            "Syntax Error: Document contains more than 6 tokens. Parsing aborted.",
        ),
    ],
    ids=["unbalanced", "too-many-tokens"],
)
async def test_a_document_that_does_not_parse_closes_the_socket_with_4400_and_the_reason(
    settings: Settings, db: None, document: str, reason: str
) -> None:
    # Strawberry's parser cache raised here, and the client heard a bare `complete`.
    strict = settings.model_copy(update={"max_tokens": 6})
    async with serve_app(strict) as (address, app), _connected(address) as ws:
        await _subscribe(ws, "1", document)
        closed = await _close_code(ws)
        assert _view(app).fanout.streams == 0

    assert closed == (4400, reason)
