"""SIGTERM to a real `cms serve`: the request in flight finishes, /readyz answers 503 from
the first moment, an open subscription hears close code 1001 ("going away"), a socket
opened meanwhile too, and the process exits 0 well within its grace period."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests import serving

QUERY = b'{"query": "{ sections { slug } }"}'
DRAIN_SECONDS = 3  # long enough for the test to see /readyz at 503 on a loaded machine
SHUTDOWN_SECONDS = 20
WAITING = "Waiting for connections to close"


def _refused(port: int) -> bool:
    """Whether the worker stopped accepting (uvicorn's own shutdown has begun)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def _workers(server: serving.Served) -> int:
    args = server.process.args
    assert isinstance(args, list)
    return int(args[args.index("--workers") + 1])


def _readyz_status(server: serving.Served) -> int | None:
    try:
        return server.get("/readyz").status_code
    except Exception:  # refused, reset: not an answer
        return None


async def _close_code(ws: ClientConnection, seconds: float = 10) -> int | None:
    """The close code the server sent, once it closes (messages before it are skipped)."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(SHUTDOWN_SECONDS)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[serving.Served]:
    """`cms serve` alone, or as uvicorn's supervisor of two worker processes (as each
    compose replica runs): SIGTERM goes to the process a container runs, and no other."""
    env = serving.base_env(
        CMS_DATABASE_URL=f"sqlite://{tmp_path / 'cms.sqlite3'}",
        CMS_MEDIA_DIR=str(tmp_path / "media"),
        CMS_SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS),
        CMS_SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS),
    )
    serving.migrate(env, tmp_path)
    with serving.served(env, tmp_path, ["worker"], workers=request.param) as [server]:
        yield server


async def test_sigterm_finishes_requests_closes_sockets_and_exits_0(
    worker: serving.Served,
) -> None:
    ready = worker.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "database": "up"})
    ws = await serving.subscribe(worker)
    # A request in flight: its headers and half its body sent, the rest held back.
    slow = socket.create_connection(("127.0.0.1", worker.port), timeout=10)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(QUERY)}\r\n\r\n"
    ).encode()
    half = len(QUERY) // 2
    slow.sendall(head + QUERY[:half])
    time.sleep(0.2)  # the server has read the head: the request is in flight

    worker.process.send_signal(signal.SIGTERM)

    assert await _close_code(ws) == 1001, worker.tail()
    serving.wait_until(
        lambda: _readyz_status(worker) in (503, None), seconds=10, what="/readyz left 200"
    )
    during = worker.get("/readyz")  # still accepting: the drain
    assert (during.status_code, during.json()) == (503, {"status": "shutting down"})
    late = await connect(
        f"ws://127.0.0.1:{worker.port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    assert await _close_code(late) == 1001  # a socket opened while leaving is sent away
    # uvicorn's own shutdown has begun: it waits for the request in flight.
    serving.wait_until(
        lambda: WAITING in worker.log.read_text(), seconds=SHUTDOWN_SECONDS, what=WAITING
    )
    if _workers(worker) == 1:  # (a supervisor keeps the listening socket until it exits)
        assert _refused(worker.port), "new connections are refused"
    assert worker.process.poll() is None, "the worker must wait for the request in flight"

    slow.sendall(QUERY[half:])
    response = _read_response(slow)
    slow.close()

    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", response[:500]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["data"] == {"sections": []}
    try:
        code = worker.process.wait(timeout=SHUTDOWN_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not exit:\n{worker.tail()}")
    assert code == 0, worker.tail()
    log = worker.log.read_text()
    assert "Traceback" not in log, worker.tail()
