"""What the access line and the per-request metrics add to a request, in process: the
middleware (cms.http.access) in front of an ASGI app that answers at once and names a
GraphQL operation, against that app alone (no server, no client, no GraphQL).

    python -m bench.access_cost

Prints CPU microseconds per request for each case, less the bare app's time: metrics only
(CMS_ACCESS_LOG=false), then with a JSON and a text access line written to /dev/null.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import time
from typing import Any

from cms import logs
from cms.http import access
from cms.http.metrics import Metrics

ROUNDS = 50_000
REPEATS = 5


async def _bare(scope: Any, receive: Any, send: Any) -> None:
    exchange = access.current()
    if exchange is not None:  # what the view notes for a GraphQL read
        exchange.note_operation("FrontPage", "query")
        exchange.role = "anonymous"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "GET",
    "path": "/graphql",
    "root_path": "",
    "query_string": b"",
    "headers": [],
}


async def _cpu_per_request(app: Any) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(ROUNDS):
            await app(dict(SCOPE), _receive, _send)
        best = min(best, (time.process_time() - started) / ROUNDS)
    return best * 1e6


def _log_to_null(log_format: str) -> None:
    config = logs.config(log_format)  # type: ignore[arg-type]
    config["handlers"]["default"]["stream"] = open(os.devnull, "w")
    logging.config.dictConfig(config)


async def main() -> None:
    bare = await _cpu_per_request(_bare)
    print(f"bare app: {bare:.1f} µs CPU per request")
    quiet = access.AccessMiddleware(_bare, Metrics(), log_requests=False)
    print(f"metrics only: +{await _cpu_per_request(quiet) - bare:.1f} µs")
    for log_format in ("json", "text"):
        _log_to_null(log_format)
        logged = access.AccessMiddleware(_bare, Metrics(), log_requests=True)
        print(f"metrics and a {log_format} line: +{await _cpu_per_request(logged) - bare:.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
