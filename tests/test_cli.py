"""The `cms` command line through Typer's CliRunner, on a temporary SQLite file.

The commands run their own event loop (asyncio.run), so these tests are synchronous.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cms import db as database
from cms.auth import tokens
from cms.cli import app
from cms.config import Settings, get_settings
from cms.demo import newsroom
from cms.errors import Unauthenticated

SECRET = re.compile(r"^ndk_[A-Za-z0-9_-]{43}$")
UNREACHABLE_POSTGRES = "postgres://postgres@127.0.0.1:1/x"


class Cms:
    """Runs `cms ...` with the environment of one temporary installation."""

    def __init__(self, tmp_path: Path) -> None:
        self.database_file = tmp_path / "data" / "cms.sqlite3"
        self.media_dir = tmp_path / "media"
        self.env = {
            "CMS_DATABASE_URL": f"sqlite://{self.database_file}",
            "CMS_MEDIA_DIR": str(self.media_dir),
            "CMS_ENV": "development",
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, **env: str) -> Result:
        get_settings.cache_clear()
        try:
            return self.runner.invoke(app, list(args), env={**self.env, **env})
        finally:
            get_settings.cache_clear()

    def count(self, table: str) -> int:
        with sqlite3.connect(self.database_file) as connection:
            (count,) = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        return int(count)

    @property
    def settings(self) -> Settings:
        return Settings(database_url=self.env["CMS_DATABASE_URL"], media_dir=str(self.media_dir))


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Cms]:
    """`cms` in a folder with no database yet."""
    get_settings.cache_clear()
    yield Cms(tmp_path)
    get_settings.cache_clear()


@pytest.fixture
def cms(fresh: Cms) -> Cms:
    """`cms` on a migrated, empty database (what `make serve` leaves)."""
    _ok(fresh("migrate"))
    return fresh


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def _failed_with_one_line(result: Result) -> str:
    """The failure's stderr line, after checking it is one line and no traceback."""
    assert result.exit_code not in (0, None), (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.strip().splitlines() if not _names_database(line)]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _names_database(line: str) -> bool:
    return line.startswith("database: ")


def _all_tables_counts(cms: Cms) -> dict[str, int]:
    tables = ("content", "author", "section", "tag", "media", "content_author", "content_tag")
    return {table: cms.count(table) for table in tables}


# --- migrate -----------------------------------------------------------------------------


def test_migrate_twice(fresh: Cms) -> None:
    cms = fresh
    first = _ok(cms("migrate"))
    second = _ok(cms("migrate"))

    assert "applied" in first.stdout
    assert "up to date" not in first.stdout
    assert "up to date" in second.stdout
    assert "applied migration" not in second.stdout
    assert cms.database_file.exists()
    assert cms.count("content") == 0


def test_migrate_against_an_unreachable_database_fails_with_one_line(fresh: Cms) -> None:
    result = fresh("migrate", CMS_DATABASE_URL=UNREACHABLE_POSTGRES)

    line = _failed_with_one_line(result)
    assert "database" in line.lower()
    assert result.exit_code == 1


def test_a_command_needing_the_database_fails_with_one_line_when_unreachable(cms: Cms) -> None:
    result = cms("token", "list", CMS_DATABASE_URL=UNREACHABLE_POSTGRES)

    assert "database" in _failed_with_one_line(result).lower()


def test_an_invalid_setting_fails_with_one_line(fresh: Cms) -> None:
    result = fresh("migrate", CMS_MAX_PAGE_SIZE="many")

    assert "CMS_MAX_PAGE_SIZE" in _failed_with_one_line(result)


def test_serve_refuses_an_unknown_log_format_with_one_line(fresh: Cms) -> None:
    result = fresh("serve", CMS_LOG_FORMAT="xml")

    message = _failed_with_one_line(result)
    assert "CMS_LOG_FORMAT" in message and "json" in message


@pytest.mark.parametrize(
    "command",
    [
        ("token", "create", "--name", "x", "--role", "editor"),
        ("token", "list"),
        ("token", "revoke", "x"),
        ("token", "local"),
        ("seed", "--demo"),
    ],
)
def test_commands_other_than_migrate_refuse_a_missing_database(
    fresh: Cms, command: tuple[str, ...]
) -> None:
    """Run from another folder, a command must not quietly create a database the server
    knows nothing of (a token made there is refused by the server)."""
    line = _failed_with_one_line(fresh(*command))

    assert line.startswith("error: no Newsdesk database at SQLite ")
    assert str(fresh.database_file) in line
    assert "cms migrate" in line
    assert "CMS_DATABASE_URL" in line
    assert not fresh.database_file.exists()
    assert not fresh.database_file.parent.exists()


