"""Tortoise's SQLite backend, with write transactions that take the write lock at BEGIN,
and a reader in the event loop's own thread for short reads.

A plain (deferred) BEGIN reads first and asks for the write lock at its first write; if
another process wrote in between, SQLite fails at once with "database is locked" instead of
waiting out busy_timeout. With several app workers on one SQLite file (or the CLI beside
the server) that happens. BEGIN IMMEDIATE queues the transaction behind the busy timeout.

Tortoise runs every statement in aiosqlite's thread: each one is a hand-over to that thread
and a wake-up of the event loop when it is done, which costs more CPU than a keyset read of
an indexed page itself. `quick_rows` (and `quick_tuples`) runs such a read on a second
connection to the same file, in the loop's thread, as the benchmark's hand-written baseline
does. In WAL mode a reader never waits for the writer and sees what was committed when its
statement began: what a read through Tortoise's connection sees, outside a transaction. It
is used only for reads that seek an index (never a scan), only outside transactions (a
transaction's reads go through its own connection and see its own writes), and never for an
in-memory database, which a second connection would not share.

The time budget of a read (cms/budget.py) holds on both connections through SQLite's
progress handler, which aborts a running statement ("interrupted") when it answers
non-zero. On the reader it runs in the loop's thread and reads the budget itself. Tortoise's
connection runs statements in aiosqlite's thread, where the request's context is not seen:
each statement outside a transaction takes the connection's lock, so the deadline of the
read that holds the lock is put on the client for the handler to read, and taken off
before the lock is released (a transaction's statements, writes, never see one).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from tortoise.backends.base.client import ConnectionWrapper, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import OperationalError, TransactionManagementError

from cms import budget, statements

__all__ = [
    "ImmediateSqliteClient",
    "client_class",
    "get_client_class",
    "quick_rows",
    "quick_tuples",
]


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


# SQLite calls the progress handler every this many virtual machine instructions (well
# under a millisecond of work): often enough to stop a statement soon after its deadline.
PROGRESS_STEPS = 1_000


def _interrupted(error: BaseException | None) -> bool:
    return isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted"


class _BudgetedConnection(ConnectionWrapper[Any]):
    """The connection for one statement outside a transaction, under the read's budget."""

    __slots__ = ()

    async def __aenter__(self) -> Any:
        ends = budget.deadline()
        if ends is not None and time.monotonic() > ends:
            raise budget.exceeded()
        connection = await super().__aenter__()
        client: Any = self.client
        client.statement_deadline = ends
        return connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        client: Any = self.client
        ends, client.statement_deadline = client.statement_deadline, None
        await super().__aexit__(exc_type, exc_val, exc_tb)
        if ends is not None and _interrupted(exc_val):
            raise budget.exceeded() from exc_val


class ImmediateSqliteClient(SqliteClient):
    _reader: sqlite3.Connection | None = None
    _loop_thread: int | None = None
    # The deadline of the statement running on the connection (None: it has none). Read
    # by the progress handler in aiosqlite's thread.
    statement_deadline: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each statement sent adds to the request's tally (cms.statements); transactions
        # and the quick reader log through this client's `log` too.
        self.log = statements.StatementLog(self.log)  # type: ignore[assignment]

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return _BudgetedConnection(self._lock, self)

    async def create_connection(self, with_db: bool) -> None:
        created = self._connection is None
        await super().create_connection(with_db)
        self._loop_thread = threading.get_ident()
        if created and self._connection is not None:
            await self._connection.set_progress_handler(self._past_deadline, PROGRESS_STEPS)

    def _past_deadline(self) -> bool:
        ends = self.statement_deadline
        return ends is not None and time.monotonic() > ends

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
            if "cache_size" in self.pragmas:
                self._reader.execute(f"PRAGMA cache_size={int(self.pragmas['cache_size'])}")
            self._reader.set_progress_handler(budget.expired, PROGRESS_STEPS)
        return self._reader

    async def close(self) -> None:
        if self._reader is not None and self._loop_thread == threading.get_ident():
            self._reader.close()
        self._reader = self._loop_thread = None
        await super().close()


def quick_rows(client: Any, sql: str, params: list[Any]) -> list[dict[str, Any]] | None:
    """The rows of a short read run on `client`'s loop-thread reader, or None when it has
    none (another backend, a transaction, an in-memory database): then read as usual."""
    cursor = _quick_cursor(client, sql, params)
    if cursor is None:
        return None
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in _fetched(cursor)]


def quick_tuples(client: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]] | None:
    """`quick_rows` as tuples, in the order of the statement's columns (for reads of
    hundreds of rows, where a dict a row costs more than the read)."""
    cursor = _quick_cursor(client, sql, params)
    return None if cursor is None else _fetched(cursor)


def _quick_cursor(client: Any, sql: str, params: list[Any]) -> sqlite3.Cursor | None:
    if type(client) is not ImmediateSqliteClient:
        return None
    reader = client.quick_reader()
    if reader is None:
        return None
    if budget.expired():
        raise budget.exceeded()
    client.log.debug("%s: %s", sql, params)  # as Tortoise logs every statement it sends
    try:
        return reader.execute(sql, params)
    except sqlite3.Error as error:
        raise _raised(error) from error


def _fetched(cursor: sqlite3.Cursor) -> list[tuple[Any, ...]]:
    try:
        return cursor.fetchall()
    except sqlite3.Error as error:
        raise _raised(error) from error


def _raised(error: sqlite3.Error) -> Exception:
    """What Tortoise's own reads raise for `error` (the budget's error past its deadline)."""
    if _interrupted(error) and budget.expired():
        return budget.exceeded()
    return OperationalError(error)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
