"""The one visibility rule: public means PUBLISHED, published_at <= now, and not past
its expires_at.

Every read path (feed, search, node, single items, author content, pinned items, RSS/JSON
feeds, subscriptions) asks this module. Scheduled items become public, and expiring items
stop being public, by this rule alone: no job has to run at either moment. Drafts, items
in review, archived and killed items are never public.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.models import Content, ContentStatus

__all__ = [
    "Snapshot",
    "can_preview",
    "is_public",
    "may_hear",
    "public_q",
    "public_sql",
    "status_at",
    "status_q",
    "status_sql",
    "visible_to",
]


class _Publishable(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def published_at(self) -> datetime | None: ...

    @property
    def expires_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The fields the rule reads, as recorded somewhere else than in a row (an outbox
    event's payload), so that the rule can judge an item as it was then."""

    status: str
    published_at: datetime | None
    expires_at: datetime | None = None


def public_q(now: datetime, *, published_by: datetime | None = None) -> Q:
    """Public at `now`. `published_by` (at most `now`) narrows to items published by then:
    a feed page after a cursor bounds the time it seeks from by the cursor's time, while
    expiry is still judged at `now`."""
    # In UTC, as stored: SQLite compares the stored text.
    at = now.astimezone(UTC)
    bound = at if published_by is None else published_by.astimezone(UTC)
    return Q(status=ContentStatus.PUBLISHED, published_at__lte=bound) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    )


def public_sql(
    now: datetime, *, alias: str = "c", published_by: datetime | None = None
) -> tuple[str, list[object]]:
    """`public_q` as SQL over the table alias `alias`, with `?` for its values (for the
    reads Tortoise cannot write, such as full-text search; tests hold the two to the same
    rows)."""
    at = now.astimezone(UTC)
    bound = at if published_by is None else published_by.astimezone(UTC)
    c = alias
    return (
        f"({c}.status = ? AND {c}.published_at <= ?"
        f" AND ({c}.expires_at IS NULL OR {c}.expires_at > ?))",
        [ContentStatus.PUBLISHED.value, bound, at],
    )


def is_public(item: _Publishable, now: datetime) -> bool:
    return (
        item.status == ContentStatus.PUBLISHED
        and item.published_at is not None
        and item.published_at <= now
        and (item.expires_at is None or item.expires_at > now)
    )


def can_preview(viewer: Viewer) -> bool:
    """Token holders (viewer and up) also see drafts, items in review, scheduled, expired,
    archived and killed items."""
    return policy.can(viewer, policy.Action.PREVIEW)


def may_hear(viewer: Viewer, *, public: bool) -> bool:
    """Whether a subscriber hears of an event: anonymous readers only of public items
    (or of public items being withdrawn); token holders of everything."""
    return public or can_preview(viewer)


def visible_to(query: QuerySet[Content], *, viewer: Viewer, now: datetime) -> QuerySet[Content]:
    """`query` narrowed to what `viewer` may read."""
    return query if can_preview(viewer) else query.filter(public_q(now))


_STATUSES = {status.value: status for status in ContentStatus}


def status_at(item: _Publishable, now: datetime) -> ContentStatus:
    """The status readers and editors see: a PUBLISHED item whose time has not come yet
    reads as SCHEDULED, and one past its expiry as EXPIRED (it is stored PUBLISHED so that
    the rule above needs no job at either moment)."""
    status = _STATUSES.get(item.status) or ContentStatus(item.status)
    if status == ContentStatus.PUBLISHED:
        if item.published_at and item.published_at > now:
            return ContentStatus.SCHEDULED
        if item.expires_at is not None and item.expires_at <= now:
            return ContentStatus.EXPIRED
    return status


def status_q(statuses: Sequence[ContentStatus], now: datetime) -> Q:
    """Items whose status, as `status_at` shows it, is one of `statuses`: SCHEDULED and
    EXPIRED are stored PUBLISHED with a future time or a past expiry, and PUBLISHED means
    public."""
    at = now.astimezone(UTC)
    rules = []
    for status in set(statuses):
        if status == ContentStatus.SCHEDULED:
            rules.append(Q(status=ContentStatus.PUBLISHED, published_at__gt=at))
        elif status == ContentStatus.EXPIRED:
            rules.append(
                Q(status=ContentStatus.PUBLISHED, published_at__lte=at, expires_at__lte=at)
            )
        elif status == ContentStatus.PUBLISHED:
            rules.append(public_q(now))
        else:
            rules.append(Q(status=status))
    return Q(*rules, join_type=Q.OR)


def status_sql(statuses: Sequence[ContentStatus], now: datetime) -> tuple[str, list[object]]:
    """`status_q` as SQL over the table alias `c` (every item when `statuses` is empty)."""
    rules: list[str] = []
    values: list[object] = []
    for status in (status for status in ContentStatus if status in statuses):
        if status == ContentStatus.SCHEDULED:
            rules.append("(c.status = ? AND c.published_at > ?)")
            values += [ContentStatus.PUBLISHED.value, now.astimezone(UTC)]
        elif status == ContentStatus.EXPIRED:
            rules.append("(c.status = ? AND c.published_at <= ? AND c.expires_at <= ?)")
            values += [ContentStatus.PUBLISHED.value, now.astimezone(UTC), now.astimezone(UTC)]
        elif status == ContentStatus.PUBLISHED:
            rule, rule_values = public_sql(now)
            rules.append(rule)
            values += rule_values
        else:
            rules.append("c.status = ?")
            values.append(status.value)
    return ("(" + " OR ".join(rules) + ")" if rules else "1 = 1"), values
