"""Export and import through the services, across databases: the round trip gives the
same lines, a second import skips everything and writes no history or event, a malformed
line stops the import with its number and leaves its batch out, and no secret is exported."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from tortoise import Tortoise

from cms import clock
from cms import db as database
from cms.auth import tokens
from cms.config import Settings
from cms.content import corrections, editing, inputs, previews, publishing, upserts
from cms.demo import loader
from cms.models import (
    ApiToken,
    Content,
    ContentKind,
    Correction,
    OutboxEvent,
    Revision,
    Section,
    SigningKey,
    Webhook,
)
from cms.portability import export, import_
from tests.conftest import POSTGRES_URL
from tests.factories import ADMIN_VIEWER

WEBHOOK_SECRET = "whsec_do-not-export-this-secret"

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        env="test",
        media_dir=str(tmp_path / "media"),
        redis_url=None,
        run_dispatcher=False,
    )


@asynccontextmanager
async def _opened(url: str, tmp_path: Path) -> AsyncIterator[None]:
    """The database `url`, open and empty."""
    settings = _settings(url, tmp_path)
    async with database.lifespan(settings):
        if not settings.is_sqlite:
            tables = ", ".join(
                f'"{model._meta.db_table}"'
                for app in (Tortoise.apps or {}).values()
                for model in app.values()
            )
            await Tortoise.get_connection("default").execute_script(
                f"TRUNCATE {tables} RESTART IDENTITY CASCADE"
            )
        yield


@pytest.fixture
def url_of(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Callable[[str, str], str]:
    """`url_of(backend, name)`: a migrated database (SQLite: a file called `name`). Asks for
    PostgreSQL here, in the synchronous fixture: its setup runs its own event loop."""
    postgres = (
        request.getfixturevalue("postgres_migrated")
        if POSTGRES_URL and "postgres" in request.node.name
        else None
    )

    def url_of(backend: str, name: str) -> str:
        if backend == "postgres":
            if postgres is None:
                pytest.skip("PostgreSQL tests need CMS_TEST_DATABASE_URL")
            return str(postgres)
        path = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite://{path}"

    return url_of


async def _export() -> bytes:
    chunks: list[bytes] = []
    await export.export(write=chunks.append, batch=4)  # small pages: keyset paging runs
    return b"".join(chunks)


async def _newsroom(tmp_path: Path) -> list[str]:
    """The demo newsroom plus what it lacks: history, corrections, a kill, a story whose
    first item was deleted, a webhook, tokens and a preview signing key. Answers the
    secrets that must never be exported."""
    await loader.load(media_dir=tmp_path / "media", default_locale="en")
    wire = inputs.ContentInput(
        title="Dam breached", body="Water *rising*.", section_slug="war", tag_slugs=["kherson"]
    )
    item = await upserts.upsert(
        kind=ContentKind.ARTICLE, external_id="wire:1", data=wire, viewer=ADMIN_VIEWER,
        default_locale="en",
    )  # fmt: skip
    await upserts.upsert(
        kind=ContentKind.ARTICLE, external_id="wire:1", viewer=ADMIN_VIEWER, default_locale="en",
        data=inputs.ContentInput(title="Dam breached", dek="Evacuations begin.", body="Water."),
    )  # fmt: skip
    await publishing.publish(id=item.id, viewer=ADMIN_VIEWER)
    await corrections.add(id=item.id, viewer=ADMIN_VIEWER, correction="The dam is 30 m high.")
    doomed = await editing.create(
        kind=ContentKind.ARTICLE, data=inputs.ContentInput(title="Rumour"), viewer=ADMIN_VIEWER,
        default_locale="en",
    )  # fmt: skip
    await publishing.publish(id=doomed.id, viewer=ADMIN_VIEWER)
    await publishing.kill(id=doomed.id, viewer=ADMIN_VIEWER, reason="Court order 12/2026")
    first = await editing.create(
        kind=ContentKind.VIDEO_EPISODE, viewer=ADMIN_VIEWER, default_locale="en",
        data=inputs.ContentInput(title="Frontline", video_url="https://v.example/1.mp4",
                                 duration_seconds=90, episode_number=3, show="Frontline"),
    )  # fmt: skip
    await editing.create(
        kind=ContentKind.VIDEO_EPISODE, viewer=ADMIN_VIEWER, default_locale="en",
        data=inputs.ContentInput(title="Фронт", video_url="https://v.example/1uk.mp4",
                                 locale="uk", translation_of=first.id),
    )  # fmt: skip
    await publishing.delete(id=first.id, viewer=ADMIN_VIEWER)  # its translation stays
    await Webhook.create(
        url="https://partner.example/hooks", events=["CONTENT_PUBLISHED", "CONTENT_KILLED"],
        secret=WEBHOOK_SECRET, created_by="tests",
    )  # fmt: skip
    token, secret = await tokens.create(name="wire", role="author")
    await previews.create_link(
        id=item.id, ttl_seconds=600, viewer=ADMIN_VIEWER, now=clock.utcnow(), pattern="{token}"
    )
    key = await SigningKey.get(name="preview")
    return [WEBHOOK_SECRET, secret, token.secret_hash, key.secret]


PAIRS = [
    pytest.param("sqlite", "sqlite", id="sqlite-to-sqlite"),
    pytest.param("sqlite", "postgres", id="sqlite-to-postgres", marks=pytest.mark.postgres),
    pytest.param("postgres", "sqlite", id="postgres-to-sqlite", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(("source", "target"), PAIRS)
async def test_export_import_export_gives_the_same_lines(
    source: str, target: str, url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    async with _opened(url_of(source, "source"), tmp_path):
        secrets = await _newsroom(tmp_path)
        exported = await _export()
        source_revisions = await Revision.all().count()

    for secret in secrets:
        assert secret.encode() not in exported
    lines = [orjson.loads(line) for line in exported.splitlines()]
    types = [line["type"] for line in lines]
    assert types[0] == "export"
    assert {"section", "tag", "media", "author", "content", "webhook"} <= set(types)
    assert all("id" not in line for line in lines)
    assert not any("token" in key or "secret" in key for line in lines for key in line)

    async with _opened(url_of(target, "target"), tmp_path):
        report = await import_.load(io.BytesIO(exported), batch=5)
        assert report.counts["content"]["created"] == types.count("content")
        assert [url for url, _ in report.webhook_secrets] == ["https://partner.example/hooks"]
        assert (await Webhook.get()).secret not in (WEBHOOK_SECRET, "")
        assert await ApiToken.all().count() == 0  # tokens are never exported
        assert await OutboxEvent.all().count() == 0  # a move is not news
        assert await Revision.all().count() == source_revisions

        again = await _export()

    assert again.splitlines() == exported.splitlines()


async def test_a_batch_of_new_items_is_written_in_every_column_but_the_id(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    # place_new writes content rows by hand: a column it does not name would stay empty.
    async with _opened(url_of("sqlite", "columns"), tmp_path):
        columns = set(Content._meta.fields_db_projection.values()) - {"id"}
    assert set(upserts._CONTENT_COLUMNS) == columns


@pytest.mark.postgres
async def test_an_import_into_postgres_leaves_the_planner_statistics_of_what_it_filled(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    async with _opened(url_of("sqlite", "source"), tmp_path):
        await _newsroom(tmp_path)
        exported = await _export()
    async with _opened(url_of("postgres", "target"), tmp_path):
        connection = Tortoise.get_connection("default")
        tables = list(import_._ANALYZED)
        query = "SELECT relname, reltuples FROM pg_class WHERE relname = ANY($1::text[])"

        async def rows_known() -> dict[str, float]:
            rows = await connection.execute_query_dict(query, [tables])
            return {row["relname"]: row["reltuples"] for row in rows}

        assert (await rows_known())["content"] == -1  # emptied: never analysed since
        await import_.load(io.BytesIO(exported), batch=5)
        known = await rows_known()
        assert set(known) == set(tables)
        assert known["content"] == await Content.all().count()
        assert known["section"] == await Section.all().count()


async def test_a_second_import_skips_everything_and_writes_nothing(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    async with _opened(url_of("sqlite", "source"), tmp_path):
        await _newsroom(tmp_path)
        exported = await _export()
    async with _opened(url_of("sqlite", "target"), tmp_path):
        await import_.load(io.BytesIO(exported))
        before = (
            await Revision.all().count(),
            await Correction.all().count(),
            await OutboxEvent.all().count(),
            await Webhook.all().count(),
            sorted(await Content.all().values_list("id", "version", "updated_at")),
        )

        report = await import_.load(io.BytesIO(exported))

        assert all(row["created"] == row["updated"] == 0 for row in report.counts.values())
        assert (
            sum(row["skipped"] for row in report.counts.values()) == len(exported.splitlines()) - 1
        )  # all but the first line, which names the format
        assert report.webhook_secrets == []
        after = (
            await Revision.all().count(),
            await Correction.all().count(),
            await OutboxEvent.all().count(),
            await Webhook.all().count(),
            sorted(await Content.all().values_list("id", "version", "updated_at")),
        )
        assert after == before


async def test_an_import_brings_a_changed_item_back_to_the_file(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    async with _opened(url_of("sqlite", "source"), tmp_path):
        await _newsroom(tmp_path)
        exported = await _export()
        # Changed behind the services' back (a hand-made UPDATE): same version, other title.
        await Content.filter(external_id="wire:1").update(title="Changed here")

        report = await import_.load(io.BytesIO(exported))

        assert report.counts["content"]["updated"] == 1
        row = await Content.get(external_id="wire:1")
        assert (row.title, row.version) == ("Dam breached", 3 + 1)  # 2 upserts, publish, fix
        assert (await _export()).splitlines() == exported.splitlines()


async def test_an_item_edited_since_the_export_is_kept_and_stays_editable(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    """Importing the same file again after the desk moved on: the newer item is kept (the
    file's version put back would clash with the revisions made since), a correction
    added here stays, and the item takes further edits."""
    async with _opened(url_of("sqlite", "source"), tmp_path):
        await _newsroom(tmp_path)
        exported = await _export()
    async with _opened(url_of("sqlite", "target"), tmp_path):
        await import_.load(io.BytesIO(exported))
        item = await Content.get(external_id="wire:1")
        edit = inputs.ContentInput(title="Dam breached", body="Water is falling.")
        await upserts.upsert(
            kind=ContentKind.ARTICLE, external_id="wire:1", data=edit, viewer=ADMIN_VIEWER,
            default_locale="en",
        )  # fmt: skip
        await corrections.add(id=item.id, viewer=ADMIN_VIEWER, correction="Added here.")
        other = await Content.get(slug="rumour")
        await Correction.create(
            content_id=other.id, text="Only here.", created_by="tests", created_at=clock.utcnow()
        )
        edited = (await Content.get(external_id="wire:1")).version
        assert edited > item.version

        report = await import_.load(io.BytesIO(exported))

        assert report.counts["content"]["updated"] == 0, report.counts
        kept = await Content.get(external_id="wire:1")
        assert (kept.version, kept.body) == (edited, "Water is falling.")
        assert await Correction.filter(content_id=item.id).count() == 2
        assert await Correction.filter(content_id=other.id, text="Only here.").exists()
        await upserts.upsert(
            kind=ContentKind.ARTICLE, external_id="wire:1", viewer=ADMIN_VIEWER,
            default_locale="en", data=inputs.ContentInput(title="Dam breached", body="Dry."),
        )  # fmt: skip
        assert (await Content.get(external_id="wire:1")).version == edited + 1


HEADER = b'{"format":"newsdesk-export","type":"export","version":1}'


def _section(slug: str) -> bytes:
    return b'{"name":"S","slug":"%s","type":"section"}' % slug.encode()


MALFORMED = [
    pytest.param(b'{"name":"S","slug":"broken"', "not JSON", id="bad-json"),
    pytest.param(b"[1, 2]", "not a JSON object", id="not-an-object"),
    pytest.param(b'{"type":"desk"}', "unknown type 'desk'", id="unknown-type"),
    pytest.param(b'{"name":"S","type":"section"}', "missing field 'slug'", id="missing-field"),
    pytest.param(
        b'{"name":"S","slug":"Not A Slug","type":"section"}', "not a slug", id="invalid-slug"
    ),
    pytest.param(b'{"name":7,"slug":"x","type":"section"}', "wrong type", id="wrong-type"),
    pytest.param(
        b'{"kind":"article","external_id":null,"slug":"x","locale":"en","status":"bogus",'
        b'"story":null,"type":"content","version":1}',
        "field 'status' must be one of",
        id="invalid-status",
    ),
    pytest.param(
        b'{"type":"author","slug":"x","name":"X","kind":"desk","bio":null,"email":null,'
        b'"avatar":"no-such-file.png"}',
        "unknown media 'no-such-file.png'",
        id="unknown-reference",
    ),
    pytest.param(  # longer than its column: PostgreSQL would refuse the batch, SQLite keep it
        b'{"type":"author","slug":"x","name":"X","kind":"desk","bio":null,"email":"%s",'
        b'"avatar":null}' % (b"a" * 250 + b"@x.org"),
        "field 'email' must be at most 254 characters",
        id="too-long",
    ),
]


@pytest.mark.parametrize(("bad", "reason"), MALFORMED)
async def test_a_malformed_line_stops_the_import_with_its_number_and_its_batch_rolled_back(
    url_of: Callable[[str, str], str], tmp_path: Path, bad: bytes, reason: str
) -> None:
    # Batches of 3 lines: 1-3 commit; 4-6 hold the bad line 5, so 4 must not stay.
    good = [HEADER, _section("first"), _section("second"), _section("third")]
    lines = [*good, bad, _section("fourth")]
    async with _opened(url_of("sqlite", "db"), tmp_path):
        with pytest.raises(import_.LineError) as stopped:
            await import_.load(iter(lines), batch=3)

        assert stopped.value.number == 5
        assert str(stopped.value).startswith("line 5: ")
        assert reason in str(stopped.value)
        assert stopped.value.report.counts["section"]["created"] == 2
        assert sorted(await Section.all().values_list("slug", flat=True)) == ["first", "second"]

        # Mended and run again, it resumes: what was committed is skipped.
        mended = [*good, _section("fifth"), _section("fourth")]
        report = await import_.load(iter(mended), batch=3)
        assert report.counts["section"] == {"created": 3, "updated": 0, "skipped": 2}


async def test_a_file_of_another_format_is_refused_at_its_first_line(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    async with _opened(url_of("sqlite", "db"), tmp_path):
        with pytest.raises(import_.LineError, match="line 1: not a newsdesk-export file"):
            await import_.load(iter([b'{"format":"other","type":"export","version":1}']))


@pytest.mark.postgres
async def test_an_export_on_postgresql_reads_one_moment_of_the_newsroom(
    url_of: Callable[[str, str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server writing while the export runs: rows made after the export began are not
    in the file (a later content line could name them otherwise, and the import would stop
    at an unknown tag); the export reads in one REPEATABLE READ transaction."""
    url = url_of("postgres", "db")
    pages = export._pages

    async def pages_while_the_desk_writes(model: Any, batch: int) -> AsyncIterator[Any]:
        async for rows in pages(model, batch):
            yield rows
            if model is Section:  # another connection, as a server would: committed at once
                desk = await asyncpg.connect(url)
                try:
                    await desk.execute(
                        "INSERT INTO section (name, slug, created_at, updated_at) "
                        "VALUES ('Later', 'later', now(), now())"
                    )
                finally:
                    await desk.close()

    async with _opened(url, tmp_path):
        await Section.create(name="First", slug="first")
        monkeypatch.setattr(export, "_pages", pages_while_the_desk_writes)

        lines = [orjson.loads(line) for line in (await _export()).splitlines()]

        assert [line["slug"] for line in lines if line["type"] == "section"] == ["first"]
        assert await Section.filter(slug="later").exists()  # it was written meanwhile


def _changed(line: bytes, **values: Any) -> bytes:
    return orjson.dumps({**orjson.loads(line), **values})


async def test_each_kind_of_bad_content_or_webhook_line_stops_with_its_reason(
    url_of: Callable[[str, str], str], tmp_path: Path
) -> None:
    """Lines of a real export, each spoiled one way: every one stops the import at its
    line with a reason a person can act on, and nothing of its batch stays."""
    async with _opened(url_of("sqlite", "source"), tmp_path):
        await _newsroom(tmp_path)
        exported = (await _export()).splitlines()
    head, rest = exported[0], exported[1:]
    taxonomy = [line for line in rest if orjson.loads(line)["type"] != "content"]
    taxonomy = [line for line in taxonomy if orjson.loads(line)["type"] != "webhook"]
    items = [line for line in rest if orjson.loads(line)["type"] == "content"]
    article = next(line for line in items if orjson.loads(line)["external_id"] == "wire:1")
    video = next(line for line in items if orjson.loads(line)["kind"] == "video_episode")
    webhook = next(line for line in rest if orjson.loads(line)["type"] == "webhook")
    cases = [
        ([_changed(article, version=0)], "field 'version' must be at least 1"),
        ([_changed(article, external_id="x" * 201)], "'external_id' must be 1 to 200"),
        ([_changed(article, locale="not a tag!")], "'locale' is not a language tag"),
        ([_changed(article, created_at="yesterday")], "is not an ISO-8601 time"),
        ([_changed(article, tags="kherson")], "field 'tags' has the wrong type"),
        ([_changed(article, revisions=[1])], "must be a list of objects"),
        ([_changed(article, title="")], "field 'title' must be 1 to 300"),
        ([article, article], "is on an earlier line already"),
        ([_changed(article, story="wire:404")], "unknown story"),
        ([_changed(video, show="s" * 201)], "field 'show' must be at most 200"),
        ([_changed(webhook, url="ftp://partner.example/")], "must be an http(s) URL"),
        ([_changed(webhook, events=["CONTENT_BAKED"])], "unknown event type"),
        ([_changed(webhook, events=[])], "unknown event type"),
    ]
    async with _opened(url_of("sqlite", "target"), tmp_path):
        await import_.load(iter([head, *taxonomy]))
        before = await Content.all().count(), await Webhook.all().count()
        misses: list[tuple[str, str]] = []
        for bad, reason in cases:
            try:
                await import_.load(iter([head, *bad]))
            except import_.LineError as error:
                stopped = str(error)
            else:
                raise AssertionError(f"not stopped: {reason}")
            if reason not in stopped:
                misses.append((reason, stopped))
            assert stopped.startswith(f"line {len(bad) + 1}: ")
            assert (await Content.all().count(), await Webhook.all().count()) == before

        assert misses == []
        # An item of one kind here, sent again as the other kind.
        await import_.load(iter([head, article]))
        with pytest.raises(import_.LineError, match="is a article here, not a video_episode"):
            await import_.load(iter([head, _changed(article, kind="video_episode")]))
