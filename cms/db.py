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

__all__ = ["DatabaseUnavailable", "close", "lifespan", "migrate", "open", "ping", "tortoise_config"]

SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "foreign_keys": "ON",
    "busy_timeout": 5000,
    "synchronous": "NORMAL",
}


class DatabaseUnavailable(CmsError):
    """The database cannot be reached or opened."""


def tortoise_config(settings: Settings) -> dict[str, Any]:
    connection = expand_db_url(settings.database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = "cms.sqlite"  # write transactions BEGIN IMMEDIATE
        for pragma, value in SQLITE_PRAGMAS.items():
            connection["credentials"].setdefault(pragma, value)
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


def _ensure_sqlite_dir(settings: Settings) -> None:
    if settings.is_sqlite:
        file_path = expand_db_url(settings.database_url)["credentials"]["file_path"]
        if file_path != ":memory:":
            Path(file_path).parent.mkdir(parents=True, exist_ok=True)


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
    except DatabaseUnavailable:
        raise
    except Exception as error:
        await Tortoise.close_connections()
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