def test_a_database_without_newsdesk_tables_is_refused(fresh: Cms) -> None:
    fresh.database_file.parent.mkdir(parents=True)
    sqlite3.connect(fresh.database_file).close()  # an empty file: some other program's

    line = _failed_with_one_line(fresh("token", "list"))

    assert "no Newsdesk database" in line


def test_every_command_names_its_database(cms: Cms) -> None:
    expected = f"database: SQLite {cms.database_file}"

    assert expected in _ok(cms("migrate")).stderr.splitlines()
    assert expected in _ok(cms("token", "list")).stderr.splitlines()
    assert expected in _ok(cms("seed", "--demo")).stderr.splitlines()


# --- seed --------------------------------------------------------------------------------


def test_seed_demo_twice_changes_nothing_the_second_time(cms: Cms) -> None:
    first = _ok(cms("seed", "--demo"))
    counts = _all_tables_counts(cms)
    second = _ok(cms("seed", "--demo"))

    expected_items = (
        len(newsroom.ARTICLES) + len(newsroom.VIDEO_EPISODES) + len(newsroom.TRANSLATIONS)
    )
    assert counts["content"] == expected_items
    assert counts["author"] == len(newsroom.AUTHORS)
    assert counts["section"] == len(newsroom.SECTIONS)
    assert counts["media"] == len(newsroom.MEDIA)
    assert _all_tables_counts(cms) == counts
    assert cms.count("revision") == 2 * expected_items  # created, then published: once
    assert " 0 created" not in first.stdout
    assert " 0 created" in second.stdout
    # both runs count the same records: what the first made, the second finds
    made = re.search(r"(\d+) created, 0 already there", first.stdout)
    assert made is not None, first.stdout
    assert f"0 created, {made[1]} already there" in second.stdout
    for item in newsroom.MEDIA:
        assert (cms.media_dir / item["key"]).is_file(), item["key"]


def test_seed_demo_if_empty(cms: Cms) -> None:
    loaded = _ok(cms("seed", "--demo", "--if-empty"))
    counts = _all_tables_counts(cms)
    skipped = _ok(cms("seed", "--demo", "--if-empty"))

    assert counts["content"] == (
        len(newsroom.ARTICLES) + len(newsroom.VIDEO_EPISODES) + len(newsroom.TRANSLATIONS)
    )
    assert "not loaded" not in loaded.stdout
    assert "not loaded" in skipped.stdout
    assert _all_tables_counts(cms) == counts


def test_seed_demo_writes_its_content_in_the_default_locale(cms: Cms) -> None:
    _ok(cms("seed", "--demo", CMS_DEFAULT_LOCALE="uk"))

    with sqlite3.connect(cms.database_file) as connection:
        locales = connection.execute("SELECT locale, COUNT(*) FROM content GROUP BY locale")
        assert dict(locales.fetchall()) == {
            "uk": len(newsroom.ARTICLES) + len(newsroom.VIDEO_EPISODES)
        }


def test_seed_without_demo_says_what_to_do(cms: Cms) -> None:
    line = _failed_with_one_line(cms("seed"))

    assert "--demo" in line


# --- schema ------------------------------------------------------------------------------


def test_schema_prints_the_sdl(cms: Cms) -> None:
    result = _ok(cms("schema"))

    assert "type Query {" in result.stdout
    assert "interface Content implements Node" in result.stdout
    assert result.stderr == ""


# --- tokens ------------------------------------------------------------------------------


async def _verify(settings: Settings, secret: str) -> str | None:
    async with database.lifespan(settings):
        try:
            viewer = await tokens.verify(secret=secret)
        except Unauthenticated:
            return None
        return viewer.role.value if viewer.role else None


def test_token_create_prints_the_secret_alone_on_the_last_line(cms: Cms) -> None:
    result = _ok(cms("token", "create", "--name", "x", "--role", "editor"))

    secret = result.stdout.rstrip("\n").splitlines()[-1]
    assert SECRET.match(secret), result.stdout
    assert asyncio.run(_verify(cms.settings, secret)) == "editor"
    stored = b"".join(
        path.read_bytes() for path in cms.database_file.parent.iterdir() if path.is_file()
    )
    assert secret.encode() not in stored, "the secret is stored in clear"


