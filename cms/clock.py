"""The one clock for visibility and scheduling. Tests freeze it with `frozen`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime

_frozen: datetime | None = None

__all__ = ["frozen", "seconds", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, truncated to microseconds."""
    return _frozen.astimezone(UTC) if _frozen is not None else datetime.now(UTC)


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Stop the clock at `at` (tests only)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    previous, _frozen = _frozen, at
    try:
        yield at
    finally:
        _frozen = previous


def seconds() -> float:
    """Now in seconds since the epoch, as `time.time()` (cheap: rate limits ask on every
    request), or the frozen time."""
    return _frozen.timestamp() if _frozen is not None else time.time()
