"""A worker's way out on SIGTERM: readiness first, then sockets, then uvicorn's own stop.

uvicorn on SIGTERM stops accepting, waits for requests in flight (up to
CMS_SHUTDOWN_SECONDS: `timeout_graceful_shutdown`), then runs the lifespan's shutdown.
Two things it does not do well for a newsroom's readers:

- an open WebSocket gets uvicorn's close code 1012 ("service restart") only once the
  server is already stopping, and the subscription's own stream is torn down after that;
  clients such as graphql-ws treat 1001 ("going away") as the signal to reconnect
  elsewhere at once, so every subscription socket is closed with 1001 first;
- a load balancer polling /readyz learns of the stop only when connections are refused.

So the process's SIGTERM and SIGINT handlers (uvicorn's `Server.handle_exit`, installed
before the lifespan starts) are wrapped while the app runs: the signal marks the worker as
leaving (/readyz answers 503 from that moment, new WebSockets are closed with 1001), closes
every open subscription socket with 1001 and waits (briefly) for those close frames, keeps
serving for CMS_SHUTDOWN_DRAIN_SECONDS after a SIGTERM, and only then hands the signal to
uvicorn. A second signal goes to uvicorn at once (a second Ctrl-C still forces the exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import weakref
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import uvicorn

from cms.http.outgoing import Outgoing

__all__ = ["GOING_AWAY", "GOING_AWAY_REASON", "Shutdown"]

log = logging.getLogger(__name__)
# RFC 6455: "an endpoint is going away, such as a server going down".
GOING_AWAY = 1001
GOING_AWAY_REASON = "Server shutting down: reconnect"
# The most time spent waiting for the sockets' close frames before uvicorn takes over.
SOCKETS_CLOSE_SECONDS = 2.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)

Handler = Callable[[int, FrameType | None], Any]


class Shutdown:
    """Whether this worker is leaving, and the subscription sockets it must close then."""

    def __init__(self, *, drain_seconds: float = 0.0) -> None:
        self.drain_seconds = drain_seconds
        self.begun = False
        self._handed_over = False  # uvicorn was told (by our signal handler)
        # Each open socket's outgoing queue; a finished socket drops out by itself.
        self._sockets: weakref.WeakSet[Outgoing] = weakref.WeakSet()

    def watch(self, outgoing: Outgoing) -> None:
        """A socket opened: close it with 1001 when the worker leaves (at once if it has)."""
        self._sockets.add(outgoing)
        if self.begun:
            outgoing.close(GOING_AWAY, GOING_AWAY_REASON)

    def begin(self) -> None:
        """The worker is leaving: not ready any more, every subscription socket closing."""
        if not self.begun:
            self.begun = True
            log.info("shutting down: /readyz answers 503 from now on")
        self._close_sockets()

    def _close_sockets(self) -> None:
        for outgoing in list(self._sockets):
            outgoing.close(GOING_AWAY, GOING_AWAY_REASON)

    async def sockets_closed(self, timeout: float = SOCKETS_CLOSE_SECONDS) -> None:
        """Wait until the close frames are written (or `timeout` has passed)."""
        waits = [outgoing.closed() for outgoing in list(self._sockets)]
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), timeout)

    @contextlib.contextmanager
    def intercepting_signals(self) -> Iterator[None]:
        """While the app runs under uvicorn in this thread, learn of SIGTERM and SIGINT
        before uvicorn does. Anywhere else (tests driving the app in process, a server
        in another thread) nothing is wrapped: the lifespan's end still calls `begin`."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        wrapped: dict[signal.Signals, Handler] = {}
        for sig in SIGNALS:
            previous = signal.getsignal(sig)
            if callable(previous) and isinstance(
                getattr(previous, "__self__", None), uvicorn.Server
            ):
                wrapped[sig] = previous
                signal.signal(sig, self._handler(loop, previous))
        try:
            yield
        finally:
            for number, handler in wrapped.items():
                signal.signal(number, handler)

    def _handler(self, loop: asyncio.AbstractEventLoop, uvicorn_exit: Handler) -> Handler:
        tasks: set[asyncio.Task[None]] = set()

        def hand_over(sig: int, frame: FrameType | None) -> None:
            self._handed_over = True
            uvicorn_exit(sig, frame)

        def finish(sig: int) -> None:
            if not self._handed_over:
                hand_over(sig, None)

        def leave(sig: int, frame: FrameType | None) -> None:
            # A signal handler runs between two bytecodes of whatever the loop was doing:
            # it only flips the flag /readyz reads and queues the rest on the loop.
            if self.begun:
                hand_over(sig, frame)  # a second signal: uvicorn decides (force on SIGINT)
                return
            self.begun = True

            def start() -> None:
                task = loop.create_task(self._leave(sig), name="newsdesk-shutdown")
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                task.add_done_callback(lambda _: finish(sig))

            loop.call_soon_threadsafe(start)

        return leave

    async def _leave(self, sig: int) -> None:
        """Sockets first, then (on SIGTERM) the drain; uvicorn is told once this is over."""
        log.info("shutting down: /readyz answers 503, closing %d socket(s)", len(self._sockets))
        self._close_sockets()
        await self.sockets_closed()
        if sig == signal.SIGTERM and self.drain_seconds > 0:
            log.info("draining for %g s before refusing connections", self.drain_seconds)
            await asyncio.sleep(self.drain_seconds)
