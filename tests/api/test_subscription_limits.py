"""Subscriptions are bounded, fanned out once per shape, never waited for, and freed on close.

A real server (uvicorn in the test's loop) and real WebSocket clients; events go straight
to the app's broker, as the dispatcher would send them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cms import clock
from cms.config import Settings
from cms.events.broker import FeedMessage, InMemoryBroker
from cms.http.graphql import GraphQLView
from cms.models import Content
from tests import factories
from tests.realtime import WAIT, serve_app
from tests.statements import counting

SUBSCRIBE = """
subscription($sections: [String!]) {
  feedEvents(sections: $sections) { type contentId content { __typename title status } }
}
"""
BODIES = "subscription { feedEvents { type content { ... on Article { body } } } }"


def _view(app: Starlette) -> GraphQLView:
    for route in app.routes:
        if isinstance(route, WebSocketRoute) and isinstance(route.endpoint, GraphQLView):
            return route.endpoint
    raise AssertionError("no GraphQL WebSocket route")


def _broker(app: Starlette) -> InMemoryBroker:
    broker = app.state.broker
    assert isinstance(broker, InMemoryBroker)
    return broker


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never came true: {what}")


@contextlib.asynccontextmanager
async def _connected(address: str, **options: Any) -> AsyncIterator[ClientConnection]:
    async with connect(
        f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"], **options
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert ack["type"] == "connection_ack", ack
        yield ws


async def _subscribe(
    ws: ClientConnection, id: str, query: str = SUBSCRIBE, **variables: Any
) -> None:
    message = {"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
    await ws.send(json.dumps(message))


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


def _published(item: Content) -> FeedMessage:
    return FeedMessage(
        type="CONTENT_PUBLISHED", content_id=item.id, at=clock.utcnow().isoformat(),
        kind="article", section=None, public=True,
    )  # fmt: skip


async def test_a_subscription_past_the_limit_gets_an_error_and_the_socket_stays_open(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(title="Limited", published_at=clock.utcnow())
    limited = settings.model_copy(update={"max_subscriptions_per_connection": 2})
    async with serve_app(limited) as (address, app), _connected(address) as ws:
        await _subscribe(ws, "1")
        await _subscribe(ws, "2")
        await _subscribe(ws, "3")
        refused = await _receive(ws)
        assert refused["type"] == "error" and refused["id"] == "3", refused
        assert "at most 2" in refused["payload"][0]["message"]
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"

        await ws.send(json.dumps({"type": "ping"}))
        assert (await _receive(ws))["type"] == "pong"  # still open
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        await _subscribe(ws, "4")  # one completed: room for another
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _receive(ws))["type"] == "pong"  # what came before is handled
        assert _view(app).fanout.subscriptions == 2
        await _broker(app).publish(_published(story))
        heard = {(await _receive(ws))["id"] for _ in range(2)}

    assert heard == {"2", "4"}


async def test_connections_past_the_limit_per_address_are_closed_with_4429(
    settings: Settings, db: None
) -> None:
    limited = settings.model_copy(update={"max_connections_per_client": 2})
    async with serve_app(limited) as (address, app):
        async with _connected(address), _connected(address):
            async with connect(
                f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]
            ) as third:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(third.recv(), WAIT)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
            assert "limit 2" in closed.value.rcvd.reason
        await _until(lambda: not _view(app).sockets_by_address, "the sockets are counted out")
        async with _connected(address), _connected(address):  # closed ones make room
            pass


async def test_one_publish_costs_the_same_sql_for_one_and_for_twelve_subscribers(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(title="Once", published_at=clock.utcnow())
    async with serve_app(settings) as (address, app):
        view, broker = _view(app), _broker(app)
        counts: dict[int, int] = {}
        for sockets, per_socket in ((1, 1), (3, 4)):
            async with contextlib.AsyncExitStack() as stack:
                clients = [
                    await stack.enter_async_context(_connected(address)) for _ in range(sockets)
                ]
                for ws in clients:
                    for n in range(per_socket):
                        await _subscribe(ws, f"s{n}")
                total = sockets * per_socket
                await _until(lambda: view.fanout.subscriptions == total, "all subscribed")  # noqa: B023
                assert broker.subscribers == 1 and view.fanout.streams == 1  # one shape
                with counting() as statements:
                    await broker.publish(_published(story))
                    raw = [
                        await asyncio.wait_for(ws.recv(), WAIT)
                        for ws in clients
                        for _ in range(per_socket)
                    ]
                counts[total] = len(statements)
            messages = [json.loads(text) for text in raw]
            assert {message["type"] for message in messages} == {"next"}, messages
            assert messages[0]["payload"]["data"]["feedEvents"]["content"]["title"] == "Once"
            # The same payload, serialised once, behind each subscriber's own id.
            assert len({str(text).partition('"payload":')[2] for text in raw}) == 1

    assert counts[1] >= 1
    assert counts[12] == counts[1], counts


async def test_a_reader_that_stops_reading_is_dropped_and_the_others_hear_every_event(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(
        title="Long read", body="word " * 40_000, published_at=clock.utcnow()
    )
    tight = settings.model_copy(update={"ws_max_pending_messages": 4})
    async with serve_app(tight) as (address, app):
        view, broker = _view(app), _broker(app)
        host, port = address.split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader on a thin line
        sock.connect((host, int(port)))
        sock.setblocking(False)
        async with (
            # Uncompressed (permessage-deflate would shrink the repeated words to nothing on
            # the wire), and reading stops once one message waits unread.
            _connected(address, sock=sock, max_queue=1, compression=None) as slow,
            _connected(address, max_size=None) as fast,
        ):
            await _subscribe(slow, "slow", BODIES)
            await _subscribe(fast, "fast", BODIES)
            await _until(lambda: view.fanout.subscriptions == 2, "both subscribed")
            published = 0
            while view.fanout.subscriptions == 2 and published < 400:
                await broker.publish(_published(story))
                published += 1
                event = await _receive(fast)  # the fast reader hears each one at once
                assert event["type"] == "next" and event["id"] == "fast", event
            assert view.fanout.subscriptions == 1, "the slow reader was never dropped"
            assert broker.subscribers == 1  # the stream goes on for the fast reader

            await broker.publish(_published(story))  # and the fast reader still hears
            assert (await _receive(fast))["type"] == "next"
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # what was already on the wire, then the close
                    await asyncio.wait_for(slow.recv(), WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429


async def test_closing_the_sockets_frees_their_subscriptions_and_memory(
    settings: Settings, db: None
) -> None:
    sockets, per_socket = 20, 5
    async with serve_app(settings) as (address, app):
        view, broker = _view(app), _broker(app)

        async def one_round() -> int:
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(sockets):
                    ws = await stack.enter_async_context(_connected(address))
                    for n in range(per_socket):
                        await _subscribe(ws, str(n), sections=[f"desk-{n}"])
                await _until(
                    lambda: view.fanout.subscriptions == sockets * per_socket, "all subscribed"
                )
                assert view.fanout.streams == per_socket == broker.subscribers
                gc.collect()
                during = tracemalloc.get_traced_memory()[0]
            await _until(
                lambda: (
                    broker.subscribers == 0
                    and view.fanout.streams == 0
                    and not view.sockets_by_address
                ),
                "everything let go",
            )
            return during

        tracemalloc.start()
        try:
            await one_round()  # caches (parsed documents, validation) fill once
            gc.collect()
            baseline = tracemalloc.get_traced_memory()[0]
            during = await one_round()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    held = during - baseline
    assert held > 0
    assert after - baseline < max(held // 4, 256 * 1024), (baseline, during, after)


async def test_a_burst_of_events_does_not_drop_a_reader_that_keeps_up(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(title="Burst", published_at=clock.utcnow())
    tight = settings.model_copy(update={"ws_max_pending_messages": 5})
    types_only = "subscription { feedEvents { type contentId } }"  # no SQL: nothing waits
    async with serve_app(tight) as (address, app), _connected(address) as ws:
        view, broker = _view(app), _broker(app)
        for n in range(4):
            await _subscribe(ws, str(n), types_only)
        await _until(lambda: view.fanout.subscriptions == 4, "all subscribed")
        for _ in range(30):  # queued at once, faster than any socket could be written
            await broker.publish(_published(story))
        messages = [await _receive(ws) for _ in range(4 * 30)]

    assert {message["type"] for message in messages} == {"next"}
    assert view.fanout.subscriptions == 0  # the socket closed normally, then let go


async def test_an_invalid_subscription_errors_for_every_socket_and_frees_the_id(
    settings: Settings, db: None
) -> None:
    story = await factories.make_article(title="Second try", published_at=clock.utcnow())
    invalid = "subscription { feedEvents { noSuchField } }"
    async with (
        serve_app(settings) as (address, app),
        _connected(address) as first,
        _connected(address) as second,
    ):
        view, broker = _view(app), _broker(app)
        await _subscribe(first, "a", invalid)
        await _subscribe(second, "b", invalid)
        errors = [await _receive(first), await _receive(second)]
        assert [(error["type"], error["id"]) for error in errors] == [
            ("error", "a"),
            ("error", "b"),
        ]
        assert "noSuchField" in errors[0]["payload"][0]["message"]
        await _until(lambda: view.fanout.streams == 0 and broker.subscribers == 0, "freed")

        await _subscribe(first, "a")  # the id is free again
        await _until(lambda: view.fanout.subscriptions == 1, "subscribed again")
        await broker.publish(_published(story))
        event = await _receive(first)

    assert event["id"] == "a" and event["payload"]["data"]["feedEvents"]["content"]["title"] == (
        "Second try"
    )
