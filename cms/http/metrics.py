"""/metrics in Prometheus text format.

Per request (cms.http.access observes them): requests by route and status and their
durations; GraphQL operations' durations by operation name, type and outcome (ok, error,
rejected, timeout); SQL statements per request. Besides: the response cache's hits and
misses, webhook delivery attempts by result (cms.counters), open subscriptions, and the
outbox's depth and lag (read from the database at each scrape, cms.events.backlog), how
many reads compiled plans answered, and, with CMS_REDIS_URL, whether Redis answers.

Several workers (`cms serve --workers N`) share one port, so a scrape reaches one of them.
With PROMETHEUS_MULTIPROC_DIR set (`cms serve` makes one when N > 1) every worker writes
its counters, histograms and gauges to files there (prometheus-client's multiprocess
mode) and whichever answers the scrape sums them all. What only lives in a worker's memory
(compiled-plan counts, Redis state) is shown for the answering worker, labelled with its
`worker` (pid).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Final, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from cms import __version__, clock, counters
from cms.events import backlog
from schema.plans.extension import PlanStats

__all__ = ["MAX_OPERATION_NAMES", "Metrics", "OperationNames", "metrics_endpoint"]

log = logging.getLogger(__name__)

MAX_OPERATION_NAMES: Final = 200
_NAME: Final = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_STATEMENTS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)


class OperationNames:
    """The operation names a worker labels metrics with, bounded as labels must be: a name
    is kept when it is a GraphQL name of at most 64 characters and one of the first
    `limit` this worker has seen; later ones are "other", an operation without a name
    "anonymous"."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.kept: set[str] = set()

    def __call__(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.kept:
            return name
        if len(self.kept) >= self.limit or not _NAME.fullmatch(name):
            return "other"
        self.kept.add(name)
        return name


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The metrics of one app. `multiprocess_dir`: prometheus-client's directory when
    several workers share the scrape (PROMETHEUS_MULTIPROC_DIR), else None."""

    def __init__(self, *, multiprocess_dir: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = multiprocess_dir is not None
        self.multiprocess_dir = multiprocess_dir
        self.requests = Counter(
            "newsdesk_http_requests", "HTTP requests served.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "newsdesk_http_request_duration_seconds", "Time to answer an HTTP request.",
            ["route"], registry=self.registry, buckets=_SECONDS[:-1],
        )  # fmt: skip
        self.operation_names = OperationNames()
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._routes: dict[str, tuple[Histogram, Histogram]] = {}
        self._operations: dict[tuple[str | None, str, str], Histogram] = {}
        self.operations = Histogram(
            "newsdesk_graphql_operation_duration_seconds",
            "Time to answer a GraphQL operation over HTTP, by operation name (\"anonymous\" "
            "without one, \"other\" past the first 200 names a worker sees), type and "
            "outcome: ok, error (errors in the result, or a 5xx), rejected (nothing ran: "
            "invalid, unauthenticated, refused for its cost, a 4xx), timeout (QUERY_TIMEOUT).",
            ["operation", "type", "outcome"], registry=self.registry, buckets=_SECONDS,
        )  # fmt: skip
        self.statements = Histogram(
            "newsdesk_sql_statements_per_request", "SQL statements one HTTP request sent.",
            ["route"], registry=self.registry, buckets=_STATEMENTS,
        )  # fmt: skip
        cache = Counter(
            "newsdesk_response_cache",
            "Cacheable reads answered from the response cache (hit) or not (miss).",
            ["result"], registry=self.registry,
        )  # fmt: skip
        self._cache_hit, self._cache_miss = cache.labels("hit"), cache.labels("miss")
        self.subscriptions = Gauge(
            "newsdesk_open_subscriptions", "GraphQL subscriptions open over WebSockets.",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        Counter(
            "newsdesk_build", "Processes started, by version.", ["version"], registry=self.registry
        ).labels(version=__version__).inc()
        self.registry.register(counters.WEBHOOK_ATTEMPTS)
        # What a scrape reads: this app's registry, or every worker's files.
        self.scraped = self.registry
        if self.multiprocess:
            self.scraped = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.scraped, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        self.backlog = _BacklogCollector()
        self.scraped.register(self.backlog)
        self.worker = str(os.getpid()) if self.multiprocess else None

    def close(self) -> None:
        """A worker that stops takes its live gauges (open subscriptions) out of the sum;
        its counters stay counted."""
        if self.multiprocess:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]

    def route(self, scope: Scope) -> str:
        """The route's pattern, not the raw path: /media/{path} stays one series."""
        app = scope.get("app")
        for route in getattr(getattr(app, "router", None), "routes", []):
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return str(getattr(route, "path", scope["path"]))
        return "unmatched"

    def observe_request(
        self, method: str, route: str, status: int, seconds: float, statements: int
    ) -> None:
        # The labelled children, looked up once per label set (`labels()` takes a lock
        # and builds its key on every call: most of an observation's cost). The method is
        # the client's word: any but the standard ones counts as "other", so made-up
        # methods cannot grow the label sets (and the multiprocess files) without bound.
        if method not in _METHODS:
            method = "other"
        counted = self._requests.get((method, route, status))
        if counted is None:
            counted = self._requests[method, route, status] = self.requests.labels(
                method, route, str(status)
            )
        counted.inc()
        timed = self._routes.get(route)
        if timed is None:
            timed = self._routes[route] = (
                self.duration.labels(route), self.statements.labels(route)
            )  # fmt: skip
        timed[0].observe(seconds)
        timed[1].observe(statements)

    def observe_operation(
        self, name: str | None, operation_type: str, outcome: str, seconds: float
    ) -> None:
        timed = self._operations.get((name, operation_type, outcome))
        if timed is None:
            label = self.operation_names(name)
            timed = self.operations.labels(label, operation_type, outcome)
            if label != "other":  # "other" names stay out: the dict stays bounded
                self._operations[name, operation_type, outcome] = timed
        timed.observe(seconds)

    def cache_lookup(self, hit: bool) -> None:
        (self._cache_hit if hit else self._cache_miss).inc()

    def watch_plans(self, stats: PlanStats) -> None:
        """Report the compiled plans' counts (CMS_COMPILED_READS)."""
        self.scraped.register(_PlanCollector(stats, self.worker))

    def watch_response_cache(self, cache: ResponseCacheHooks) -> None:
        """Count the response cache's hits and misses (CMS_RESPONSE_CACHE)."""
        cache.on_lookup = self.cache_lookup

    def watch_subscriptions(self, fanout: SubscriptionHooks) -> None:
        """Follow the number of open subscriptions (cms.http.fanout)."""
        fanout.on_count = self.subscriptions.set

    def watch_redis(self, redis: RedisCounts) -> None:
        """Report whether Redis answers, and the outages and fallbacks (CMS_REDIS_URL)."""
        self.scraped.register(_RedisCollector(redis, self.worker))


class ResponseCacheHooks(Protocol):
    on_lookup: Callable[[bool], None]


class SubscriptionHooks(Protocol):
    on_count: Callable[[int], None]


def _labels(worker: str | None) -> tuple[list[str], list[str]]:
    return (["worker"], [worker]) if worker is not None else ([], [])


class _BacklogCollector(Collector):
    """The outbox's backlog as last measured (metrics_endpoint measures before each scrape)."""

    def __init__(self) -> None:
        self.measured: backlog.Backlog | None = None

    def collect(self) -> Iterator[Metric]:
        if self.measured is None:
            return
        yield GaugeMetricFamily(
            "newsdesk_outbox_depth", "Outbox events not dispatched yet.",
            value=self.measured.depth,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "newsdesk_outbox_lag_seconds",
            "Age of the oldest outbox event not dispatched yet (0 when none waits).",
            value=self.measured.lag_seconds,
        )


class RedisCounts(Protocol):
    @property
    def up(self) -> bool: ...

    @property
    def outages(self) -> int: ...

    @property
    def fallbacks(self) -> int: ...


class _RedisCollector(Collector):
    def __init__(self, redis: RedisCounts, worker: str | None) -> None:
        self.redis = redis
        self.labels, self.values = _labels(worker)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "newsdesk_redis_up",
            "1 while this worker reaches Redis (cache store and event subscription), else 0.",
            labels=self.labels,
        )
        up.add_metric(self.values, 1 if self.redis.up else 0)
        yield up
        outages = CounterMetricFamily(
            "newsdesk_redis_outages",
            "Times this worker's cache store or event subscription lost Redis.",
            labels=self.labels,
        )
        outages.add_metric(self.values, self.redis.outages)
        yield outages
        fallbacks = CounterMetricFamily(
            "newsdesk_redis_fallbacks",
            "Cache and persisted-query calls answered from this worker's memory, and feed "
            "events delivered to its own subscribers only, while Redis was unreachable.",
            labels=self.labels,
        )
        fallbacks.add_metric(self.values, self.redis.fallbacks)
        yield fallbacks


class _PlanCollector(Collector):
    def __init__(self, stats: PlanStats, worker: str | None) -> None:
        self.stats = stats
        self.labels, self.values = _labels(worker)

    def collect(self) -> Iterator[Metric]:
        hits = CounterMetricFamily(
            "newsdesk_compiled_reads", "Operations answered by a compiled plan.",
            labels=self.labels,
        )  # fmt: skip
        hits.add_metric(self.values, self.stats.hits)
        yield hits
        fallbacks = CounterMetricFamily(
            "newsdesk_compiled_read_fallbacks",
            "Operations graphql-core answered instead of a plan, by reason.",
            labels=[*self.labels, "reason"],
        )
        for reason, count in sorted(self.stats.fallbacks.items()):
            fallbacks.add_metric([*self.values, reason], count)
        yield fallbacks


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            metrics.backlog.measured = await backlog.measure(now=clock.utcnow())
        except Exception:  # the database is down: the rest of the scrape still helps
            log.warning("/metrics: the outbox's backlog could not be read", exc_info=True)
            metrics.backlog.measured = None
        return Response(generate_latest(metrics.scraped), media_type=CONTENT_TYPE_LATEST)

    return endpoint
