"""A live `cms serve` in its own process group, on a fresh SQLite database with the demo
newsroom and an editor token: what a user runs, over real HTTP (uvicorn, not ASGI in-process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_START_SECONDS = 30
COMMAND_TIMEOUT_SECONDS = 120

__all__ = ["LiveServer", "cms", "run_live_server"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    token: str
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def cms(args: list[str], *, env: dict[str, str], cwd: Path) -> str:
    """Run a `cms` command; its stdout, or the test fails with its output."""
    command = [sys.executable, "-m", "cms", *args]
    done = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"`cms {' '.join(args)}` exited {done.returncode}:\n{_tail(done.stdout + done.stderr)}"
        )
    return done.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def run_live_server(
    workdir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    set_public_url: bool = True,
) -> Iterator[LiveServer]:
    """Seed the demo, create an editor token, serve, wait for /healthz; stop at the end.
    With `set_public_url=False`, CMS_PUBLIC_URL is left unset, as after a plain `make serve`."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CMS_")}
    env.update(
        CMS_DATABASE_URL=f"sqlite://{workdir / 'cms.sqlite3'}",
        CMS_MEDIA_DIR=str(workdir / "media"),
        CMS_ENV="development",
        PYTHONPATH=os.pathsep.join(
            part for part in (str(REPO_ROOT), env.get("PYTHONPATH")) if part
        ),
        **(extra_env or {}),
    )
    if set_public_url:
        env.setdefault("CMS_PUBLIC_URL", url)
    cms(["migrate"], env=env, cwd=workdir)
    cms(["seed", "--demo"], env=env, cwd=workdir)
    created = cms(
        ["token", "create", "--name", "live-test", "--role", "editor"], env=env, cwd=workdir
    )
    token = created.strip().splitlines()[-1].strip()

    log = workdir / "serve.log"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cms", *serve],
            env=env,
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"`cms serve` exited {process.returncode}:\n{_tail(log.read_text())}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"`cms serve` did not answer {url}/healthz within {SERVER_START_SECONDS} s:\n"
                    + _tail(log.read_text())
                )
            time.sleep(0.2)
        yield LiveServer(url=url, token=token, log=log)
    finally:
        _stop(process)
