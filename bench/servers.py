"""Servers under test: a subprocess pinned to one core, ready once /healthz answers."""

from __future__ import annotations

import os
import shutil
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

__all__ = ["REPO_ROOT", "Server", "base_env", "pinned", "serve"]

REPO_ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60


def pinned(command: list[str], core: int) -> list[str]:
    """`command` run on one CPU core (taskset execs, so the pid stays the command's)."""
    if shutil.which("taskset") is None:
        return command
    return ["taskset", "-c", str(core), *command]


def base_env(database_url: str, work_dir: Path) -> dict[str, str]:
    """The environment every server shares: this process's, less any CMS_ settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CMS_")}
    env.update(
        CMS_DATABASE_URL=database_url,
        CMS_AUTO_MIGRATE="false",
        CMS_ENV="production",
        CMS_GRAPHIQL="false",
        CMS_MEDIA_DIR=str(work_dir / "media"),
        CMS_PUBLIC_URL="https://newsroom.example",
        # Thousands of requests a second from one address: no rate limits here.
        CMS_RATE_LIMIT="off",
        CMS_TOKEN_RATE_LIMIT="off",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pid(self) -> int:
        """The uvicorn worker: the process itself (one worker runs in-process), or its
        first child if it ever forks workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        return int(pids[0]) if pids else self.process.pid

    def rss_mb(self) -> float:
        """VmRSS of the worker, in MB."""
        for line in Path(f"/proc/{self.worker_pid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"{self.name}: no VmRSS for pid {self.worker_pid()}")

    def cpu_seconds(self) -> float:
        """User and system CPU time the worker has used so far (all its threads)."""
        fields = Path(f"/proc/{self.worker_pid()}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, *, timeout: float = 180.0) -> None:
        """Wait until the worker stops working off requests that a finished load left
        queued, so that they do not slow the next figure down (every server shares core 0)."""
        deadline = time.monotonic() + timeout
        used = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            used, before = self.cpu_seconds(), used
            if used - before < 0.05:  # under 10% of a core: idle but for housekeeping
                return

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited {server.process.returncode}:\n{server.tail()}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"{server.name} did not answer /healthz in {START_SECONDS} s:\n{server.tail()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def serve(
    name: str, program: list[str], env: dict[str, str], *, log_dir: Path, core: int = 0
) -> Iterator[Server]:
    """Run `python -m <program> --host 127.0.0.1 --port P` pinned to `core`, until exit."""
    port = _free_port()
    log = log_dir / f"{name.lower().replace(' ', '-')}.log"
    command = [sys.executable, "-m", *program, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            pinned(command, core),
            env=env,
            cwd=log_dir,  # away from the repository's .env
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)
