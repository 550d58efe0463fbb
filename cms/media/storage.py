"""Where uploaded bytes live: the Storage protocol and LocalStorage (a directory on disk,
CMS_MEDIA_DIR, which cms.http serves at /media/{key}).

A key is a relative, slash-separated path such as "uploads/ab/cdef….jpg". Writes are
atomic: a reader (or the /media route) sees the old file or the whole new one, never a
part. A key that would leave the storage root is refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from starlette.concurrency import run_in_threadpool

__all__ = ["LocalStorage", "Storage"]


class Storage(Protocol):
    async def save(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, atomically."""
        ...

    def path(self, key: str) -> Path:
        """The local file behind `key` (refusing keys that leave the storage)."""
        ...


class LocalStorage:
    """Files under `root`; `path(key)` raises ValueError for a key that escapes it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if "\\" in key or "\x00" in key or any(part in ("", ".", "..") for part in key.split("/")):
            raise ValueError(f"{key!r} is not a valid media key")
        root = self.root.resolve()
        target = (root / key).resolve()  # also follows symlinks that point elsewhere
        if target == root or not target.is_relative_to(root):
            raise ValueError(f"the media key {key!r} leaves the media directory")
        return target

    async def save(self, key: str, data: bytes) -> None:
        await run_in_threadpool(_write_atomically, self.path(key), data)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write a temporary file beside `target`, flush it to disk, then rename it over
    `target` (os.replace is atomic within one file system)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; a proxy may serve the directory
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
