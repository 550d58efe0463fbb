"""The content generation: what a cached public read depends on.

It changes when any content event is recorded (the outbox's newest id) and when a
scheduled item's time comes (the next scheduled publication). Anything cached under an
older generation is never served again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Max, Min

from cms.models import Content, ContentStatus, OutboxEvent

__all__ = ["Generation", "read"]


@dataclass(frozen=True, slots=True)
class Generation:
    last_event_id: int
    next_scheduled_at: datetime | None

    def key(self) -> str:
        scheduled = self.next_scheduled_at.isoformat() if self.next_scheduled_at else "-"
        return f"{self.last_event_id}@{scheduled}"

    def expired(self, now: datetime) -> bool:
        """A scheduled item has become public since this generation was read."""
        return self.next_scheduled_at is not None and self.next_scheduled_at <= now


async def read(*, now: datetime) -> Generation:
    """Two index-only aggregates."""
    last = await OutboxEvent.all().annotate(last=Max("id")).values_list("last", flat=True)
    upcoming = (
        await Content.filter(status=ContentStatus.PUBLISHED, published_at__gt=now)
        .annotate(next=Min("published_at"))
        .values_list("next", flat=True)
    )
    return Generation(int(last[0] or 0) if last else 0, upcoming[0] if upcoming else None)  # type: ignore[arg-type]
