"""Generate a newsroom into a SQLite file, quickly: the project's migrations make the
tables, then the stdlib sqlite3 module bulk-inserts the rows in large transactions.

    python -m bench.generate [--items N] [--regenerate]

`--items N` means N articles and N/10 video episodes. The file is cached under
bench/work/, keyed by the size; it is made again only when missing or when asked.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import newsroom, vocabulary
from bench.newsroom import Batch, Newsroom
from cms import db, migrations
from cms.config import Settings

__all__ = ["DEFAULT_ITEMS", "INSERTS", "GeneratedNewsroom", "WORK_DIR", "ensure", "generate"]

GENERATOR_VERSION = 1
DEFAULT_ITEMS = 100_000
SEED = 20_260_101
BATCH_ITEMS = 25_000
WORK_DIR = Path(__file__).resolve().parent / "work"

INSERTS = {
    "content": (
        "created_at, updated_at, id, kind, status, title, slug, dek, locale, version, "
        "published_at, external_id, body, reading_time_minutes, description, video_url, "
        "duration_seconds, show, episode_number, created_by_token_id, hero_image_id, section_id"
    ),
    "media": (
        "created_at, updated_at, id, key, mime_type, size_bytes, width, height, alt_text, "
        "caption, credit"
    ),
    "content_author": "position, author_id, content_id",
    "content_tag": "content_id, tag_id",
    "section": "created_at, updated_at, id, name, slug",
    "tag": "created_at, updated_at, id, name, slug",
    "author": "created_at, updated_at, id, name, slug, kind, bio, email, avatar_id",
}


@dataclass(frozen=True)
class GeneratedNewsroom:
    path: Path
    items: int
    articles: int
    videos: int
    public: int
    seed: int
    anchor: str
    generated_seconds: float
    size_bytes: int

    @property
    def metadata_path(self) -> Path:
        return self.path.with_suffix(".json")


def _fingerprint() -> str:
    """Changes with the generator's code and with the project's migrations, so a cached
    newsroom is never reused across either."""
    digest = hashlib.sha256(str(GENERATOR_VERSION).encode())
    sources = [Path(newsroom.__file__), Path(vocabulary.__file__)]
    sources += sorted(Path(migrations.__file__).parent.glob("[0-9]*.py"))
    for source in sources:
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()[:10]


def newsroom_path(items: int) -> Path:
    return WORK_DIR / f"newsroom-{items}-{_fingerprint()}.sqlite3"


def _check_columns(connection: sqlite3.Connection) -> None:
    """Fail clearly if a migration added a required column this generator does not fill."""
    for table, columns in INSERTS.items():
        filled = {column.strip() for column in columns.split(",")}
        for _, name, _, notnull, default, pk in connection.execute(f'PRAGMA table_info("{table}")'):
            if notnull and default is None and not pk and name not in filled:
                raise RuntimeError(f"bench/generate.py does not fill {table}.{name}: update it")


def _insert(connection: sqlite3.Connection, table: str, rows: list[tuple[object, ...]]) -> None:
    columns = INSERTS[table]
    marks = ", ".join("?" for _ in columns.split(","))
    connection.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)


def _insert_batch(connection: sqlite3.Connection, batch: Batch) -> None:
    with connection:  # one transaction per batch
        _insert(connection, "media", batch.media)
        _insert(connection, "content", batch.content)
        _insert(connection, "content_author", batch.content_author)
        _insert(connection, "content_tag", batch.content_tag)


def _drop_indexes(connection: sqlite3.Connection) -> list[str]:
    """Drop the plain (non-unique) indexes of the bulk-loaded tables; return their SQL.
    Building them once after the load is faster than keeping them up to date row by row."""
    tables = ", ".join(
        f"'{table}'" for table in ("content", "media", "content_author", "content_tag")
    )
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({tables})"
    ).fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def generate(path: Path, *, items: int, seed: int = SEED) -> GeneratedNewsroom:
    """Write a fresh newsroom of `items` articles (+ items/10 video episodes) to `path`."""
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    _remove(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite://{partial}", _env_file=None)  # type: ignore[call-arg]
    asyncio.run(db.migrate(settings))

    anchor = datetime.now(UTC).replace(microsecond=0)
    rows = Newsroom(articles=items, videos=items // 10, anchor=anchor, seed=seed)
    connection = sqlite3.connect(partial)
    try:
        _check_columns(connection)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
            connection.execute(f"PRAGMA {pragma}")
        with connection:
            _insert(connection, "section", rows.sections())
            _insert(connection, "tag", rows.tags())
            _insert(connection, "media", rows.avatars())
            _insert(connection, "author", rows.authors())
        indexes = _drop_indexes(connection)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn()) as progress:
            task = progress.add_task("generating newsroom", total=rows.total)
            for batch in rows.batches(BATCH_ITEMS):
                _insert_batch(connection, batch)
                progress.advance(task, len(batch))
            progress.update(task, description="building indexes")
            with connection:  # the very statements the migrations ran
                for sql in indexes:
                    connection.execute(sql)
        (public,) = connection.execute(
            "SELECT count(*) FROM content WHERE status = 'published'"
        ).fetchone()
    finally:
        connection.close()
    asyncio.run(_index(settings, total=rows.total))
    connection = sqlite3.connect(partial)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")  # one file to copy; the app sets WAL
    finally:
        connection.close()

    for stale in path.parent.glob(f"newsroom-{items}-*"):
        if stale != partial:
            stale.unlink()
    partial.rename(path)
    generated = GeneratedNewsroom(
        path=path,
        items=items,
        articles=items,
        videos=items // 10,
        public=public,
        seed=seed,
        anchor=anchor.isoformat(),
        generated_seconds=round(time.perf_counter() - started, 2),
        size_bytes=path.stat().st_size,
    )
    metadata = {**asdict(generated), "path": str(path)}
    generated.metadata_path.write_text(json.dumps(metadata, indent=2) + "\n")
    return generated


async def _index(settings: Settings, *, total: int) -> None:
    """The full-text search index of every item, built by the app's own code (what
    `cms reindex` runs), since the rows above went in without the write engine."""
    from cms.content import search

    await db.open(settings)
    try:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn()) as progress:
            task = progress.add_task("building the search index", total=total)
            await search.reindex(
                progress=lambda done, _total: progress.update(task, completed=done),
                batch=2_000,
            )
    finally:
        await db.close()


def ensure(items: int, *, regenerate: bool = False) -> GeneratedNewsroom:
    """The cached newsroom of this size, generated first if missing or when asked."""
    path = newsroom_path(items)
    metadata_path = path.with_suffix(".json")
    if not regenerate and path.exists() and metadata_path.exists():
        metadata = json.loads(metadata_path.read_text())
        return GeneratedNewsroom(**{**metadata, "path": path})
    return generate(path, items=items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="articles (+10%% video)")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached file")
    args = parser.parse_args()
    made = ensure(args.items, regenerate=args.regenerate)
    print(
        f"{made.path}: {made.articles:,} articles, {made.videos:,} video episodes, "
        f"{made.public:,} public; {made.size_bytes / 1e6:,.0f} MB, "
        f"generated in {made.generated_seconds} s"
    )


if __name__ == "__main__":
    main()
