"""A `redis-server` of a test's own, on a free port of 127.0.0.1, that the test may stop
and start again on the same port (never the machine's shared Redis)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

__all__ = ["RedisServer", "redis_server"]

START_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start it (empty: nothing saved, nothing appended) and wait until it answers."""
        assert not self.running
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_SECONDS
        while True:
            if self._process.poll() is not None:
                pytest.fail(f"redis-server exited {self._process.returncode} on {self.port}")
            try:
                with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server on {self.port} did not answer")
                time.sleep(0.05)

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections stay open, nothing answers, nothing is lost."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Terminate it and wait for it to go."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self.resume()  # a paused server would not act on SIGTERM
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def keys(self, pattern: str) -> list[str]:
        with redis.Redis.from_url(self.url, socket_timeout=1) as client:
            return sorted(key.decode() for key in client.scan_iter(match=pattern))


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own, running; stopped at the end whatever the test did."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("these tests start their own Redis: redis-server is not installed")
    server = RedisServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()
