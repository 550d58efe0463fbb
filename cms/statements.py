"""How many SQL statements the request in progress has sent (for its log line and /metrics).

Tortoise's clients log every statement they send through one logger, `self.log.debug("%s:
%s", query, values)`, and so does cms.sqlite's quick reader; transaction wrappers copy
their parent's `log`. Newsdesk's two backends (cms/postgres.py, cms/sqlite.py) give their
client a `StatementLog` in that attribute, which adds one to the tally of the request in
progress and hands the call on. So every statement is counted on both databases, in and
out of transactions, with one attribute lookup and an integer add; the logger is the same
one tests read to count statements (tests/statements.py).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token
from typing import Any

__all__ = ["StatementLog", "Tally", "begin", "end"]


class Tally:
    """The statements one request has sent so far."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_TALLY: ContextVar[Tally | None] = ContextVar("newsdesk_statements", default=None)


def begin() -> tuple[Tally, Token[Tally | None]]:
    """Start counting for the request in progress (its tasks share the tally)."""
    tally = Tally()
    return tally, _TALLY.set(tally)


def end(token: Token[Tally | None]) -> None:
    _TALLY.reset(token)


class StatementLog:
    """Stands in for Tortoise's `tortoise.db_client` logger on a client: a statement's
    debug line (`"%s: %s"`, or a script alone) adds to the request's tally; the rest of
    the logger is the real one."""

    __slots__ = ("_logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if not args or msg == "%s: %s":
            tally = _TALLY.get()
            if tally is not None:
                tally.count += 1
        self._logger.debug(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)
