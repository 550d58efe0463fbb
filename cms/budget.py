"""The time budget of a GraphQL read (CMS_QUERY_TIMEOUT_MS): a deadline its statements keep.

The GraphQL endpoint runs each query `within` the budget; the database clients hold every
statement sent under it to the deadline: one sent after it is refused at once, one running
past it is stopped (SQLite by the connection's progress handler, cms/sqlite.py; PostgreSQL
by asyncpg's cancel request, cms/postgres.py). Either way the read fails with
`QueryTimeout`, which the schema answers as a GraphQL error with code QUERY_TIMEOUT, and
the worker goes on serving. Nothing else sets a deadline: mutations, migrations, the
dispatcher and the command line never run under one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from cms.errors import CmsError

__all__ = ["QueryTimeout", "deadline", "exceeded", "expired", "remaining", "within"]

# (deadline on time.monotonic's clock, the budget in milliseconds) of the read in progress.
_BUDGET: ContextVar[tuple[float, int] | None] = ContextVar("newsdesk_read_budget", default=None)


class QueryTimeout(CmsError):
    """A read ran out of its time budget; its statement was stopped."""


def exceeded() -> QueryTimeout:
    current = _BUDGET.get()
    milliseconds = current[1] if current is not None else 0
    return QueryTimeout(
        f"The query took longer than its time budget of {milliseconds:,} ms "
        "(CMS_QUERY_TIMEOUT_MS) and was stopped; ask for less (a smaller page, fewer "
        "nested connections)."
    )


@contextmanager
def within(milliseconds: int) -> Iterator[None]:
    """Run the block under a budget of `milliseconds` (0: none). Inside a block that
    already has a budget, the earlier deadline holds."""
    if milliseconds <= 0:
        yield
        return
    ends = time.monotonic() + milliseconds / 1000
    current = _BUDGET.get()
    if current is not None and current[0] <= ends:
        yield
        return
    token = _BUDGET.set((ends, milliseconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def deadline() -> float | None:
    """The deadline of the read in progress (time.monotonic), or None when there is none."""
    current = _BUDGET.get()
    return current[0] if current is not None else None


def remaining() -> float | None:
    """Seconds left of the read's budget (0 or less: spent), or None without a budget."""
    current = _BUDGET.get()
    return current[0] - time.monotonic() if current is not None else None


def expired() -> bool:
    """The read in progress has spent its budget (False without one). Cheap enough for
    SQLite's progress handler in the event loop's thread."""
    current = _BUDGET.get()
    return current is not None and time.monotonic() > current[0]
