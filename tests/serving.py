"""`cms serve` processes a test owns: started with the test's environment, waited for on
/readyz, signalled (SIGTERM, SIGKILL) by the test itself, always stopped at the end.

tests/live.py seeds a SQLite newsroom and stops its server for the test; the tests of
shutdown and of several workers need the process in hand instead."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.live import REPO_ROOT, cms

__all__ = ["Served", "base_env", "free_port", "served", "subscribe", "wait_until"]

START_SECONDS = 60  # a loaded CI machine (2 cores, several suites) starts slowly
SUBSCRIBE = "subscription { feedEvents { type contentId } }"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**settings: str) -> dict[str, str]:
    """This environment without any CMS_ setting of the caller's, plus `settings`, with
    the worktree importable (`python -m cms` runs this checkout, not an installed one)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CMS_")}
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH")) if part
    )
    env.update(CMS_ENV="development", CMS_ACCESS_LOG="false", **settings)
    return env


def wait_until(
    condition: Callable[[], bool], *, seconds: float, what: str, poll: float = 0.05
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(poll)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    port: int
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10, trust_env=False, **kwargs)

    def post(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
            trust_env=False,
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, (body, self.tail())
        return body

    def ready(self) -> bool:
        try:
            return self.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False


def _start(env: dict[str, str], workdir: Path, name: str, workers: int) -> Served:
    port = free_port()
    log = workdir / f"{name}.log"
    command = [sys.executable, "-m", "cms", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env={**env, "CMS_PUBLIC_URL": f"http://127.0.0.1:{port}"},
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Served(process=process, url=f"http://127.0.0.1:{port}", port=port, log=log)


def _stop(served: Served) -> None:
    """Whatever the test left running: SIGTERM, then SIGKILL; only this test's processes."""
    process = served.process
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def served(
    env: dict[str, str], workdir: Path, names: list[str], *, workers: int = 1
) -> Iterator[list[Served]]:
    """One `cms serve` per name, all on `env` (the database already migrated), ready."""
    started: list[Served] = []
    try:
        for name in names:
            started.append(_start(env, workdir, name, workers))
        for server in started:
            deadline = time.monotonic() + START_SECONDS
            while not server.ready():
                if server.process.poll() is not None:
                    pytest.fail(f"`cms serve` exited {server.process.returncode}:\n{server.tail()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"`cms serve` not ready within {START_SECONDS} s:\n{server.tail()}")
                time.sleep(0.1)
        yield started
    finally:
        for server in started:
            _stop(server)


def migrate(env: dict[str, str], workdir: Path) -> None:
    cms(["migrate"], env=env, cwd=workdir)


def token(env: dict[str, str], workdir: Path, name: str, role: str) -> str:
    created = cms(["token", "create", "--name", name, "--role", role], env=env, cwd=workdir)
    return created.strip().splitlines()[-1].strip()


async def subscribe(server: Served, query: str = SUBSCRIBE) -> ClientConnection:
    """A graphql-transport-ws connection to `server` with one acknowledged subscription."""
    ws = await connect(
        f"ws://127.0.0.1:{server.port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws
