"""A real webhook receiver on 127.0.0.1 that can hold its answers: each request waits
until the test releases it (a receiver that stalls), then answers 200."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["HoldingReceiver", "holding_receiver"]


@dataclass
class HoldingReceiver:
    url: str = ""
    delay: float = 0.0  # seconds each answer waits, besides the hold
    release: threading.Event = field(default_factory=threading.Event)
    received: list[str] = field(default_factory=list)  # webhook-id of each request, on arrival
    answered: list[str] = field(default_factory=list)  # ... once answered
    peers: list[str] = field(default_factory=list)  # the sender's address:port of each

    def hold(self) -> None:
        self.release.clear()

    async def receive(self, request: Request) -> Response:
        await request.body()
        message_id = request.headers.get("webhook-id", "")
        self.received.append(message_id)
        client = request.client
        self.peers.append(f"{client.host}:{client.port}" if client else "")
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(self.delay)
        self.answered.append(message_id)
        return Response(status_code=200)

    async def wait_received(self, count: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} received"
            await asyncio.sleep(0.02)


@contextmanager
def holding_receiver(*, held: bool = True, delay: float = 0.0) -> Iterator[HoldingReceiver]:
    """A receiver under uvicorn in a thread; `held`: its requests wait for `release`."""
    found = HoldingReceiver(delay=delay)
    if not held:
        found.release.set()
    app = Starlette(routes=[Route("/hooks", found.receive, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", ws="none", http="h11", log_level="error",
        timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    found.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield found
    finally:
        found.release.set()
        server.should_exit = True
        thread.join(timeout=10)
