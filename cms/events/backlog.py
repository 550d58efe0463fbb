"""The outbox's backlog: how many events wait for the dispatcher and since when (/metrics).

One indexed read (outbox_event's (dispatched_at, id) index holds the undispatched rows
first), made when /metrics is scraped: the numbers are the database's, so every worker
answers the same and nothing is kept in a process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Min

from cms.models import OutboxEvent

__all__ = ["Backlog", "measure"]


@dataclass(frozen=True, slots=True)
class Backlog:
    depth: int  # events not dispatched yet
    lag_seconds: float  # age of the oldest of them (0 when there is none)


async def measure(*, now: datetime) -> Backlog:
    rows = (
        await OutboxEvent.filter(dispatched_at__isnull=True)
        .annotate(depth=Count("id"), oldest=Min("occurred_at"))
        .values("depth", "oldest")
    )
    row = rows[0] if rows else {}
    oldest = row.get("oldest")
    if isinstance(oldest, str):  # SQLite answers an aggregate's datetime as text
        oldest = datetime.fromisoformat(oldest)
    lag = max(0.0, (now - oldest).total_seconds()) if isinstance(oldest, datetime) else 0.0
    return Backlog(depth=int(row.get("depth") or 0), lag_seconds=lag)
