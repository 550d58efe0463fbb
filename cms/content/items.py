"""Single-item reads, each through the one visibility rule."""

from __future__ import annotations

from datetime import datetime

from cms.auth.viewer import Viewer
from cms.content import lookups, visibility
from cms.content.records import ContentRecord
from cms.models import Content, ContentKind

__all__ = ["by_id", "by_slug"]


async def by_slug(
    *,
    kind: ContentKind,
    slug: str,
    viewer: Viewer,
    now: datetime,
    default_locale: str,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord | None:
    """The item of `kind` with `slug` that `viewer` may read; the default locale wins."""
    query = Content.filter(kind=kind, slug=slug)
    rule = visibility.visible_q(viewer, now)
    if rule is not None:
        query = query.filter(rule)
    records = await lookups.content_records(query.order_by("id").limit(20), include)
    if not records:
        return None
    record = next((r for r in records if r.locale == default_locale), records[0])
    await lookups.attach_relations([record], include)
    return record


async def by_id(
    *,
    id: int,
    viewer: Viewer,
    now: datetime,
    kind: ContentKind | None = None,
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord | None:
    query = Content.filter(id=id)
    if kind is not None:
        query = query.filter(kind=kind)
    rule = visibility.visible_q(viewer, now)
    if rule is not None:
        query = query.filter(rule)
    records = await lookups.content_records(query.limit(1), include)
    await lookups.attach_relations(records, include)
    return records[0] if records else None
