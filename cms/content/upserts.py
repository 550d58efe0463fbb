"""Upserts: create an item, or update the one with that external id, in one call.

An integration that resends a story (a wire feed sending its last 100 stories every
minute) must cost nothing downstream when nothing changed: an upsert whose input matches
the stored item writes no revision, keeps the version and records no event. One that
changes something is an update (a revision, version + 1, CONTENT_UPDATED); one that
creates is a create (a DRAFT). Input is checked by `cms.content.inputs`, as for create and
update; fields left out of the input stay as they are.

Who may: any token that may create content (author and up). Changing an existing item
needs the right to edit it (an author: only its own drafts); a resend that changes
nothing answers the item as it is, to anyone who may upsert (every such token may read
it anyway), so a wire feed's resends never fail once an editor has published its story.

Two identical upserts at once create one item: the external id is unique, and the loser
of the race updates the winner's item instead.

`place` is the same engine for `cms import`: it puts an exported item in place, created
or brought up to date, keeping its history, version and times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient

from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import editing, inputs, lookups, raw_sql, rendering, search, translations
from cms.content.records import ContentRecord
from cms.errors import Conflict, Invalid
from cms.models import Content, ContentAuthor, ContentKind, ContentTag, Correction, Revision

__all__ = ["Placed", "changed_values", "place", "place_new", "upsert"]

_ATTEMPTS = 3


def changed_values(current: Content, values: dict[str, Any]) -> dict[str, Any]:
    """The values that differ from `current`'s (the ones an update would write)."""
    return {name: value for name, value in values.items() if getattr(current, name) != value}


async def _links(content_id: int, connection: BaseDBAsyncClient) -> tuple[list[int], list[int]]:
    """The item's byline author ids (in order) and tag ids (as a sorted list)."""
    author_ids = await (
        ContentAuthor.filter(content_id=content_id)
        .using_db(connection)
        .order_by("position")
        .values_list("author_id", flat=True)
    )
    tag_ids = await (
        ContentTag.filter(content_id=content_id)
        .using_db(connection)
        .values_list("tag_id", flat=True)
    )
    return cast(list[int], author_ids), sorted(cast(list[int], tag_ids))


async def _same_story(
    current: Content, data: inputs.ContentInput, connection: BaseDBAsyncClient
) -> None:
    """translationOf on an existing item must name its own story (a resend of the create
    that made it a translation); anything else would move it, which no update does."""
    if data.translation_of is inputs.UNSET or data.translation_of is None:
        return
    original = await Content.get_or_none(id=data.translation_of, using_db=connection)
    story = (original.story_id or original.id) if original is not None else None
    if story is None or story != current.story_id:
        raise Invalid("translationOf is set at creation and cannot change", field="translationOf")


async def _update(
    *,
    id: int,
    kind: ContentKind,
    data: inputs.ContentInput,
    viewer: Viewer,
    include: lookups.Include,
    locales: Sequence[str] | None,
) -> ContentRecord:
    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change | None:
        if current.kind != kind:
            raise Invalid(
                "externalId is already used by content of another kind", field="externalId"
            )
        patch = replace(data, external_id=inputs.UNSET, translation_of=inputs.UNSET)
        resolved = await inputs.resolve(
            kind, patch, creating=False, connection=connection, locales=locales
        )
        await _same_story(current, data, connection)
        values = changed_values(current, resolved.values)
        author_ids, tag_ids = await _links(current.id, connection)
        new_authors = resolved.author_ids
        if new_authors is not None and new_authors == author_ids:
            new_authors = None
        new_tags = resolved.tag_ids
        if new_tags is not None and sorted(set(new_tags)) == tag_ids:
            new_tags = None
        if not values and new_authors is None and new_tags is None:
            return None  # a resend: nothing to write, no revision, no event
        policy.require(viewer, policy.Action.EDIT_CONTENT, current)
        if "locale" in values:
            await translations.check_locale(
                story_id=current.story_id,
                locale=values["locale"],
                connection=connection,
                exclude_id=current.id,
            )
        return editing.Change(values, new_authors, new_tags)

    return await editing.save(
        id=id,
        viewer=viewer,
        action=policy.Action.UPSERT_CONTENT,
        expected_version=None,
        change=change,
        include=include,
    )


