"""The database: Tortoise configuration from Settings, open/close, and migrations."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations import api as migrations_api

from cms.config import Settings, get_settings
from cms.errors import CmsError

__all__ = [
    "DatabaseMissing",
    "DatabaseUnavailable",
    "close",
    "describe",
    "lifespan",
    "migrate",
    "open",
    "ping",
    "require_existing",
    "tortoise_config",
]

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "foreign_keys": "ON",
    "busy_timeout": 5000,
    "synchronous": "NORMAL",
    # A connection's page cache, in KiB (SQLite's default is 2 MiB): a search's window
    # reads a few hundred content rows, each on its own page; with 2 MiB they come from
    # the operating system's cache every time (twice the CPU).
    "cache_size": -16384,
}


class DatabaseUnavailable(CmsError):
    """The database cannot be reached or opened."""


class DatabaseMissing(CmsError):
    """The configured database holds no Newsdesk: nothing was created in its place."""


def tortoise_config(settings: Settings) -> dict[str, Any]:
    connection = expand_db_url(settings.database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = "cms.sqlite"  # write transactions BEGIN IMMEDIATE
        for pragma, value in SQLITE_PRAGMAS.items():
            connection["credentials"].setdefault(pragma, value)
    elif connection["engine"] == "tortoise.backends.asyncpg":
        connection["engine"] = "cms.postgres"  # reads held to their time budget
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": ["cms.models"],
                "default_connection": "default",
                "migrations": "cms.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    # `TORTOISE_ORM` for Tortoise's own CLI (`tortoise makemigrations`), built on demand
    # so that importing this module reads no environment.
    if name == "TORTOISE_ORM":
        return tortoise_config(get_settings())
    raise AttributeError(name)


def _sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file (None for PostgreSQL and in-memory SQLite)."""
    if not settings.is_sqlite:
        return None
    file_path = expand_db_url(settings.database_url)["credentials"]["file_path"]
    return None if file_path == ":memory:" else Path(file_path)


def _ensure_sqlite_dir(settings: Settings) -> None:
    path = _sqlite_file(settings)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def describe(settings: Settings) -> str:
    """Which database a command uses, for people: the SQLite file's absolute path, or the
    URL with its password hidden."""
    path = _sqlite_file(settings)
    if path is not None:
        return f"SQLite {path.resolve()}"
    return _redacted(settings.database_url)


async def require_existing(settings: Settings) -> None:
    """Refuse to go on unless the configured database holds Newsdesk's tables. Commands other
    than `migrate` and `serve` call this first, so that one run from another folder does not
    quietly create an empty database there (which the running server knows nothing of)."""
    missing = DatabaseMissing(
        f"no Newsdesk database at {describe(settings)}: "
        "run `cms migrate` (or `make serve`) here first, or set CMS_DATABASE_URL"
    )
    path = _sqlite_file(settings)
    if path is not None and not path.is_file():
        raise missing
    async with lifespan(settings):
        try:
            await Tortoise.get_connection("default").execute_query("SELECT 1 FROM content LIMIT 1")
        except Exception:
            raise missing from None


def _unavailable(settings: Settings, error: BaseException) -> DatabaseUnavailable:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DatabaseUnavailable(
        f"database unavailable ({_redacted(settings.database_url)}): {reason}"
    )


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"


async def open(settings: Settings) -> None:  # noqa: A001 - mirrors close()
    _ensure_sqlite_dir(settings)
    # Tortoise caches prepared SQL per connection *name*; a process that opens another
    # database under the same name (tests on SQLite, then PostgreSQL) must start afresh.
    EXECUTOR_CACHE.clear()
    try:
        # The global fallback lets requests served by uvicorn (other tasks than the one
        # that ran the lifespan) find the connections, as Tortoise's Starlette glue does.
        await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
        await ping()
        if settings.is_sqlite:
            await _refresh_statistics()
    except Exception as error:
        # Whatever failed, release the half-opened connections (and Tortoise's global
        # context with them), so that the process can open a database again.
        await Tortoise.close_connections()
        if isinstance(error, DatabaseUnavailable):
            raise
        raise _unavailable(settings, error) from error


async def _refresh_statistics() -> None:
    """A quick, sampled ANALYZE (a few ms even at a million rows). Without statistics
    SQLite's planner may read `article(slug)` through the feed index instead of the slug
    index: 100 ms instead of 0.1 ms on a 100,000-item newsroom."""
    await Tortoise.get_connection("default").execute_script("PRAGMA analysis_limit=1000; ANALYZE;")


async def close() -> None:
    await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[None]:
    await open(settings)
    try:
        yield
    finally:
        await close()


async def ping() -> None:
    """Ask the database a trivial question; raise DatabaseUnavailable if it cannot answer."""
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as error:
        raise DatabaseUnavailable(f"database did not answer: {error}") from error


async def migrate(settings: Settings) -> list[str]:
    """Apply pending migrations; return the names of those applied. Idempotent."""
    _ensure_sqlite_dir(settings)
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    try:
        await migrations_api.migrate(config=tortoise_config(settings), progress=progress)
    except Exception as error:
        raise _unavailable(settings, error) from error
    finally:
        await Tortoise.close_connections()
    return applied
