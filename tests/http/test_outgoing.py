"""A socket's outgoing queue (cms.http.outgoing) on a real socket: a Starlette endpoint
under uvicorn in the test's loop, a real WebSocket client on the other end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cms.http.outgoing import TOO_MANY_REQUESTS, Outgoing
from tests.realtime import WAIT, free_port

Endpoint = Callable[[WebSocket], Awaitable[None]]


@contextlib.asynccontextmanager
async def _served(endpoint: Endpoint) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """The endpoint behind ws://…/ws; yields the address and an event set when it returns
    (whatever it raised is re-raised here, at the end)."""
    finished = asyncio.Event()
    failures: list[BaseException] = []

    async def wrapped(websocket: WebSocket) -> None:
        try:
            await endpoint(websocket)
        except BaseException as error:
            failures.append(error)
            raise
        finally:
            finished.set()

    app = Starlette(routes=[WebSocketRoute("/ws", wrapped)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}", finished
    finally:
        server.should_exit = True
        await task
    assert not failures, failures


async def _close_of(ws: ClientConnection) -> tuple[list[str | bytes], int, str]:
    """What the server sent before closing, and its close code and reason."""
    received: list[str | bytes] = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            received.append(await asyncio.wait_for(ws.recv(), WAIT))
    assert closed.value.rcvd is not None, "no close frame"
    return received, closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_queue_past_its_bound_is_dropped_once_and_takes_nothing_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[bool] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        outgoing = Outgoing(websocket, limit=2)
        # Queued without waiting: the writer has not run yet, so the third is one too many.
        answers.extend([outgoing.send("a"), outgoing.send("b"), outgoing.send("c")])
        outgoing.drop()  # a second drop changes nothing
        answers.append(outgoing.send("late"))  # a close is under way: refused
        outgoing.close(1000, "a second close is ignored")
        answers.append(outgoing.open)
        await outgoing.closed()

    with caplog.at_level(logging.WARNING, logger="cms.http.outgoing"):
        async with (
            _served(endpoint) as (address, finished),
            connect(f"ws://{address}/ws") as ws,
        ):
            received, code, reason = await _close_of(ws)
            await asyncio.wait_for(finished.wait(), WAIT)

    assert answers == [True, True, False, False, False]
    assert received == []  # what waited for the slow reader was forgotten
    assert code == TOO_MANY_REQUESTS
    assert reason == "Too slow: more than 2 messages waited to be read"
    drops = [r for r in caplog.records if "dropped a WebSocket reader" in r.getMessage()]
    assert len(drops) == 1


async def test_a_close_is_sent_after_what_was_queued_before_it() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        outgoing = Outgoing(websocket, limit=10)
        await outgoing.closed()  # nothing written yet: returns at once
        outgoing.send("first")
        outgoing.send("second")
        outgoing.close(4000, "done")
        await outgoing.closed()

    async with _served(endpoint) as (address, finished), connect(f"ws://{address}/ws") as ws:
        received, code, reason = await _close_of(ws)
        await asyncio.wait_for(finished.wait(), WAIT)

    assert received == ["first", "second"]
    assert (code, reason) == (4000, "done")


async def test_a_close_on_a_socket_the_app_already_closed_is_not_sent_twice() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        outgoing = Outgoing(websocket, limit=10)
        await websocket.close(code=4001, reason="closed by the app")
        outgoing.close(4002, "too late")
        await outgoing.closed()  # no error: the socket is already closed

    async with _served(endpoint) as (address, finished), connect(f"ws://{address}/ws") as ws:
        received, code, reason = await _close_of(ws)
        await asyncio.wait_for(finished.wait(), WAIT)

    assert received == []
    assert (code, reason) == (4001, "closed by the app")


async def test_a_reader_that_went_away_ends_the_writer_quietly() -> None:
    written: list[bool] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        outgoing = Outgoing(websocket, limit=10)
        message = await websocket.receive()  # the client leaves
        assert message["type"] == "websocket.disconnect"
        written.append(outgoing.send("nobody reads this"))
        await outgoing.closed()  # the writer ends without raising
        written.append(outgoing.open)
        await outgoing.stop()

    async with _served(endpoint) as (address, finished):
        async with connect(f"ws://{address}/ws"):
            pass
        await asyncio.wait_for(finished.wait(), WAIT)

    assert written == [True, True]  # queued, then quietly not written; nothing raised
