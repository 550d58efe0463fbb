"""The committed migrations describe the models exactly: Tortoise's own autodetector (what
`tortoise makemigrations` runs) finds nothing left to write."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations import api as migrations_api
from tortoise.migrations.autodetector import MigrationAutodetector

from cms import db as database
from cms.config import Settings
from cms.content import feed


async def test_the_models_need_no_new_migration(settings: Settings, db: None) -> None:
    config = database.tortoise_config(settings)
    context = Tortoise._get_context()
    assert context is not None and context.apps is not None

    writers = await MigrationAutodetector(context.apps, config["apps"]).changes()

    pending = [operation.describe() for writer in writers for operation in writer.operations]
    assert pending == [], f"models changed without a migration (tortoise makemigrations): {pending}"


async def test_the_search_index_migration_indexes_existing_items(tmp_path: Path) -> None:
    """A database made before search had an index: migrating it fills the index, so its
    items are found at once (SQLite; PostgreSQL runs the same migration code)."""
    path = tmp_path / "old.sqlite3"
    settings = Settings(database_url=f"sqlite://{path}", _env_file=None)  # type: ignore[call-arg]
    config = database.tortoise_config(settings)
    await migrations_api.migrate(config=config, target="models.0003_first_published_at")
    await Tortoise.close_connections()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO content (id, kind, status, title, slug, locale, version, "
            "reading_time_minutes, published_at, created_at, updated_at) VALUES "
            "(1, 'article', 'published', 'Strikes on Pokrovsk', 'strikes', 'en', 1, 1, "
            "'2026-01-01 10:00:00+00:00', '2026-01-01 10:00:00+00:00', "
            "'2026-01-01 10:00:00+00:00')"
        )

    applied = await database.migrate(settings)
    await database.open(settings)
    try:
        page = await feed.search(text="strike pokrovsk", now=datetime.now(UTC), first=5)
    finally:
        await database.close()

    assert applied[0] == "models.0004_search_index"
    assert [record.title for record in page.items] == ["Strikes on Pokrovsk"]
