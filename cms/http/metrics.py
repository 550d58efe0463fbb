"""/metrics in Prometheus text format: requests by route and status, their durations,
how many reads compiled plans answered (and why graphql-core answered the others), and
how many cacheable reads the response cache answered (hits) or not (misses), and, with
CMS_REDIS_URL, whether Redis answers and how often this worker did without it.

Each worker process keeps its own counters; scrape workers one by one, or run one worker
per container (the compose file's workers share a port, so a scrape sees one of them).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms import __version__
from schema.plans.extension import PlanStats

__all__ = ["Metrics", "MetricsMiddleware", "metrics_endpoint"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsdesk_http_requests", "HTTP requests served.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "newsdesk_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )  # fmt: skip
        Counter("newsdesk_build", "Build information.", ["version"], registry=self.registry).labels(
            version=__version__
        ).inc()

    def watch_plans(self, stats: PlanStats) -> None:
        """Report the compiled plans' counts (CMS_COMPILED_READS)."""
        self.registry.register(_PlanCollector(stats))

    def watch_response_cache(self, counts: CacheCounts) -> None:
        """Report the response cache's hits and misses (CMS_RESPONSE_CACHE)."""
        self.registry.register(_CacheCollector(counts))

    def watch_redis(self, redis: RedisCounts) -> None:
        """Report whether Redis answers, and the outages and fallbacks (CMS_REDIS_URL)."""
        self.registry.register(_RedisCollector(redis))


class CacheCounts(Protocol):
    @property
    def hits(self) -> int: ...

    @property
    def misses(self) -> int: ...


class _CacheCollector(Collector):
    def __init__(self, counts: CacheCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        found = CounterMetricFamily(
            "newsdesk_response_cache",
            "Cacheable reads answered from the response cache (hit) or not (miss).",
            labels=["result"],
        )
        found.add_metric(["hit"], self.counts.hits)
        found.add_metric(["miss"], self.counts.misses)
        yield found


class RedisCounts(Protocol):
    @property
    def up(self) -> bool: ...

    @property
    def outages(self) -> int: ...

    @property
    def fallbacks(self) -> int: ...


class _RedisCollector(Collector):
    def __init__(self, redis: RedisCounts) -> None:
        self.redis = redis

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "newsdesk_redis_up",
            "1 while this worker reaches Redis (cache store and event subscription), else 0.",
            value=1 if self.redis.up else 0,
        )
        yield CounterMetricFamily(
            "newsdesk_redis_outages",
            "Times this worker's cache store or event subscription lost Redis.",
            value=self.redis.outages,
        )
        yield CounterMetricFamily(
            "newsdesk_redis_fallbacks",
            "Cache and persisted-query calls answered from this worker's memory, and feed "
            "events delivered to its own subscribers only, while Redis was unreachable.",
            value=self.redis.fallbacks,
        )


class _PlanCollector(Collector):
    def __init__(self, stats: PlanStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        hits = CounterMetricFamily(
            "newsdesk_compiled_reads", "Operations answered by a compiled plan."
        )
        hits.add_metric([], self.stats.hits)
        yield hits
        fallbacks = CounterMetricFamily(
            "newsdesk_compiled_read_fallbacks",
            "Operations graphql-core answered instead of a plan, by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(self.stats.fallbacks.items()):
            fallbacks.add_metric([reason], count)
        yield fallbacks


def _route(scope: Scope) -> str:
    # The route's pattern, not the raw path: /media/{path} stays one series.
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", scope["path"]))
    return "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _route(scope)  # before the app runs: routing rewrites the scope
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.duration.labels(route).observe(time.perf_counter() - started)


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint
