"""Times from clients (a publication time, a cursor's position): the one rule.

A time must name its offset, and must lie within what both databases and Python can
store once converted to UTC: from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z.
"9999-12-31T23:59:59-14:00" is in the year 10000 in UTC, and "0001-01-01T00:00:00+14:00"
before the year 1: each is refused, naming its field, rather than overflowing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cms.errors import Invalid

__all__ = ["to_utc"]


def to_utc(value: datetime, *, field: str) -> datetime:
    """`value` in UTC; Invalid naming `field` when it has no offset or leaves the range."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(f"{field} must include a timezone, such as 2026-05-01T09:00:00Z", field=field)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Invalid(
            f"{field} must lie between the years 1 and 9999 in UTC", field=field
        ) from None
