"""Rate limits per token and per client address (`CMS_RATE_LIMIT`, `CMS_TOKEN_RATE_LIMIT`).

A request that carries an Authorization header draws on its token's bucket (keyed by a
hash of the header: the token itself is never kept or logged); any other draws on its
client address's (`cms.http.client_address`; an IPv6 client by its /64, which one host
usually holds whole). Past the limit the answer is 429 with a GraphQL error body
(`RATE_LIMITED`), `Retry-After` and the RateLimit headers; every answer within it carries
the RateLimit headers too. A WebSocket handshake draws on its address's bucket and is
refused with 429 (or, where the server cannot answer a handshake with a response, accepted
and closed at once with 4429).

Made-up tokens must not buy fresh buckets: a request whose token is refused (401) is
charged to its address's bucket of refused tokens (the address policy), and while that
bucket is empty, requests with a token from that address are refused before they run.

The limits cover /graphql, the feeds and /ninjs/; /healthz, /metrics and media are free.
"""

from __future__ import annotations

import hashlib
import ipaddress
from functools import lru_cache

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms import clock as cms_clock
from cms.config import Settings
from cms.http.buckets import Clock, Decision, MemoryBuckets, Policy, RedisBuckets
from cms.http.client_address import Networks, client_address

__all__ = ["LIMITED_PATHS", "LIMITED_PREFIXES", "RateLimitMiddleware", "RateLimits"]

LIMITED_PATHS = frozenset({"/graphql", "/feed.xml", "/feed.json"})
LIMITED_PREFIXES = ("/ninjs/",)
GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"


class RateLimits:
    """The policies and where their buckets live (this process, or Redis when given)."""

    def __init__(
        self,
        *,
        address: tuple[int, float] | None,
        token: tuple[int, float] | None,
        trusted_proxies: Networks = (),
        redis_url: str | None = None,
        clock: Clock | None = None,
        max_buckets: int = 100_000,
    ) -> None:
        self.address = Policy("address", *address) if address else None
        self.token = Policy("token", *token) if token else None
        self.trusted_proxies = trusted_proxies
        limited = self.address is not None or self.token is not None
        now = clock or cms_clock.seconds  # a clock set back refills nothing
        self.shared = RedisBuckets(redis_url, clock=now) if redis_url and limited else None

        def buckets(policy: Policy | None) -> MemoryBuckets | None:
            if policy is None or self.shared is not None:
                return None
            return MemoryBuckets(policy, clock=now, max_buckets=max_buckets)

        self.by_address = buckets(self.address)
        self.refused_tokens = buckets(self.address)  # requests whose token was refused
        self.by_token = buckets(self.token)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            address=settings.address_rate,
            token=settings.token_rate,
            trusted_proxies=settings.trusted_proxy_networks,
            redis_url=settings.redis_url,
        )

    @property
    def enabled(self) -> bool:
        return self.address is not None or self.token is not None

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path not in LIMITED_PATHS and not path.startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        authorization = _authorization(scope) if scope["type"] == "http" else None
        if authorization is None:
            await self._by_address(scope, receive, send)
        else:
            await self._by_token(authorization, scope, receive, send)

    async def _by_address(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.limits
        if limits.address is None:
            await self.app(scope, receive, send)
            return
        key = _address_key(client_address(scope, limits.trusted_proxies))
        decision: Decision | None
        if limits.by_address is not None:
            decision = limits.by_address.take(key)
        else:
            assert limits.shared is not None
            decision = await limits.shared.take(limits.address, "a:" + key)
        if decision is not None and not decision.allowed:
            await _refuse(decision, scope, receive, send)
            return
        if decision is None or scope["type"] != "http":  # Redis failed; a WebSocket's 101
            await self.app(scope, receive, send)
            return
        extra = decision.headers()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _by_token(
        self, authorization: bytes, scope: Scope, receive: Receive, send: Send
    ) -> None:
        limits = self.limits
        if limits.token is None:
            await self.app(scope, receive, send)
            return
        token_key = hashlib.blake2b(authorization, digest_size=16).hexdigest()
        address = limits.address
        refused_key = None  # the address's bucket of refused tokens
        if address is not None:
            refused_key = "u:" + _address_key(client_address(scope, limits.trusted_proxies))
        decision: Decision | None
        if limits.by_token is not None:
            refused = limits.refused_tokens
            if refused is not None and refused_key is not None and refused.level(refused_key) < 1:
                decision = refused.take(refused_key)  # empty: refused, nothing taken
            else:
                decision = limits.by_token.take(token_key)
        else:
            assert limits.shared is not None
            guard = (address, refused_key) if address and refused_key else None
            decision = await limits.shared.take(limits.token, "t:" + token_key, guard=guard)
        if decision is not None and not decision.allowed:
            await _refuse(decision, scope, receive, send)
            return

        async def charged(message: Message) -> None:
            """Adds the headers; a refused token is charged to its address."""
            if message["type"] == "http.response.start":
                if decision is not None:
                    message["headers"] = [*message.get("headers", ()), *decision.headers()]
                if message["status"] == 401 and address is not None and refused_key:
                    await _charge(limits, address, refused_key)
            await send(message)

        await self.app(scope, receive, charged)


async def _charge(limits: RateLimits, policy: Policy, key: str) -> None:
    if limits.refused_tokens is not None:
        limits.refused_tokens.take(key, force=True)
    else:
        assert limits.shared is not None  # an address policy has its buckets somewhere
        await limits.shared.take(policy, key, force=True)


async def _refuse(decision: Decision, scope: Scope, receive: Receive, send: Send) -> None:
    """429 with Retry-After and the RateLimit headers; a WebSocket handshake gets it as a
    denial response where the server can send one (uvicorn can), else the socket is
    accepted and closed at once with 4429 (a close before accepting would reach the client
    as a bare 403)."""
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
        "extensions", {}
    ):
        await receive()  # websocket.connect
        offered = scope.get("subprotocols") or ()
        chosen = GRAPHQL_TRANSPORT_WS if GRAPHQL_TRANSPORT_WS in offered else None
        await send({"type": "websocket.accept", "subprotocol": chosen, "headers": []})
        await send({"type": "websocket.close", "code": 4429, "reason": "rate limited"})
        return
    wait = decision.retry_after
    message = f"Too many requests: try again in {wait} second{'s' if wait != 1 else ''}."
    error = {"message": message, "extensions": {"code": "RATE_LIMITED", "retryAfter": wait}}
    response = JSONResponse({"errors": [error]}, status_code=429)
    response.raw_headers += [(b"retry-after", str(wait).encode()), *decision.headers()]
    await response(scope, receive, send)


def _authorization(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value) if value else None
    return None


@lru_cache(maxsize=8192)
def _address_key(address: str) -> str:
    """The bucket of an address: an IPv6 address's /64 (one host, one subnet), an
    IPv4-mapped one's IPv4 address (a dual-stack socket's view of an IPv4 client), else
    the address itself."""
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))
