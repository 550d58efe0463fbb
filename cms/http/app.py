"""The composition root of the web process: create_app(settings) -> Starlette."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route, WebSocketRoute

from cms import db
from cms.cache.changes import Changes
from cms.cache.fallback import FallbackStore
from cms.cache.stores import MemoryStore, RedisStore, Store
from cms.cache.versions import EVERYTHING, TagVersions
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import make_broker
from cms.http import feeds, graphiql, graphiql_assets, ninjs, routes
from cms.http.access import AccessMiddleware
from cms.http.cache import ResponseCache
from cms.http.graphql import GraphQLView
from cms.http.limits import BodyLimitMiddleware
from cms.http.media import MediaFiles
from cms.http.metrics import Metrics, metrics_endpoint
from cms.http.middleware import RequestIdMiddleware
from cms.http.persisted import PersistedQueries
from cms.http.rate_limits import RateLimitMiddleware, RateLimits
from cms.http.shutdown import Shutdown
from schema import build_schema

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, manage_database: bool = True, freeze_heap: bool = False
) -> Starlette:
    """Build the app. With `manage_database` the lifespan opens and closes the database
    (tests that already hold it open pass False). With `freeze_heap` (a served worker) the
    objects that exist once the worker has started are moved out of the garbage collector's
    sight (`gc.freeze`): the schema, the ORM and the imported modules are some 100,000
    objects, and a full collection that walks them all paused every request in flight for
    60–90 ms; after the freeze one takes about 0.1 ms (both timed in process on the
    benchmark's newsroom)."""
    assets_mount: list[Mount] = []
    if settings.graphiql_enabled:
        # Where GraphiQL's page loads React and GraphiQL from, decided once, here.
        assets = graphiql_assets.page_assets(settings)
        log.log(logging.WARNING if assets.warning else logging.INFO, "%s", assets.note)
        if assets.directory is not None:
            settings = settings.model_copy(update={"graphiql_assets_url": assets.url})
            files = graphiql_assets.AssetFiles(assets.directory)
            assets_mount.append(Mount(graphiql_assets.MOUNT_PATH, files, name="graphiql-assets"))
    store: Store = MemoryStore(max_bytes=settings.cache_max_bytes)
    if settings.redis_url:
        # While Redis is unreachable, this worker's memory stands in (cms.cache.fallback).
        store = FallbackStore(
            RedisStore(settings.redis_url, timeout=settings.redis_timeout_seconds),
            max_bytes=settings.cache_max_bytes,
            retry_seconds=settings.redis_retry_seconds,
            on_return=TagVersions.keys([EVERYTHING]),
        )
    persisted = PersistedQueries.from_settings(settings, store)
    broker = make_broker(settings.redis_url, timeout=settings.redis_timeout_seconds)
    schema = build_schema(settings)
    view = GraphQLView(schema, settings, persisted, broker)
    # SIGTERM: /readyz 503, subscription sockets closed with 1001, then uvicorn's stop.
    shutdown = Shutdown(drain_seconds=settings.shutdown_drain_seconds)
    view.shutdown = shutdown
    versions = TagVersions(store)
    # CMS_CACHE_GENERATION_SECONDS: how often a worker reads the outbox for changes made
    # elsewhere (other workers, the command line).
    changes = Changes(versions, refresh_seconds=settings.cache_generation_seconds)
    graphql = ResponseCache(
        view, settings=settings, store=store, versions=versions, changes=changes
    )
    view.after_write = graphql.after_write
    rate_limits = RateLimits.from_settings(settings)  # CMS_RATE_LIMIT, CMS_TOKEN_RATE_LIMIT
    if settings.graphiql_enabled:
        graphiql.graphiql_page(settings)  # fail at start-up, not on the first editor's visit

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        Path(settings.media_dir).mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(shutdown.intercepting_signals())
            stack.callback(metrics.close)
            stack.push_async_callback(store.close)
            stack.push_async_callback(rate_limits.close)
            if manage_database:
                await stack.enter_async_context(db.lifespan(settings))
            # Where this worker starts reading the outbox: every change recorded from now
            # on is applied, the first write through this worker included.
            await changes.catch_up()
            await broker.start()
            stack.push_async_callback(broker.close)
            stack.push_async_callback(view.fanout.close)  # subscription streams first
            stack.callback(shutdown.begin)  # (their sockets before them, with 1001)
            if settings.run_dispatcher:
                dispatcher = Dispatcher(settings, broker, versions=versions)
                await dispatcher.start()
                stack.push_async_callback(dispatcher.stop)
            if freeze_heap:
                gc.collect()
                gc.freeze()
            yield

    # PROMETHEUS_MULTIPROC_DIR: several workers, one scrape (cms.http.metrics).
    metrics = Metrics(multiprocess_dir=settings.metrics_dir)
    if schema.plans is not None:
        metrics.watch_plans(schema.plans.stats)
    metrics.watch_response_cache(graphql)
    metrics.watch_subscriptions(view.fanout)
    redis = routes.RedisHealth(store, broker) if isinstance(store, FallbackStore) else None
    if redis is not None:
        metrics.watch_redis(redis)
    middleware = [
        Middleware(RequestIdMiddleware),
        # One access line (CMS_ACCESS_LOG) and the metrics of each request.
        Middleware(AccessMiddleware, metrics=metrics, log_requests=settings.access_log_enabled),
        Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes),
    ]
    if settings.allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "Apollo-Require-Preflight"],
                expose_headers=["Retry-After", "RateLimit", "RateLimit-Policy"],
            )
        )
    if rate_limits.enabled:  # inside CORS, so a browser can read a 429
        middleware.append(Middleware(RateLimitMiddleware, limits=rate_limits))
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=None),  # the view answers every method
            WebSocketRoute("/graphql", view),
            Route("/healthz", routes.healthz),
            Route("/readyz", routes.readyz),
            Route("/metrics", metrics_endpoint(metrics)),
            Route("/feed.xml", feeds.rss),
            Route("/feed.json", feeds.json_feed),
            Route("/ninjs/{id:path}", ninjs.ninjs_document),  # GET and HEAD
            Mount("/media", MediaFiles(settings.media_dir), name="media"),
            *assets_mount,
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.response_cache = graphql
    app.state.broker = broker
    app.state.redis = redis
    app.state.shutdown = shutdown
    return app


def app_from_environment() -> Starlette:
    """The app for uvicorn's --factory (`cms serve`), configured from the environment."""
    from cms.config import get_settings

    return create_app(get_settings(), freeze_heap=True)
