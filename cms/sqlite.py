"""Tortoise's SQLite backend, with write transactions that take the write lock at BEGIN.

A plain (deferred) BEGIN reads first and asks for the write lock at its first write; if
another process wrote in between, SQLite fails at once with "database is locked" instead of
waiting out busy_timeout. With several app workers on one SQLite file (or the CLI beside
the server) that happens. BEGIN IMMEDIATE queues the transaction behind the busy timeout.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

__all__ = ["ImmediateSqliteClient", "client_class", "get_client_class"]


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
