"""Counting the SQL a test's code sends: Tortoise logs each statement at DEBUG."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

__all__ = ["counting"]

_SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class _StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip()
        if message.upper().startswith(_SQL_VERBS):
            self.statements.append(message)


@contextlib.contextmanager
def counting() -> Iterator[list[str]]:
    """The statements sent inside the block, as they are sent."""
    logger = logging.getLogger("tortoise.db_client")
    counter = _StatementCounter()
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter.statements
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous_level)
