"""Tortoise's SQLite backend, with write transactions that take the write lock at BEGIN,
and a reader in the event loop's own thread for short reads.

A plain (deferred) BEGIN reads first and asks for the write lock at its first write; if
another process wrote in between, SQLite fails at once with "database is locked" instead of
waiting out busy_timeout. With several app workers on one SQLite file (or the CLI beside
the server) that happens. BEGIN IMMEDIATE queues the transaction behind the busy timeout.

Tortoise runs every statement in aiosqlite's thread: each one is a hand-over to that
thread and a wake-up of the event loop when it is done, which costs more CPU than a
keyset read of an indexed page itself. `quick_rows` runs such a read on a second
connection to the same file, in the loop's thread, as the benchmark's hand-written baseline
does. In WAL mode a reader never waits for the writer and sees what was committed when its
statement began: what a read through Tortoise's connection sees, outside a transaction. It
is used only for reads that seek an index (never a scan), only outside transactions (a
transaction's reads go through its own connection and see its own writes), and never for
an in-memory database, which a second connection would not share.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import OperationalError, TransactionManagementError

__all__ = ["ImmediateSqliteClient", "client_class", "get_client_class", "quick_rows"]


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


class ImmediateSqliteClient(SqliteClient):
    _reader: sqlite3.Connection | None = None
    _loop_thread: int | None = None

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)

    async def create_connection(self, with_db: bool) -> None:
        await super().create_connection(with_db)
        self._loop_thread = threading.get_ident()

    def quick_reader(self) -> sqlite3.Connection | None:
        """The loop thread's reader of this database (None where there can be none: in
        another thread, or for an in-memory database)."""
        if (
            self._loop_thread != threading.get_ident()
            or self.filename == ":memory:"
            or "mode=memory" in self.filename
        ):
            return None
        if self._reader is None:
            self._reader = sqlite3.connect(self.filename, isolation_level=None)
            timeout = int(self.pragmas.get("busy_timeout", 5000))
            self._reader.execute(f"PRAGMA busy_timeout={timeout}")
        return self._reader

    async def close(self) -> None:
        if self._reader is not None and self._loop_thread == threading.get_ident():
            self._reader.close()
        self._reader = self._loop_thread = None
        await super().close()


def quick_rows(client: Any, sql: str, params: list[Any]) -> list[dict[str, Any]] | None:
    """The rows of a short read run on `client`'s loop-thread reader, or None when it has
    none (another backend, a transaction, an in-memory database): then read as usual."""
    if type(client) is not ImmediateSqliteClient:
        return None
    reader = client.quick_reader()
    if reader is None:
        return None
    client.log.debug("%s: %s", sql, params)  # as Tortoise logs every statement it sends
    try:
        cursor = reader.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except sqlite3.Error as error:  # as Tortoise's own reads raise them
        raise OperationalError(error) from error


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
