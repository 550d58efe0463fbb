"""What the rate limits add to a request, in process: the middleware in front of an ASGI
app that answers at once, against that app alone (no server, no client, no GraphQL).

    python -m bench.rate_limit_cost

Prints CPU microseconds per request for each case, less the bare app's time. In memory only:
with CMS_REDIS_URL each request also makes one round trip to Redis (EVALSHA).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from cms.http.rate_limits import RateLimitMiddleware, RateLimits

ROUNDS = 100_000
REPEATS = 5
BIG = (10**9, 60.0)  # never refused: the cost of a request that passes


async def _bare(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


def _scope(address: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/graphql",
        "headers": [(b"host", b"news.example"), (b"accept", b"application/json"), *headers],
        "client": (address, 50000),
    }


async def _per_request(app: Callable[..., Any], scopes: list[dict[str, Any]]) -> float:
    """CPU microseconds per request, the best of REPEATS runs (CPU time: other
    processes on the machine do not count)."""
    count = len(scopes)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        for index in range(ROUNDS):
            await app(scopes[index % count], _receive, _send)
        best = min(best, (time.process_time() - start) / ROUNDS * 1e6)
    return best


async def main() -> None:
    addresses = [_scope(f"10.0.{n // 250}.{n % 250}") for n in range(1000)]
    tokens = [_scope("10.0.0.1", (b"authorization", b"Bearer ndk_%043d" % n)) for n in range(100)]
    forwarded = [
        _scope("10.9.9.9", (b"x-forwarded-for", f"203.0.113.{n % 250}, 10.9.9.8".encode()))
        for n in range(1000)
    ]
    feed_only = [{**_scope("10.0.0.1"), "path": "/healthz"}]
    plain = RateLimits(address=BIG, token=BIG)
    proxied = RateLimits(address=BIG, token=BIG, trusted_proxies=_networks("10.9.0.0/16"))
    bare = await _per_request(_bare, addresses)
    cases = {
        "by address (1,000 addresses)": (RateLimitMiddleware(_bare, limits=plain), addresses),
        "by token (100 tokens)": (RateLimitMiddleware(_bare, limits=plain), tokens),
        "by X-Forwarded-For (trusted proxy)": (
            RateLimitMiddleware(_bare, limits=proxied),
            forwarded,
        ),
        "a path without limits (/healthz)": (RateLimitMiddleware(_bare, limits=plain), feed_only),
    }
    print(f"bare app: {bare:.2f} µs per request (best of {REPEATS} x {ROUNDS:,} requests)")
    for name, (app, scopes) in cases.items():
        cost = await _per_request(app, scopes)
        print(f"{name}: +{cost - bare:.2f} µs per request")


def _networks(text: str) -> Any:
    from cms.config import Settings

    return Settings(trusted_proxies=text).trusted_proxy_networks


if __name__ == "__main__":
    asyncio.run(main())
