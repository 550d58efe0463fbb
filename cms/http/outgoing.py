"""A WebSocket's messages on their way out: queued without waiting, written in order by
the socket's own task. Whoever queues a message (a subscription's fan-out, the protocol
handler) never waits for the client to read; a client that stops reading while more
than the bound is queued is dropped (closed with 4429) instead of being waited for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["TOO_MANY_REQUESTS", "Outgoing"]

log = logging.getLogger(__name__)
# The close code for "too many": Strawberry closes a second connection_init with it too.
TOO_MANY_REQUESTS = 4429


class Outgoing:
    """One socket's outgoing queue and the task that writes it."""

    def __init__(self, websocket: WebSocket, *, limit: int) -> None:
        self._websocket = websocket
        self._limit = limit
        self._pending: deque[str] = deque()
        self._wake = asyncio.Event()
        self._close: tuple[int, str] | None = None
        self._task: asyncio.Task[None] | None = None
        self.on_drop: Callable[[], None] | None = None
        self.dropped = False

    @property
    def open(self) -> bool:
        """Whether messages queued now will be sent (no close is under way)."""
        return self._close is None

    def send(self, text: str) -> bool:
        """Queue `text` (one message); False when it will not be sent. Never waits."""
        if self._close is not None:
            return False
        if len(self._pending) >= self._limit:
            self.drop()
            return False
        self._pending.append(text)
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._write(), name="newsdesk-ws-writer")
        return True

    def drop(self) -> None:
        """Give up on a reader that does not keep up: forget what waits for it, close it
        with 4429 as soon as the socket takes a frame, and tell the owner (on_drop)."""
        if self.dropped:
            return
        self.dropped = True
        self._pending.clear()
        log.warning("dropped a WebSocket reader %d messages behind", self._limit)
        reason = f"Too slow: more than {self._limit} messages waited to be read"
        self.close(TOO_MANY_REQUESTS, reason)
        if self.on_drop is not None:
            self.on_drop()

    def close(self, code: int, reason: str) -> None:
        """Close the socket once what is queued has been written."""
        if self._close is not None:
            return
        self._close = (code, reason)
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._write(), name="newsdesk-ws-writer")

    async def closed(self) -> None:
        """Wait until the close has been sent (or the socket is gone)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    async def stop(self) -> None:
        """The connection is over: stop writing and free the queue."""
        self._pending.clear()
        self._close = self._close or (1000, "")
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _write(self) -> None:
        websocket = self._websocket
        try:
            while True:
                while self._pending:
                    await websocket.send_text(self._pending.popleft())
                if self._close is not None:
                    if websocket.application_state is WebSocketState.CONNECTED:
                        code, reason = self._close
                        await websocket.close(code=code, reason=reason)
                    return
                self._wake.clear()
                await self._wake.wait()
        except (WebSocketDisconnect, OSError, RuntimeError):
            # The client went away (uvicorn raises ClientDisconnected, an OSError, which
            # Starlette turns into WebSocketDisconnect; RuntimeError once it is closed).
            self._pending.clear()
