"""Single-item reads, each through the one visibility rule."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.queryset import QuerySet

from cms import prepared
from cms.auth.viewer import Viewer
from cms.content import lookups, records, text, visibility
from cms.content.records import ContentRecord
from cms.models import Content, ContentKind

__all__ = ["as_saved", "by_id", "by_slug"]


def _visible_to(
    query: QuerySet[Content], markers: prepared.Markers, *, viewer: Viewer, now: datetime
) -> QuerySet[Content]:
    """`visibility.visible_to` in a prepared statement: the time is a marker, where the
    rule reads it (a token holder's preview does not)."""
    at = now if visibility.can_preview(viewer) else markers.datetime("now")
    return visibility.visible_to(query, viewer=viewer, now=at)


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
    text.check(slug, field="slug")
    preview = visibility.can_preview(viewer)
    values: dict[str, object] = {"slug": slug} | ({} if preview else {"now": now.astimezone(UTC)})

    def build(markers: prepared.Markers) -> QuerySet[Content]:
        query = Content.filter(kind=kind, slug=markers.str("slug"))
        return _visible_to(query, markers, viewer=viewer, now=now).limit(20)

    records = await lookups.prepared_records(
        ("by_slug", kind, preview), build, values, include, seeks=True
    )
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
    """The item with `id` (of `kind`, when given) that `viewer` may read."""
    preview = visibility.can_preview(viewer)
    values: dict[str, object] = {"id": id} | ({} if preview else {"now": now.astimezone(UTC)})

    def build(markers: prepared.Markers) -> QuerySet[Content]:
        query = Content.filter(id=markers.int("id"))
        if kind is not None:
            query = query.filter(kind=kind)
        return _visible_to(query, markers, viewer=viewer, now=now).limit(1)

    records = await lookups.prepared_records(
        ("by_id", kind, preview), build, values, include, seeks=True
    )
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
