"""Hand-written SQL for both databases, for the reads Tortoise cannot write (full-text
search, a locale's feed with fallback): placeholders in each database's style, and times
as each compares them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

__all__ = ["Placeholders", "db_time", "dialect"]


def dialect(connection: BaseDBAsyncClient) -> str:
    return str(connection.capabilities.dialect)


def db_time(value: datetime, postgres: bool) -> Any:
    """A time as each database compares it: SQLite's stored text, PostgreSQL's timestamptz."""
    value = value.astimezone(UTC)
    return value if postgres else value.isoformat(sep=" ")


class Placeholders:
    """Placeholders in the connection's style, numbered in order of use; calling one with
    a value gives its placeholder and keeps the value in `params`."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgres"
        self.params: list[Any] = []

    def __call__(self, value: Any) -> str:
        if isinstance(value, datetime):
            value = db_time(value, self.postgres)
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else "?"
