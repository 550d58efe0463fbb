"""A small HTTP/1.1 load generator, for machines without wrk: keep-alive connections on
one asyncio loop, each sending its next request when the last answer is in (as wrk does).

    python -m bench.loadgen --url http://127.0.0.1:P --spec FILE --seconds 10 --connections 16

It prints the same `BENCH {...}` summary line as bench/load.py's wrk script.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["main"]


@dataclass
class _Tally:
    latencies_us: list[float] = field(default_factory=list)
    errors: int = 0
    non_2xx: int = 0


def _requests(spec: dict[str, Any], host: str) -> list[bytes]:
    """The raw requests of `spec` ({"method", "requests": [[path, body or null]], "headers"}),
    in rotation order."""
    method, headers = str(spec["method"]), dict(spec.get("headers") or {})
    made = []
    for path, text in spec["requests"]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        body = b"" if text is None else str(text).encode()
        if text is not None:
            head += f"Content-Length: {len(body)}\r\n"
        made.append(head.encode() + b"\r\n" + body)
    return made


async def _read_response(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    turns: Iterator[int],
    deadline: float,
    tally: _Tally,
) -> None:
    """One keep-alive connection; each request is the next of the rotation shared by
    every connection (as wrk's one thread hands them out)."""
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            tally.errors += 1
            await asyncio.sleep(0.01)
            continue
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(requests[next(turns) % len(requests)])
                status = await _read_response(reader)
                tally.latencies_us.append((time.perf_counter() - started) * 1e6)
                tally.non_2xx += not 200 <= status < 400
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.errors += 1
        finally:
            writer.close()


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def _run(url: str, spec: dict[str, Any], seconds: float, connections: int) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = _requests(spec, f"{host}:{port}")
    tally = _Tally()
    turns = itertools.count()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(host, port, requests, turns, deadline, tally) for _ in range(connections))
    )
    duration = time.perf_counter() - started
    ordered = sorted(tally.latencies_us)
    summary = {
        "requests": len(ordered),
        "duration_us": duration * 1e6,
        "p50_us": _percentile(ordered, 0.50),
        "p99_us": _percentile(ordered, 0.99),
        "errors": tally.errors,
        "non_2xx": tally.non_2xx,
        "latency_us": sorted(Counter(round(latency) for latency in ordered).items()),
    }
    print("BENCH " + json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text())
    run = _run(args.url, spec, args.seconds, args.connections)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run)
    else:
        uvloop.run(run)


if __name__ == "__main__":
    main()
