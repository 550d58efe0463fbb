"""Plain HTTP routes beside GraphQL: liveness (/healthz), readiness (/readyz), and how
Redis is doing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from cms import db
from cms.cache.fallback import FallbackStore
from cms.events.broker import Broker, RedisBroker
from cms.http.shutdown import Shutdown

__all__ = ["RedisHealth", "healthz", "readyz"]


class RedisHealth:
    """Whether this worker reaches Redis (its store and its broker's subscription), and
    how often it did without: read by /healthz and /metrics."""

    def __init__(self, store: FallbackStore, broker: Broker) -> None:
        self.store = store
        self.broker = broker if isinstance(broker, RedisBroker) else None

    @property
    def up(self) -> bool:
        return self.store.up and (self.broker is None or self.broker.connected)

    @property
    def fallbacks(self) -> int:
        """Store calls answered from memory, and feed events delivered without Redis."""
        return self.store.fallbacks + (self.broker.fallbacks if self.broker else 0)

    @property
    def outages(self) -> int:
        return self.store.outages + (self.broker.outages if self.broker else 0)

    async def check(self) -> bool:
        """Whether Redis answers now: a PING while it is thought up, nothing otherwise
        (the store's background check and the broker's listener see it come back)."""
        return await self.store.check() and (self.broker is None or self.broker.connected)


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 otherwise. With CMS_REDIS_URL, `redis` says
    whether Redis answers ("up" or "down"); a worker without it still serves (from its
    own memory), so Redis never fails the check."""
    body: dict[str, Any] = {}
    redis: RedisHealth | None = getattr(request.app.state, "redis", None)
    if redis is not None:
        body["redis"] = "up" if await redis.check() else "down"
    try:
        await db.ping()
    except db.DatabaseUnavailable:
        return JSONResponse({"status": "unavailable", "database": "down", **body}, status_code=503)
    return JSONResponse({"status": "ok", **body})


async def readyz(request: Request) -> JSONResponse:
    """Whether a load balancer should send this worker traffic: 200 {"status": "ready"}
    when the database answers and, with CMS_REDIS_URL, Redis answers too (while it is
    down a worker's subscribers miss what other workers dispatch, so a balancer should
    prefer workers that reach it); 503 naming what is down, or {"status": "shutting
    down"} from the moment the worker received SIGTERM. /healthz stays the liveness
    check: a worker must not be restarted because Redis is down."""
    shutdown: Shutdown | None = getattr(request.app.state, "shutdown", None)
    if shutdown is not None and shutdown.begun:
        return JSONResponse({"status": "shutting down"}, status_code=503)
    body: dict[str, Any] = {"database": "up"}
    try:
        await db.ping()
    except db.DatabaseUnavailable:
        body["database"] = "down"
    redis: RedisHealth | None = getattr(request.app.state, "redis", None)
    if redis is not None:
        body["redis"] = "up" if await redis.check() else "down"
    ready = "down" not in body.values()
    status = {"status": "ready" if ready else "unavailable", **body}
    return JSONResponse(status, status_code=200 if ready else 503)
