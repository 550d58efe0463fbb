"""Backups: an online copy of a SQLite database; for PostgreSQL, the pg_dump command.

SQLite's backup API copies the database page by page under a read transaction, so the
copy is consistent (one moment's state) while the server goes on writing: unlike copying
the file, which can catch a write half-way or miss what still sits in the WAL file.
"""

from __future__ import annotations

import shlex
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tortoise.backends.base.config_generator import expand_db_url

from cms.config import Settings
from cms.errors import CmsError

__all__ = ["pg_dump_command", "sqlite_backup", "sqlite_file"]


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file (None for PostgreSQL and in-memory SQLite)."""
    if not settings.is_sqlite:
        return None
    file_path = expand_db_url(settings.database_url)["credentials"]["file_path"]
    return None if file_path == ":memory:" else Path(file_path)


def sqlite_backup(source: Path, target: Path, *, force: bool = False) -> int:
    """Copy the database `source` to `target` through the backup API; answer the copy's
    size in bytes. An existing `target` is refused unless `force`; the copy is written
    beside it and renamed at the end, so a failed backup never leaves half a file."""
    if not source.is_file():
        raise CmsError(f"no SQLite database at {source}")
    if target.exists() and not force:
        raise CmsError(f"{target} exists; pass --force to replace it")
    if target.resolve() == source.resolve():
        raise CmsError("the backup must go to another file than the database")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source)) as reader, closing(sqlite3.connect(partial)) as copy:
            reader.execute("PRAGMA busy_timeout = 5000")
            reader.backup(copy)  # every page in one step: one consistent moment
            # The copy is a plain database of its own, not tied to a WAL file.
            copy.execute("PRAGMA journal_mode = DELETE")
        partial.replace(target)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise CmsError(f"backup failed: {error}") from None
    return target.stat().st_size


def pg_dump_command(database_url: str, target: Path) -> str:
    """The pg_dump command that backs up the PostgreSQL database of `database_url` into
    `target` (custom format, for pg_restore). The password is not in it: pg_dump reads
    it from PGPASSWORD or ~/.pgpass."""
    parts = urlsplit(database_url)
    words = ["pg_dump", "--format=custom", f"--file={target}"]
    if parts.hostname:
        words.append(f"--host={parts.hostname}")
    if parts.port:
        words.append(f"--port={parts.port}")
    if parts.username:
        words.append(f"--username={unquote(parts.username)}")
    words.append(unquote(parts.path.lstrip("/")) or "postgres")
    return shlex.join(words)
