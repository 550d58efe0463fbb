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
from tortoise.backends.base_postgres.client import translate_exceptions

from cms import budget, statements

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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A request's reads are pages of a few rows; PostgreSQL would start workers for a
        # bitmap scan over a few thousand of them (a search's), which costs more than it
        # saves and takes cores from the other requests. A startup parameter, since the
        # pool's RESET ALL would undo a SET (a pooler such as PgBouncer must be told to
        # ignore it: README, Search).
        self.server_settings.setdefault("max_parallel_workers_per_gather", "0")
        # Each statement sent adds to the request's tally (cms.statements).
        self.log = statements.StatementLog(self.log)  # type: ignore[assignment]

    def acquire_connection(self) -> Any:
        wrapper = super().acquire_connection()
        seconds = budget.remaining()
        return wrapper if seconds is None else _within(wrapper, seconds)

    @translate_exceptions
    async def execute_planned_query_dict(
        self, query: str, values: list[Any]
    ) -> list[dict[str, Any]]:
        """The rows of a read planned for the values it is given, every time.

        asyncpg keeps each statement prepared, and after five runs PostgreSQL may plan a
        prepared statement once for any values (a generic plan). A read whose best plan
        depends on its values (a full-text search: a walk back through the newest rows
        for a common word, the index's postings for a rare one) is prepared anew instead,
        which costs a round trip and always gets a plan for its own values."""
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            statement = await connection.prepare(query)
            return [dict(row) for row in await statement.fetch(*values)]


client_class = NewsdeskPostgresClient


def get_client_class(db_info: dict[str, Any]) -> type[AsyncpgDBClient]:
    return NewsdeskPostgresClient
