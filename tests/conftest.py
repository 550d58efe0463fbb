"""Shared fixtures: a migrated database per test on SQLite, and on PostgreSQL when
CMS_TEST_DATABASE_URL is set (the same tests run on both), the app and an HTTP client."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from tortoise import Tortoise

from cms import db as database
from cms.config import Settings

# Under pytest-xdist (`make test` runs one process per core) each worker gets a database
# and a Redis database of its own: "gw1" uses the PostgreSQL database `<name>_gw1` (made
# when missing) and the Redis database index one past the one given.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _for_worker(url: str | None, kind: str) -> str | None:
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    if kind == "postgres":
        return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{WORKER}"))
    index = int(parts.path.strip("/") or 0) + int(WORKER.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{index}"))


POSTGRES_URL = _for_worker(os.environ.get("CMS_TEST_DATABASE_URL"), "postgres")
REDIS_URL = _for_worker(os.environ.get("CMS_TEST_REDIS_URL"), "redis")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL, reason="PostgreSQL tests need CMS_TEST_DATABASE_URL"
            ),
        ],
    ),
]


def _tables() -> list[str]:
    return sorted(
        model._meta.db_table for app in (Tortoise.apps or {}).values() for model in app.values()
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("template") / "cms.sqlite3"
    asyncio.run(database.migrate(Settings(database_url=f"sqlite://{path}")))
    return path


async def _create_database(url: str) -> None:
    """Create the database `url` names unless it exists (a worker's own, under xdist)."""
    parts = urlsplit(url)
    name = parts.path.strip("/")
    server = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    """Reset the test database's schema once per run and apply the migrations."""
    assert POSTGRES_URL

    async def reset() -> None:
        if WORKER:
            await _create_database(POSTGRES_URL)
        settings = Settings(database_url=POSTGRES_URL)
        await Tortoise.init(config=database.tortoise_config(settings))
        try:
            conn = Tortoise.get_connection("default")
            await conn.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await Tortoise.close_connections()
        await database.migrate(settings)

    asyncio.run(reset())
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "cms.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite://{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        env="test",
        media_dir=str(tmp_path / "media"),
        public_url="http://testserver",
        site_url="https://news.example",
        redis_url=None,
        # Background work off by default: tests that need the dispatcher turn it on.
        run_dispatcher=False,
        # A shared CI machine can stall a read for seconds; the budget's own tests
        # (tests/api/test_query_budget.py) set the one they test.
        query_timeout_ms=60_000,
    )


async def _truncate_postgres() -> None:
    conn = Tortoise.get_connection("default")
    tables = ", ".join(f'"{name}"' for name in _tables())
    await conn.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """An open, empty, migrated database."""
    async with database.lifespan(settings):
        if not settings.is_sqlite:
            await _truncate_postgres()
        yield


@pytest.fixture
async def app(settings: Settings, db: None) -> AsyncIterator[Any]:
    """The ASGI app with its lifespan running (over the already open `db`)."""
    from cms.http.app import create_app

    application = create_app(settings, manage_database=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_report_header(config: pytest.Config) -> list[str]:
    postgres = f"on ({POSTGRES_URL})" if POSTGRES_URL else "skipped (set CMS_TEST_DATABASE_URL)"
    redis = f"on ({REDIS_URL})" if REDIS_URL else "skipped (set CMS_TEST_REDIS_URL)"
    return [f"PostgreSQL tests: {postgres}", f"Redis tests: {redis}"]


@pytest.fixture
def redis_url() -> Iterator[str]:
    if not REDIS_URL:
        pytest.skip("Redis tests need CMS_TEST_REDIS_URL")
    yield REDIS_URL


# NEWSDESK_PLAN_STATS=1: after the run, how the suite's GraphQL reads were answered, by a
# compiled plan or by graphql-core (and why), summed over every app the tests built.
_PLAN_STATS: list[Any] = []


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("NEWSDESK_PLAN_STATS"):
        return
    from schema.plans import extension

    created = extension.PlanStats.__init__

    def counted(self: Any) -> None:
        created(self)
        _PLAN_STATS.append(self)

    extension.PlanStats.__init__ = counted  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _PLAN_STATS:
        return
    hits = sum(stats.hits for stats in _PLAN_STATS)
    reasons: dict[str, int] = {}
    for stats in _PLAN_STATS:
        for reason, count in stats.fallbacks.items():
            reasons[reason] = reasons.get(reason, 0) + count
    answered = hits + sum(reasons.values())
    terminalreporter.write_line(
        f"compiled reads: {hits:,} of {answered:,} operations answered by plans; "
        "graphql-core answered the rest: "
        + ", ".join(f"{reason} {count:,}" for reason, count in sorted(reasons.items()))
    )