def test_token_create_takes_every_role(cms: Cms) -> None:
    for role in ("viewer", "author", "editor", "admin"):
        result = _ok(cms("token", "create", "--name", f"bot-{role}", "--role", role))

        secret = result.stdout.splitlines()[-1]
        assert asyncio.run(_verify(cms.settings, secret)) == role


def test_token_create_with_a_duplicate_name_fails_with_one_line(cms: Cms) -> None:
    _ok(cms("token", "create", "--name", "x", "--role", "editor"))

    result = cms("token", "create", "--name", "x", "--role", "admin")

    assert "x" in _failed_with_one_line(result)
    assert "ndk_" not in result.stdout
    assert cms.count("api_token") == 1


def test_token_create_with_an_unknown_role_fails_with_one_line(cms: Cms) -> None:
    result = cms("token", "create", "--name", "x", "--role", "superuser")

    line = _failed_with_one_line(result)
    assert "superuser" in line
    assert "editor" in line  # names the valid roles
    assert "ndk_" not in result.stdout
    assert cms.count("api_token") == 0


def test_token_create_with_a_bad_name_fails_with_one_line(cms: Cms) -> None:
    result = cms("token", "create", "--name", "two words", "--role", "viewer")

    _failed_with_one_line(result)
    assert cms.count("api_token") == 0


def test_token_list_never_prints_a_secret(cms: Cms) -> None:
    assert "no tokens" in _ok(cms("token", "list")).stdout
    secrets = [
        _ok(cms("token", "create", "--name", name, "--role", role)).stdout.splitlines()[-1]
        for name, role in (("desk-bot", "author"), ("wire-import", "editor"))
    ]

    result = _ok(cms("token", "list"))

    assert "desk-bot" in result.stdout
    assert "wire-import" in result.stdout
    assert "author" in result.stdout
    assert "editor" in result.stdout
    for secret in secrets:
        assert secret not in result.output
        assert secret[12:20] not in result.output  # nothing past the shown prefix


def test_token_revoke(cms: Cms) -> None:
    secret = _ok(cms("token", "create", "--name", "x", "--role", "editor")).stdout.splitlines()[-1]
    _ok(cms("token", "create", "--name", "y", "--role", "viewer"))

    _ok(cms("token", "revoke", "x"))

    assert asyncio.run(_verify(cms.settings, secret)) is None
    listed = {line.split("\t")[0]: line for line in _ok(cms("token", "list")).stdout.splitlines()}
    assert "revoked" in listed["x"]
    assert "active" in listed["y"]
    # revoking again changes nothing and succeeds
    _ok(cms("token", "revoke", "x"))


def test_token_revoke_of_an_unknown_name_fails_with_one_line(cms: Cms) -> None:
    assert "nobody" in _failed_with_one_line(cms("token", "revoke", "nobody"))


# --- token local (what `make serve` prints) ---------------------------------------------


def test_token_local_prints_a_working_editor_token_and_a_new_one_each_time(cms: Cms) -> None:
    first = _ok(cms("token", "local")).stdout.strip().splitlines()[-1]
    second = _ok(cms("token", "local")).stdout.strip().splitlines()[-1]
    listed = _ok(cms("token", "list")).stdout

    assert first.startswith("Local editor token (development only): ndk_")
    assert second != first
    assert "local-editor\teditor" in listed


def test_token_local_is_refused_in_production(cms: Cms) -> None:
    line = _failed_with_one_line(cms("token", "local", CMS_ENV="production"))

    assert "production" in line


# --- reindex -------------------------------------------------------------------------


def test_reindex_rebuilds_the_search_index_with_progress(cms: Cms) -> None:
    _ok(cms("seed", "--demo"))
    items = cms.count("content")
    indexed = cms.count("content_search")
    with sqlite3.connect(cms.database_file) as connection:  # an index gone stale
        connection.execute("DELETE FROM content_search")

    result = _ok(cms("reindex"))

    assert indexed == items
    assert cms.count("content_search") == items
    assert f"search index rebuilt: {items:,} items" in result.stdout
    assert f"indexing: {items:,} of {items:,}" in result.stderr
    with sqlite3.connect(cms.database_file) as connection:
        (found,) = connection.execute(
            "SELECT count(*) FROM content_fts WHERE content_fts MATCH 'desk'"
        ).fetchone()
    assert found > 0
