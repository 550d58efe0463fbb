"""SQLite write transactions take the write lock at BEGIN, so a writer in another process
makes them wait (busy_timeout) instead of failing with "database is locked"; short reads
run on the loop thread's own reader where that gives the same answer."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from cms import clock, sqlite
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.content import items
from cms.db import SQLITE_PRAGMAS
from cms.models import Content
from cms.sqlite import ImmediateSqliteClient
from tests import factories

EDITOR = Viewer(name="editor", role=Role.EDITOR, token_id=None)


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


async def test_quick_reads_see_what_is_committed_and_transactions_see_their_own(
    db: None, settings: Settings
) -> None:
    """Index seeks run on the loop thread's reader; a transaction's reads do not, so they
    see the transaction's own writes, and what it has not committed stays unseen by others."""
    if not settings.is_sqlite:
        pytest.skip("SQLite's reader only")
    story = await factories.make_article(title="Seen", published_at=clock.utcnow())
    client = Tortoise.get_connection("default")
    assert isinstance(client, ImmediateSqliteClient)
    assert client.quick_reader() is not None

    async with in_transaction() as connection:
        await Content.filter(id=story.id).using_db(connection).update(title="Retitled")
        inside = await items.by_id(id=story.id, viewer=EDITOR, now=clock.utcnow())
        outside = sqlite.quick_rows(client, "SELECT title FROM content WHERE id = ?", [story.id])
        assert inside is not None and inside.title == "Retitled"
        assert outside == [{"title": "Seen"}]
    after = await items.by_id(id=story.id, viewer=EDITOR, now=clock.utcnow())

    assert after is not None and after.title == "Retitled"


async def test_quick_reads_are_refused_where_they_cannot_be_right(
    db: None, settings: Settings
) -> None:
    if not settings.is_sqlite:
        assert sqlite.quick_rows(Tortoise.get_connection("default"), "SELECT 1", []) is None
        return
    client = Tortoise.get_connection("default")
    assert isinstance(client, ImmediateSqliteClient)
    other_thread = await asyncio.to_thread(client.quick_reader)
    memory = ImmediateSqliteClient(":memory:", connection_name="memory")
    await memory.create_connection(with_db=True)
    try:
        in_memory = sqlite.quick_rows(memory, "SELECT 1", [])
    finally:
        await memory.close()

    assert other_thread is None  # the reader belongs to the loop's thread
    assert in_memory is None  # a second connection would be another database
    with pytest.raises(OperationalError, match="no such table"):
        sqlite.quick_rows(client, "SELECT * FROM no_such_table", [])


async def test_both_connections_keep_the_configured_page_cache(
    db: None, settings: Settings
) -> None:
    """cms.db.SQLITE_PRAGMAS' cache_size on the connection Tortoise opens and on the loop
    thread's reader, where searches read their window."""
    if not settings.is_sqlite:
        pytest.skip("SQLite's connections only")
    client = Tortoise.get_connection("default")
    assert isinstance(client, ImmediateSqliteClient)
    reader = client.quick_reader()
    if reader is None:
        pytest.skip("an in-memory database has no reader of its own")
    expected = SQLITE_PRAGMAS["cache_size"]
    (own,) = (await client.execute_query_dict("PRAGMA cache_size"))[0].values()
    assert own == expected
    assert reader.execute("PRAGMA cache_size").fetchone() == (expected,)
