"""The generated newsroom, loaded into PostgreSQL for `make bench DB=postgres`.

The database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_newsdesk)
is dropped and made again on every run, since a run writes to it; `cms migrate` (the
project's migrations, in process) builds the schema, then the rows of the cached SQLite
newsroom are copied over with COPY (asyncpg's copy_records_to_table; foreign keys not
checked again, plain indexes dropped and built after), the id sequences moved past the
copied rows and the tables analysed. The very same rows as the SQLite run,
so the same slugs, ids and feed positions hold.

    python -m bench.pgload [--items N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import generate
from cms import db
from cms.config import Settings

__all__ = ["DEFAULT_URL", "database_url", "dsn", "load"]

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_newsdesk"
# Referenced tables first: COPY checks the foreign keys.
TABLES = ("section", "tag", "media", "author", "content", "content_author", "content_tag")
COPY_ROWS = 20_000


def database_url() -> str:
    """The PostgreSQL database the benchmark may drop and fill (BENCH_DATABASE_URL)."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("bench"):
        raise SystemExit(f"BENCH_DATABASE_URL must name a database called bench…, not {name!r}")
    return url


def dsn(url: str, database: str | None = None) -> str:
    """An asyncpg DSN for a Tortoise URL, optionally for another database on its server."""
    parts = urlsplit(url)
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))


async def _recreate(url: str) -> None:
    import asyncpg

    name = urlsplit(url).path.lstrip("/")
    connection = await asyncpg.connect(dsn(url, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _converter(data_type: str) -> Callable[[Any], Any]:
    """How a value read from SQLite becomes one for a PostgreSQL column of `data_type`."""
    if data_type.startswith("timestamp"):
        return lambda value: None if value is None else datetime.fromisoformat(value)
    if data_type == "boolean":
        return lambda value: None if value is None else bool(value)
    return lambda value: value


async def _drop_plain_indexes(connection: Any) -> list[str]:
    """Drop the loaded tables' indexes that back no constraint; return their definitions."""
    rows = await connection.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        list(TABLES),
    )
    for name, _ in rows:
        await connection.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


async def _copy_search_index(connection: Any, sqlite: sqlite3.Connection) -> None:
    """The search index's rows as the SQLite newsroom holds them, each with the text search
    configuration of its item's locale (cms.content.search.LOCALE_CONFIGS); the GIN index
    is built once after the load."""
    from cms.content import search

    await connection.execute("DROP INDEX IF EXISTS content_search_vector_idx")
    await connection.execute(
        "CREATE TEMPORARY TABLE search_load (content_id integer, title text, dek text, "
        "body text, names text, locale text)"
    )
    rows = sqlite.execute(
        "SELECT s.content_id, s.title, s.dek, s.body, s.names, c.locale "
        "FROM content_search s JOIN content c ON c.id = s.content_id"
    )
    while batch := rows.fetchmany(COPY_ROWS):
        await connection.copy_records_to_table("search_load", records=batch)
    configs = " ".join(
        f"WHEN '{locale}' THEN '{config}'" for locale, config in search.LOCALE_CONFIGS.items()
    )
    await connection.execute(
        "INSERT INTO content_search (content_id, title, dek, body, names, config) "
        "SELECT content_id, title, dek, body, names, "
        f"(CASE locale {configs} ELSE '{search.DEFAULT_CONFIG}' END)::regconfig FROM search_load"
    )
    await connection.execute("DROP TABLE search_load")
    await connection.execute(
        "CREATE INDEX content_search_vector_idx ON content_search USING GIN (vector)"
    )


async def _copy(url: str, source: Path) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn(url))
    sqlite = sqlite3.connect(source)
    try:
        # Foreign keys unchecked (the rows come from a database that checked them) and
        # plain indexes built once after the load: both faster than row by row.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("SET synchronous_commit = off")
        indexes = await _drop_plain_indexes(connection)
        for table in TABLES:
            columns = [column.strip() for column in generate.INSERTS[table].split(",")]
            types = dict(
                await connection.fetch(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = $1",
                    table,
                )
            )
            converters = [_converter(types[column]) for column in columns]
            rows = sqlite.execute(f'SELECT {", ".join(columns)} FROM "{table}"')
            while batch := rows.fetchmany(COPY_ROWS):
                records = [
                    tuple(convert(value) for convert, value in zip(converters, row, strict=True))
                    for row in batch
                ]
                await connection.copy_records_to_table(table, records=records, columns=columns)
            if "id" in types:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)'
                )
        await _copy_search_index(connection, sqlite)
        for definition in indexes:
            await connection.execute(definition)
        await connection.execute("ANALYZE")
    finally:
        sqlite.close()
        await connection.close()


def load(newsroom: generate.GeneratedNewsroom, url: str) -> float:
    """A fresh database at `url` holding `newsroom`; the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_recreate(url))
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    asyncio.run(db.migrate(settings))
    asyncio.run(_copy(url, newsroom.path))
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=generate.DEFAULT_ITEMS)
    args = parser.parse_args()
    url = database_url()
    seconds = load(generate.ensure(args.items), url)
    print(f"{url}: {args.items:,} articles (+10% video) loaded in {seconds} s")


if __name__ == "__main__":
    main()
