"""Tortoise's asyncpg backend, with reads held to their time budget.

A read under a time budget (cms/budget.py) runs each statement within what is left of it:
past the deadline asyncpg's wait is cancelled, and asyncpg then sends PostgreSQL a cancel
request for the running statement (what its own `timeout=` does), so the server stops
working on it as `statement_timeout` would; the read fails with QueryTimeout. The budget
is per request and scoped to reads by the request's context: a `statement_timeout` on the
pool's connections would hold mutations, their lock waits and migrations to it as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient

from cms import budget

__all__ = ["NewsdeskPostgresClient", "client_class", "get_client_class"]


@contextlib.asynccontextmanager
async def _within(wrapper: Any, seconds: float) -> AsyncIterator[Any]:
    """A pooled connection for one statement that must end within `seconds`."""
    if seconds <= 0:
        raise budget.exceeded()
    timeout = asyncio.timeout(seconds)
    try:
        async with timeout, wrapper as connection:
            yield connection
    except TimeoutError as error:
        if not timeout.expired():
            raise  # another timeout (connecting, say): not the budget's
        raise budget.exceeded() from error


class NewsdeskPostgresClient(AsyncpgDBClient):
    def acquire_connection(self) -> Any:
        wrapper = super().acquire_connection()
        seconds = budget.remaining()
        return wrapper if seconds is None else _within(wrapper, seconds)


client_class = NewsdeskPostgresClient


def get_client_class(db_info: dict[str, Any]) -> type[AsyncpgDBClient]:
    return NewsdeskPostgresClient
