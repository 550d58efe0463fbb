"""`cms export`, `cms import` and `cms backup` as an operator runs them: real processes on
a SQLite file (and a PostgreSQL URL for backup's advice)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TIMEOUT = 120


class Cms:
    """`cms ...` in a process of its own, on one temporary SQLite installation."""

    def __init__(self, tmp_path: Path, name: str = "cms") -> None:
        self.database = tmp_path / f"{name}.sqlite3"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "CMS_DATABASE_URL": f"sqlite://{self.database}",
            "CMS_MEDIA_DIR": str(tmp_path / "media"),
            "CMS_ENV": "development",
        }
        self.cwd = tmp_path

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "cms", *args],
            env={**self.env, **env},
            cwd=self.cwd,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )

    def ok(self, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
        done = self(*args, **env)
        assert done.returncode == 0, done.stderr.decode()
        return done

    def count(self, table: str, database: Path | None = None) -> int:
        with closing(sqlite3.connect(database or self.database)) as connection:
            return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


@pytest.fixture
def demo(tmp_path: Path) -> Cms:
    cms = Cms(tmp_path)
    cms.ok("migrate")
    cms.ok("seed", "--demo")
    return cms


def _one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    errors = [line for line in done.stderr.decode().splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    return errors[0]


def test_export_to_stdout_and_to_a_file_give_the_same_lines(demo: Cms, tmp_path: Path) -> None:
    to_stdout = demo.ok("export").stdout
    demo.ok("export", "--output", str(tmp_path / "newsroom.jsonl"))

    assert (tmp_path / "newsroom.jsonl").read_bytes() == to_stdout
    assert not (tmp_path / "newsroom.jsonl.partial").exists()
    assert to_stdout.count(b"\n") == 1 + 4 + 8 + 7 + 3 + 14  # the demo newsroom's rows
    stderr = demo.ok("export", "-o", str(tmp_path / "again.jsonl")).stderr.decode()
    assert "database: SQLite" in stderr
    assert "exporting: 36 of 36" in stderr  # progress, a line per tenth off a terminal


def test_import_into_an_empty_database_then_again(demo: Cms, tmp_path: Path) -> None:
    demo.ok("export", "-o", str(tmp_path / "newsroom.jsonl"))
    target = Cms(tmp_path, "target")
    target.ok("migrate")

    first = target.ok("import", str(tmp_path / "newsroom.jsonl")).stdout.decode()
    second = target.ok("import", str(tmp_path / "newsroom.jsonl")).stdout.decode()

    assert "content: 14 created, 0 updated, 0 skipped" in first
    assert "section: 4 created, 0 updated, 0 skipped" in first
    assert "content: 0 created, 0 updated, 14 skipped" in second
    assert "author: 0 created, 0 updated, 3 skipped" in second
    assert target.count("content") == demo.count("content")
    assert target.count("revision") == demo.count("revision")
    assert target.count("outbox_event") == 0
    assert target.ok("export").stdout == demo.ok("export").stdout


def test_a_malformed_line_fails_with_its_number_and_keeps_the_batches_before(
    demo: Cms, tmp_path: Path
) -> None:
    """More lines than a batch (500): the first batch commits, the second is rolled back."""
    lines = [b'{"format":"newsdesk-export","type":"export","version":1}']
    lines += [b'{"name":"S","slug":"s-%d","type":"section"}' % n for n in range(1, 600)]
    lines[549] = b'{"name":"S","slug":"s-550","type":"section"'  # line 550: cut short
    (tmp_path / "broken.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    target = Cms(tmp_path, "target")
    target.ok("migrate")

    done = target("import", str(tmp_path / "broken.jsonl"))

    assert done.returncode == 1
    assert _one_error_line(done).startswith("error: line 550: not JSON")
    assert "section: 499 created" in done.stdout.decode()  # what the first batch committed
    assert target.count("section") == 499


def test_import_of_a_missing_file_fails_with_one_line(demo: Cms, tmp_path: Path) -> None:
    done = demo("import", str(tmp_path / "nowhere.jsonl"))
    assert done.returncode == 1
    assert "no such file" in _one_error_line(done)


# --- backup ------------------------------------------------------------------------------


@pytest.fixture
def writer(demo: Cms) -> Iterator[threading.Event]:
    """Another connection writing to the database the whole time (as a server would)."""
    stop = threading.Event()

    def write() -> None:
        with closing(sqlite3.connect(demo.database, timeout=30)) as connection:
            number = 0
            while not stop.is_set():
                number += 1
                connection.execute(
                    "INSERT INTO tag (name, slug, created_at, updated_at) "
                    "VALUES (?, ?, datetime('now'), datetime('now'))",
                    (f"Tag {number}", f"busy-{number}"),
                )
                connection.commit()

    thread = threading.Thread(target=write)
    thread.start()
    yield stop
    stop.set()
    thread.join()


def test_backup_while_another_connection_writes(
    demo: Cms, writer: threading.Event, tmp_path: Path
) -> None:
    copy = tmp_path / "backup.sqlite3"
    before = demo.count("tag")

    done = demo.ok("backup", str(copy))
    writer.set()

    assert "backed up" in done.stdout.decode()
    with closing(sqlite3.connect(copy)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copied = demo.count("tag", copy)
    assert before <= copied <= demo.count("tag")
    assert demo.count("content", copy) == demo.count("content") == 14
    # The copy is a working Newsdesk database.
    restored = Cms(tmp_path, "backup")
    assert restored.ok("export").stdout.count(b'"type":"content"') == 14


def test_backup_refuses_to_overwrite_without_force(demo: Cms, tmp_path: Path) -> None:
    copy = tmp_path / "backup.sqlite3"
    copy.write_bytes(b"precious")

    done = demo("backup", str(copy))

    assert done.returncode == 1
    assert "exists; pass --force" in _one_error_line(done)
    assert copy.read_bytes() == b"precious"
    demo.ok("backup", str(copy), "--force")
    assert demo.count("content", copy) == 14


def test_backup_of_a_missing_database_fails_with_one_line(tmp_path: Path) -> None:
    done = Cms(tmp_path, "never-made")("backup", str(tmp_path / "copy.sqlite3"))
    assert done.returncode == 1
    assert "no SQLite database at" in _one_error_line(done)
    assert not (tmp_path / "copy.sqlite3").exists()


def test_backup_on_postgresql_shows_the_pg_dump_command_without_the_password(
    tmp_path: Path,
) -> None:
    url = "postgres://newsdesk:s3cret-pass@db.internal:5433/newsroom"
    done = Cms(tmp_path)("backup", str(tmp_path / "newsroom.dump"), CMS_DATABASE_URL=url)

    assert done.returncode == 2
    output = done.stdout.decode() + done.stderr.decode()
    assert "s3cret-pass" not in output
    assert done.stdout.decode().strip() == (
        f"pg_dump --format=custom --file={tmp_path / 'newsroom.dump'} --host=db.internal "
        "--port=5433 --username=newsdesk newsroom"
    )
    assert "pg_dump" in done.stderr.decode()
