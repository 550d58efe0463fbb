"""Single-item reads, each through the one visibility rule."""

from __future__ import annotations

from datetime import datetime

from cms.auth.viewer import Viewer
from cms.content import lookups, records, visibility
from cms.content.records import ContentRecord
from cms.models import Content, ContentKind

__all__ = ["as_saved", "by_id", "by_slug"]


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
    query = visibility.visible_to(Content.filter(kind=kind, slug=slug), viewer=viewer, now=now)
    records = await lookups.content_records(query.limit(20), include)
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
    query = visibility.visible_to(query, viewer=viewer, now=now)
    records = await lookups.content_records(query.limit(1), include)
    await lookups.attach_relations(records, include)
    return records[0] if records else None


async def as_saved(row: Content, *, include: lookups.Include = lookups.EVERYTHING) -> ContentRecord:
    """The record of a row just written, as it was saved (not as it is by the time the
    caller reads again), with its relations loaded."""
    columns = records.CONTENT_COLUMNS + (records.LAZY_COLUMNS if include.body else ())
    record = ContentRecord(**{column: getattr(row, column) for column in columns})
    if include.section and row.section_id is not None:
        record.section = await lookups.section(id=row.section_id)
    if include.hero_image and row.hero_image_id is not None:
        record.hero_image = await lookups.media(id=row.hero_image_id)
    await lookups.attach_relations([record], include)
    return record
