"""cms.media.storage.LocalStorage: atomic writes under the media directory, and keys that
would leave it are refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cms.media.storage import LocalStorage


async def test_save_writes_the_bytes_under_the_root(tmp_path: Path) -> None:
    local = LocalStorage(tmp_path / "media")

    await local.save("uploads/ab/cdef.png", b"\x89PNG first")

    stored = tmp_path / "media" / "uploads" / "ab" / "cdef.png"
    assert stored.read_bytes() == b"\x89PNG first"
    assert local.path("uploads/ab/cdef.png") == stored.resolve()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o644  # readable by a proxy serving the dir


async def test_save_replaces_atomically_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    local = LocalStorage(tmp_path)
    await local.save("uploads/a.jpg", b"old")
    before = (tmp_path / "uploads" / "a.jpg").stat().st_ino

    await local.save("uploads/a.jpg", b"new bytes")

    target = tmp_path / "uploads" / "a.jpg"
    assert target.read_bytes() == b"new bytes"
    assert target.stat().st_ino != before  # a new file renamed over the old, not rewritten
    assert sorted(path.name for path in target.parent.iterdir()) == ["a.jpg"]


async def test_a_failed_write_keeps_the_old_file_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalStorage(tmp_path)
    await local.save("a.png", b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        await local.save("a.png", b"new")

    assert (tmp_path / "a.png").read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["a.png"]


@pytest.mark.parametrize(
    "key",
    [
        "../secret.txt",
        "uploads/../../secret.txt",
        "uploads/./a.png",
        "/etc/passwd",
        "",
        ".",
        "uploads\\..\\secret.txt",
        "a\x00.png",
        "uploads//a.png",
        "uploads/",
    ],
)
async def test_keys_that_escape_the_root_are_refused(tmp_path: Path, key: str) -> None:
    root = tmp_path / "media"
    local = LocalStorage(root)

    with pytest.raises(ValueError):
        local.path(key)
    with pytest.raises(ValueError):
        await local.save(key, b"payload")

    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written == []


async def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "media", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "uploads")
    local = LocalStorage(root)

    with pytest.raises(ValueError, match="leaves the media directory"):
        await local.save("uploads/a.png", b"payload")

    assert list(outside.iterdir()) == []
