"""SQLite write transactions take the write lock at BEGIN, so a writer in another process
makes them wait (busy_timeout) instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction

from cms.config import Settings
from cms.models import Content
from tests import factories


async def test_a_read_then_write_transaction_survives_a_writer_in_another_process(
    db: None, settings: Settings
) -> None:
    if not settings.is_sqlite:
        pytest.skip("SQLite's locking only")
    story = await factories.make_article(title="Original")
    path = expand_db_url(settings.database_url)["credentials"]["file_path"]
    other_done = threading.Event()
    errors: list[BaseException] = []

    def other_process_writes() -> None:
        try:
            with sqlite3.connect(path, timeout=10) as other:
                other.execute("UPDATE content SET dek = 'other' WHERE id = ?", (story.id,))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            other_done.set()

    async with in_transaction() as connection:
        current = await Content.get(id=story.id, using_db=connection)  # a read first
        writer = threading.Thread(target=other_process_writes)
        writer.start()
        await asyncio.sleep(0.3)  # the other writer has tried by now
        await Content.filter(id=story.id).using_db(connection).update(title=current.title + "!")
    await asyncio.to_thread(other_done.wait, 10)
    writer.join()

    assert errors == []
    saved = await Content.get(id=story.id)
    assert (saved.title, saved.dek) == ("Original!", "other")
