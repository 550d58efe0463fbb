"""Conditional GET (RFC 9110 §13): one entity tag and one "not modified" rule for every
response that offers them (the GraphQL response cache and the RSS/JSON feeds)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["etag", "not_modified"]


def etag(body: bytes) -> str:
    """A strong entity tag of a response body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(
    *,
    etag: str,
    if_none_match: str | None,
    last_modified: datetime | None = None,
    if_modified_since: str | None = None,
) -> bool:
    """Whether a GET may answer 304: If-None-Match decides when present (a list of tags,
    weak ones compared weakly, or `*`); otherwise If-Modified-Since, when the response has
    a Last-Modified time (an invalid date is ignored)."""
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since
