"""A served worker freezes the objects it starts with (the schema, the ORM, the modules), so
the garbage collector's full collections stop walking them on every request's watch; apps
built for tests leave the collector as it is."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from tortoise import Tortoise

from cms import db as database
from cms.config import Settings
from cms.http.app import app_from_environment, create_app


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # what a test froze must not stay out of the collector's sight


async def _frozen_while_serving(app: Starlette) -> int:
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()


async def test_the_served_worker_freezes_what_it_started_with(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CMS_DATABASE_URL", f"sqlite://{tmp_path / 'heap.sqlite3'}")
    monkeypatch.setenv("CMS_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("CMS_REDIS_URL", "")
    monkeypatch.setenv("CMS_ENV", "test")

    frozen = await _frozen_while_serving(app_from_environment())

    assert frozen > 10_000  # the schema, Tortoise and every imported module at least


async def test_an_app_built_for_tests_leaves_the_collector_alone(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite://{tmp_path / 'heap.sqlite3'}",
        media_dir=str(tmp_path / "media"),
        env="test",
    )
    await Tortoise.init(config=database.tortoise_config(settings))
    try:
        frozen = await _frozen_while_serving(create_app(settings, manage_database=False))
    finally:
        await Tortoise.close_connections()

    assert frozen == 0
