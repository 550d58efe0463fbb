"""Translations: the items that tell one story in several locales.

An item created with `translationOf` joins that item's story: the same kind, another
locale, one item per locale per story (a unique (story_id, locale) constraint settles
races). A story is named by the id of its first item (`story_id`; null while an item has
no translation). Deleting an item leaves the rest of its story as it was. Readers see the
story's other public items; token holders see all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from cms.auth.viewer import Viewer
from cms.content import lookups, text, visibility
from cms.content.records import ContentRecord
from cms.errors import Invalid
from cms.models import Content, ContentKind

__all__ = ["check_locale", "join", "of"]


async def join(
    *, kind: ContentKind, original_id: int, locale: str, connection: BaseDBAsyncClient
) -> int:
    """The story a new item of `kind` in `locale` joins as a translation of `original_id`
    (made the story's first item when it had no translation yet). Invalid names
    `translationOf` (no such item of that kind) or `locale` (the story has one in it)."""
    original = await Content.filter(id=original_id).select_for_update().using_db(connection).first()
    if original is None or original.kind != kind:
        words = kind.value.replace("_", " ")
        raise Invalid(f"translationOf must be the ID of an existing {words}", field="translationOf")
    story = original.story_id or original.id
    await check_locale(story_id=story, locale=locale, connection=connection)
    if original.story_id is None:
        await Content.filter(id=original.id).using_db(connection).update(story_id=story)
    return story


async def check_locale(
    *,
    story_id: int | None,
    locale: str,
    connection: BaseDBAsyncClient,
    exclude_id: int | None = None,
) -> None:
    """Invalid naming `locale` when the story has an item in `locale` already (another
    than `exclude_id`)."""
    if story_id is None:
        return
    taken = Content.filter(story_id=story_id, locale=locale).using_db(connection)
    if exclude_id is not None:
        taken = taken.exclude(id=exclude_id)
    if await taken.exists():
        raise Invalid(
            f"the story has an item in {text.shown(locale)} already: one item per locale",
            field="locale",
        )


async def of(
    items: Sequence[tuple[int, int]],
    *,
    viewer: Viewer,
    now: datetime,
    include: lookups.Include = lookups.EVERYTHING,
) -> list[list[ContentRecord]]:
    """For each (item id, story id), the story's other items that `viewer` may read,
    ordered by locale: two queries for any number of items."""
    stories = sorted({story for _, story in items})
    if not stories:
        return []
    query = visibility.visible_to(
        Content.filter(story_id__in=stories), viewer=viewer, now=now
    ).order_by("locale", "id")
    members = await lookups.content_records(query, include)
    await lookups.attach_relations(members, include)
    return [
        [member for member in members if member.story_id == story and member.id != id]
        for id, story in items
    ]
