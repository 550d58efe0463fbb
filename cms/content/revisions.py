"""Revisions: a snapshot of every saved version. History only grows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from cms.content.records import RESTORABLE
from cms.models import Content, Revision

__all__ = ["RESTORABLE", "RevisionRecord", "snapshot", "write"]


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    """One saved version of a content item, as reads see it (lookups.revisions_for)."""

    id: int
    content_id: int
    version: int
    created_at: datetime
    created_by: str | None
    title: str
    note: str | None = None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def snapshot(content: Content, *, author_ids: list[int], tag_ids: list[int]) -> dict[str, Any]:
    data = {name: _plain(getattr(content, name)) for name in RESTORABLE}
    data |= {
        "kind": str(content.kind),
        "status": str(content.status),
        "published_at": _plain(content.published_at),
        "author_ids": author_ids,
        "tag_ids": tag_ids,
    }
    return data


async def write(
    *,
    content: Content,
    author_ids: list[int],
    tag_ids: list[int],
    created_by: str | None,
    connection: BaseDBAsyncClient,
    note: str | None = None,
) -> Revision:
    return await Revision.create(
        content_id=content.id,
        version=content.version,
        title=content.title,
        created_by=created_by,
        note=note,
        snapshot=snapshot(content, author_ids=author_ids, tag_ids=tag_ids),
        using_db=connection,
    )