async def upsert(
    *,
    kind: ContentKind,
    external_id: str,
    data: inputs.ContentInput,
    viewer: Viewer,
    default_locale: str,
    include: lookups.Include = lookups.EVERYTHING,
    locales: Sequence[str] | None = None,
) -> ContentRecord:
    """Create the item of `kind` with `external_id` from `data`, or bring the existing one
    to `data` (a no-op when it matches already)."""
    policy.require(viewer, policy.Action.UPSERT_CONTENT)
    key = inputs.external_id(external_id)
    if key is None:
        raise Invalid("externalId is required", field="externalId")
    given = inputs.external_id(data.external_id)
    if given is not None and given != key:
        raise Invalid("input.externalId must be the externalId given", field="externalId")
    data = replace(data, external_id=key)
    for _ in range(_ATTEMPTS):
        existing = await Content.get_or_none(external_id=key)
        if existing is None:
            created = await editing.create_new(
                kind=kind,
                data=data,
                viewer=viewer,
                default_locale=default_locale,
                include=include,
                locales=locales,
            )
            if created is not None:
                return created
            continue  # another writer created it a moment ago: update theirs
        return await _update(
            id=existing.id, kind=kind, data=data, viewer=viewer, include=include, locales=locales
        )
    raise Conflict("the item is changing too fast; try again")


@dataclass(kw_only=True)
class Placed:
    """An item as an export file has it, its references resolved to this database's ids:
    what `place` makes the database hold."""

    kind: ContentKind
    values: dict[str, Any]
    """Its columns (external_id, slug, locale, status, version, times, fields of its kind,
    section_id, hero_image_id); created_at and updated_at among them."""
    author_ids: list[int]
    tag_ids: list[int]
    story_id: int | None
    """The story's first item; None with `own_story` when the item is that first item."""
    own_story: bool = False
    joins: int | None = None
    """For `place_new`: the index of an earlier item of the same call whose story it joins."""
    revisions: list[dict[str, Any]] = field(default_factory=list)
    """Revision rows: version, title, created_by, created_at, note, snapshot (ids resolved)."""
    corrections: list[dict[str, Any]] = field(default_factory=list)
    """Correction rows: text, created_by, created_at."""


_TIMESTAMPS = ("created_at", "updated_at")


async def place(
    item: Placed, existing: Content | None, *, connection: BaseDBAsyncClient
) -> Content:
    """Make the database hold `item` as given, over `existing` (the item with its external
    id, or its slug in its locale) or as a new row: a restore, not an edit. It keeps the
    item's version and times, adds the revisions and corrections it lacks (history only
    grows) and records no event: moving a newsroom is not news (`cms import`)."""
    values = dict(item.values)
    if item.kind == ContentKind.ARTICLE:
        values["reading_time_minutes"] = rendering.reading_time_minutes(values.get("body") or "")
    times = {name: values.pop(name) for name in _TIMESTAMPS}
    values["story_id"] = item.story_id
    if existing is None:
        content = await Content.create(kind=item.kind, using_db=connection, **values)
    else:
        content = existing
        await Content.filter(id=content.id).using_db(connection).update(**values)
    if item.own_story:
        values["story_id"] = content.id
    await (
        Content.filter(id=content.id)
        .using_db(connection)
        .update(**times, story_id=values["story_id"])
    )
    change = editing.Change(author_ids=item.author_ids, tag_ids=item.tag_ids, event=None)
    await editing.replace_links(content.id, change, connection)
    had = set(
        await Revision.filter(content_id=content.id)
        .using_db(connection)
        .values_list("version", flat=True)
    )
    await Revision.bulk_create(
        [
            Revision(content_id=content.id, **revision)
            for revision in item.revisions
            if revision["version"] not in had
        ],
        using_db=connection,
    )
    said = set(
        await Correction.filter(content_id=content.id)
        .using_db(connection)
        .values_list("created_at", "text")
    )
    await Correction.bulk_create(
        [
            Correction(content_id=content.id, **correction)
            for correction in item.corrections
            if (correction["created_at"], correction["text"]) not in said
        ],
        using_db=connection,
    )
    placed = await Content.get(id=content.id, using_db=connection)
    await search.store(placed, item.author_ids, item.tag_ids, connection)
    return placed


