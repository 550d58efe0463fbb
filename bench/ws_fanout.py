"""Subscriptions under load, against a real `cms serve` (one worker, SQLite in a temporary
directory): SOCKETS WebSockets with PER_SOCKET feedEvents subscriptions each, one publish,
`/healthz` latency while the event goes out, and the server's RSS before, while
subscribed and after every socket has closed.

    PYTHONPATH=$PWD .venv/bin/python -m bench.ws_fanout [--sockets 200] [--per-socket 10]
        [--shapes 1]   # distinct subscription documents per socket (an alias apart)
        [--rounds 3]   # open, subscribe and close that many times (RSS after each)

Not a test and not part of `make bench`: the numbers are for reading, not asserting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBSCRIBE = "subscription { feedEvents { type contentId content { __typename title status } } }"
CREATE = """
mutation { createArticle(input: {title: "Fan-out", body: "Some *text*."}) {
  __typename ... on Article { id } } }
"""
COMPRESSION = os.environ.get("WS_COMPRESSION", "deflate") or None
POLLER = """
import json, signal, sys, time
import httpx
samples = []
signal.signal(signal.SIGTERM, lambda *_: (print(json.dumps(samples)), sys.exit(0)))
with httpx.Client(base_url=sys.argv[1], timeout=120) as http:
    while True:
        at = time.time()
        http.get("/healthz")
        samples.append((at, (time.time() - at) * 1000))
        time.sleep(0.005)
"""
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _open(url: str, per_socket: int, shapes: int) -> ClientConnection:
    ws = await connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None,
        compression=COMPRESSION,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    for n in range(per_socket):
        # `shapes` distinct documents (an alias apart), every one of which hears the event.
        query = SUBSCRIBE.replace("contentId", f"contentId shape{n % shapes}: __typename")
        message = {"id": str(n), "type": "subscribe", "payload": {"query": query}}
        await ws.send(json.dumps(message))
    return ws


async def _measure(args: argparse.Namespace, base: str, pid: int, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        created = (await http.post("/graphql", json={"query": CREATE}, headers=headers)).json()
        item = created["data"]["createArticle"]["id"]
        await asyncio.sleep(1)  # the dispatcher sends the creation's event before anyone listens
        rss_before = _rss_mb(pid)
        url = base.replace("http", "ws") + "/graphql"
        sockets = [await _open(url, args.per_socket, args.shapes) for _ in range(args.sockets)]
        await asyncio.sleep(1)
        rss_subscribed = _rss_mb(pid)
        expected = args.sockets * args.per_socket

        received = 0
        done = asyncio.Event()

        async def listen(ws: ClientConnection) -> None:
            nonlocal received
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "next":
                    received += 1
                    if received == expected:
                        done.set()

        listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
        # /healthz from another process, so this one's busy loop (2,000 messages to
        # read) is not counted as the server's latency.
        poller = subprocess.Popen(
            [sys.executable, "-c", POLLER, base], stdout=subprocess.PIPE, text=True
        )
        await asyncio.sleep(1.0)
        published_at = time.time()
        published = time.perf_counter()
        await http.post(
            "/graphql", json={"query": PUBLISH, "variables": {"id": item}}, headers=headers
        )
        await asyncio.wait_for(done.wait(), 120)
        delivered_s = time.perf_counter() - published
        delivered_at = time.time()
        await asyncio.sleep(0.5)
        poller.terminate()
        samples = json.loads(poller.communicate()[0])
        latencies = [
            ms for at, ms in samples if at + ms / 1000 >= published_at and at <= delivered_at
        ]
        for task in listeners:
            task.cancel()
        for ws in sockets:
            await ws.close()
        await asyncio.sleep(2)
        rss_closed = [_rss_mb(pid)]
        for _ in range(args.rounds - 1):  # again: memory is reused, not leaked
            sockets = [await _open(url, args.per_socket, args.shapes) for _ in range(args.sockets)]
            await asyncio.sleep(1)
            for ws in sockets:
                await ws.close()
            await asyncio.sleep(2)
            rss_closed.append(_rss_mb(pid))
    return {
        "subscriptions": args.sockets * args.per_socket,
        "events delivered": received,
        "publish to last event (s, includes the dispatcher's 0.25 s poll)": round(delivered_s, 3),
        "/healthz during (ms) median / max": (
            round(statistics.median(latencies), 1),
            round(max(latencies), 1),
        ),
        "/healthz samples": len(latencies),
        "RSS MB before / subscribed": (round(rss_before, 1), round(rss_subscribed, 1)),
        "RSS MB after closing, each round": [round(rss, 1) for rss in rss_closed],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--per-socket", type=int, default=10)
    parser.add_argument("--shapes", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = os.environ | {
            "CMS_DATABASE_URL": f"sqlite://{tmp}/cms.sqlite3",
            "CMS_MEDIA_DIR": f"{tmp}/media",
            "CMS_MAX_CONNECTIONS_PER_CLIENT": str(args.sockets + 10),
            "CMS_MAX_SUBSCRIPTIONS_PER_CONNECTION": str(args.per_socket),
            "CMS_ACCESS_LOG": "false",
        }
        cms = [sys.executable, "-m", "cms"]
        subprocess.run([*cms, "migrate"], env=env, check=True, capture_output=True)
        made = subprocess.run(
            [*cms, "token", "create", "--name", "bench", "--role", "editor"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        token = made.stdout.strip().splitlines()[-1]
        server = subprocess.Popen(
            [*cms, "serve", "--port", str(port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                time.sleep(0.05)
            result = asyncio.run(_measure(args, base, server.pid, token))
        finally:
            server.terminate()
            server.wait(10)
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
