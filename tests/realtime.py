"""Real-time test helpers: an app under uvicorn in the test's event loop (so it shares
the test database), a graphql-transport-ws client, and waiting for the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from cms.config import Settings
from cms.http.app import create_app
from cms.models import OutboxEvent

SUBSCRIBE = """
subscription($sections: [String!], $kinds: [ContentKind!]) {
  feedEvents(sections: $sections, kinds: $kinds) {
    type contentId at content { __typename title status }
  }
}
"""
WAIT = 3.0  # seconds; events arrive within the dispatcher's poll (0.25 s)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


async def post(address: str, query: str, token: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1; yields "host:port"."""
    async with serve_app(settings) as (address, _):
        yield address


SHUTDOWN_SECONDS = 60


@contextlib.asynccontextmanager
async def serve_app(settings: Settings) -> AsyncIterator[tuple[str, Starlette]]:
    """`serve`, yielding the app as well (its broker, its GraphQL view)."""
    port = free_port()
    app = create_app(settings, manage_database=False)
    # A connection a test left open is closed after 5 s instead of holding the shutdown
    # (and the test run) forever; a shutdown that still hangs fails the test.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, SHUTDOWN_SECONDS)
        except TimeoutError:
            pytest.fail(f"the app did not shut down within {SHUTDOWN_SECONDS} s")
