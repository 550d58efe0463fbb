"""The committed migrations describe the models exactly: Tortoise's own autodetector (what
`tortoise makemigrations` runs) finds nothing left to write."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from cms import db as database
from cms.config import Settings


async def test_the_models_need_no_new_migration(settings: Settings, db: None) -> None:
    config = database.tortoise_config(settings)
    context = Tortoise._get_context()
    assert context is not None and context.apps is not None

    writers = await MigrationAutodetector(context.apps, config["apps"]).changes()

    pending = [operation.describe() for writer in writers for operation in writer.operations]
    assert pending == [], f"models changed without a migration (tortoise makemigrations): {pending}"
