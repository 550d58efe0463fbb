"""SQL statements per feed page, counted in-process for Newsdesk and for the baseline.

Newsdesk: the app from `create_app`, its lifespan run, one feed query per page size sent
through httpx's ASGI transport, statements counted on the "tortoise.db_client" logger at
DEBUG, only those sent for the request (the app's background tasks, such as the outbox
dispatcher, poll meanwhile). The baseline: every statement its database sends, traced. Each
page size is asked twice and the second answer counted (steady state, as under load).

    python -m bench.sqlcount 1 20 100      (reads CMS_DATABASE_URL ...; prints JSON)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar

import httpx
from starlette.applications import Starlette

from bench import baseline, queries
from cms.config import get_settings
from cms.http.app import create_app

__all__ = ["count_statements"]

_SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
# Set while the counted request runs; the ASGI transport runs the app in this very task,
# and background tasks started by the app's lifespan do not see it.
_counted_request: ContextVar[bool] = ContextVar("counted_request", default=False)


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip()
        if _counted_request.get() and message.upper().startswith(_SQL_VERBS):
            self.statements.append(message)


@contextlib.contextmanager
def _tortoise_statements() -> Iterator[list[str]]:
    logger = logging.getLogger("tortoise.db_client")
    counter, level = _Counter(), logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    marker = _counted_request.set(True)
    try:
        yield counter.statements
    finally:
        _counted_request.reset(marker)
        logger.removeHandler(counter)
        logger.setLevel(level)


async def _feed(client: httpx.AsyncClient, first: int) -> int:
    response = await client.post(
        "/graphql",
        content=queries.feed_body(first=first),
        headers={"content-type": "application/json"},
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"feed query failed: {body['errors']}")
    return len(body["data"]["feed"]["edges"])


async def _count_newsdesk(sizes: list[int]) -> dict[int, int]:
    app = create_app(get_settings())
    counts: dict[int, int] = {}
    async with app.router.lifespan_context(app), _client(app) as client:
        for first in sizes:
            await _feed(client, first)
            with _tortoise_statements() as statements:
                await _feed(client, first)
            counts[first] = len(statements)
    return counts


async def _count_baseline(sizes: list[int]) -> dict[int, int]:
    app = baseline.create_app(get_settings())
    statements: list[str] = []
    counts: dict[int, int] = {}
    async with _client(app) as client:
        for first in sizes:
            await _feed(client, first)
            statements.clear()
            app.state.baseline.database.trace = statements.append
            await _feed(client, first)
            app.state.baseline.database.trace = None
            counts[first] = len(statements)
    return counts


def _client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://bench")


async def count_statements(sizes: list[int]) -> dict[str, dict[int, int]]:
    return {"newsdesk": await _count_newsdesk(sizes), "baseline": await _count_baseline(sizes)}


def main() -> None:
    sizes = [int(size) for size in sys.argv[1:]] or [1, 20, 100]
    print(json.dumps(asyncio.run(count_statements(sizes))))


if __name__ == "__main__":
    main()