async def place_new(items: Sequence[Placed], *, connection: BaseDBAsyncClient) -> list[int]:
    """`place` for many items that are not in the database yet, a fixed number of
    statements for any number of them (an import's batch): their rows, times and stories,
    bylines, tags, revisions, corrections and search documents. Answers their ids, in order.
    A conflict (a slug or external id taken meanwhile) is an IntegrityError for the caller."""
    if not items:
        return []
    await _insert(
        connection,
        "content",
        _CONTENT_COLUMNS,
        [_content_row(item) for item in items],
    )
    ids = await _ids_of(items, connection)
    stories: list[int | None] = []
    for index, item in enumerate(items):
        if item.own_story:
            stories.append(ids[index])
        elif item.joins is not None:
            stories.append(stories[item.joins])
        else:
            stories.append(item.story_id)
    # Only a story's first item, and the items joining it, learn their story now: its id.
    moved = [
        [story, id]
        for item, id, story in zip(items, ids, stories, strict=True)
        if story != item.story_id
    ]
    if moved:
        sql = raw_sql.Placeholders(raw_sql.dialect(connection))
        await connection.execute_many(
            f"UPDATE content SET story_id = {sql(None)} WHERE id = {sql(None)}", moved
        )
    await _insert(
        connection,
        "content_author",
        ("content_id", "author_id", "position"),
        [
            (id, author_id, position)
            for item, id in zip(items, ids, strict=True)
            for position, author_id in enumerate(item.author_ids)
        ],
    )
    await _insert(
        connection,
        "content_tag",
        ("content_id", "tag_id"),
        [(id, tag_id) for item, id in zip(items, ids, strict=True) for tag_id in item.tag_ids],
    )
    await Revision.bulk_create(
        [
            Revision(content_id=id, **revision)
            for item, id in zip(items, ids, strict=True)
            for revision in item.revisions
        ],
        using_db=connection,
    )
    await Correction.bulk_create(
        [
            Correction(content_id=id, **correction)
            for item, id in zip(items, ids, strict=True)
            for correction in item.corrections
        ],
        using_db=connection,
    )
    await search.refresh(ids, connection)
    return ids


_CONTENT_COLUMNS = (
    "created_at",
    "updated_at",
    "kind",
    "status",
    "title",
    "slug",
    "dek",
    "locale",
    "version",
    "published_at",
    "first_published_at",
    "significantly_updated_at",
    "external_id",
    "announce_at",
    "expires_at",
    "announce_expiry_at",
    "submitted_at",
    "story_id",
    "pinned_at",
    "pinned_until",
    "body",
    "reading_time_minutes",
    "description",
    "video_url",
    "duration_seconds",
    "show",
    "episode_number",
    "created_by_token_id",
    "hero_image_id",
    "section_id",
)
"""Every column of a content row but its id."""

_PARAMETERS = 30_000
"""Bound values per statement: under PostgreSQL's limit (32,767) and SQLite's (32,766)."""


def _content_row(item: Placed) -> list[Any]:
    """An item's content row, in _CONTENT_COLUMNS' order: its own times (bulk_create
    stamps updated_at with now, and putting them right after meant writing every row, and
    its dozen index entries, twice), its story when already known, defaults elsewhere."""
    values = {key: value for key, value in item.values.items() if key not in _TIMESTAMPS}
    if item.kind == ContentKind.ARTICLE:
        values["reading_time_minutes"] = rendering.reading_time_minutes(values.get("body") or "")
    content = Content(kind=item.kind, **values)
    content.created_at = item.values["created_at"]
    content.updated_at = item.values["updated_at"]
    content.story_id = item.story_id
    row = [getattr(content, column) for column in _CONTENT_COLUMNS]
    return [value.value if isinstance(value, Enum) else value for value in row]


async def _insert(
    connection: BaseDBAsyncClient,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """`rows` into `table` in multi-row INSERTs, a few hundred rows a statement, where
    Tortoise's bulk_create sends one execution per row and asks each one's id back."""
    if not rows:
        return
    names = ", ".join(f'"{column}"' for column in columns)
    per_statement = max(1, _PARAMETERS // len(columns))
    for start in range(0, len(rows), per_statement):
        sql = raw_sql.Placeholders(raw_sql.dialect(connection))
        values = ", ".join(
            f"({', '.join(sql(value) for value in row)})"
            for row in rows[start : start + per_statement]
        )
        await connection.execute_query(
            f'INSERT INTO "{table}" ({names}) VALUES {values}', sql.params
        )


async def _ids_of(items: Sequence[Placed], connection: BaseDBAsyncClient) -> list[int]:
    """The ids of items just inserted, found by their unique keys (external id, else slug
    in its locale): two queries."""
    external = [item.values["external_id"] for item in items if item.values["external_id"]]
    by_external = (
        dict(
            await Content.filter(external_id__in=external)
            .using_db(connection)
            .values_list("external_id", "id")
        )
        if external
        else {}
    )
    plain = [item for item in items if not item.values["external_id"]]
    by_slug = {
        (slug, locale): id
        for slug, locale, id in (
            await Content.filter(slug__in=sorted({item.values["slug"] for item in plain}))
            .using_db(connection)
            .values_list("slug", "locale", "id")
            if plain
            else []
        )
    }
    return [
        by_external[item.values["external_id"]]
        if item.values["external_id"]
        else by_slug[(item.values["slug"], item.values["locale"])]
        for item in items
    ]
