"""Writing content: create and update articles and video episodes.

Every change is one transaction: the row (with a version check), a Revision snapshot and
an outbox event commit together. `save` is the one way a content row changes; the
publishing actions use it too. Each write answers with the item's record as it was saved,
with the parts `include` asks for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import (
    inputs,
    items,
    lookups,
    revisions,
    search,
    slugs,
    translations,
    visibility,
)
from cms.content.records import ContentRecord
from cms.errors import Conflict, Invalid, NotFound
from cms.events import outbox
from cms.models import Content, ContentAuthor, ContentKind, ContentStatus, ContentTag

__all__ = ["Change", "create", "create_new", "replace_links", "save", "update"]

_ATTEMPTS = 8
_SLUG_TRIES = 50


@dataclass
class Change:
    """What an action does to a content row: new values, bylines/tags, the event (with
    what it carries beyond the item's snapshot, such as a kill's reason), and the note the
    revision keeps (a review step's or a kill's)."""

    values: dict[str, Any] = field(default_factory=dict)
    author_ids: list[int] | None = None
    tag_ids: list[int] | None = None
    event: outbox.EventType | None = outbox.EventType.UPDATED
    event_data: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


class _LostRace(Exception):
    """Another writer bumped the version first; the caller gave no expectedVersion: retry."""


async def replace_links(
    content_id: int, change: Change, connection: BaseDBAsyncClient
) -> tuple[list[int], list[int]]:
    """Write the bylines and tags the change gives; return the item's (author, tag) ids."""
    if change.author_ids is not None:
        await ContentAuthor.filter(content_id=content_id).using_db(connection).delete()
        await ContentAuthor.bulk_create(
            [
                ContentAuthor(content_id=content_id, author_id=author_id, position=position)
                for position, author_id in enumerate(change.author_ids)
            ],
            using_db=connection,
        )
    if change.tag_ids is not None:
        await ContentTag.filter(content_id=content_id).using_db(connection).delete()
        await ContentTag.bulk_create(
            [ContentTag(content_id=content_id, tag_id=tag_id) for tag_id in change.tag_ids],
            using_db=connection,
        )
    author_ids = change.author_ids
    if author_ids is None:
        author_ids = cast(
            list[int],
            await ContentAuthor.filter(content_id=content_id)
            .using_db(connection)
            .order_by("position")
            .values_list("author_id", flat=True),
        )
    tag_ids = change.tag_ids
    if tag_ids is None:
        tag_ids = cast(
            list[int],
            await ContentTag.filter(content_id=content_id)
            .using_db(connection)
            .values_list("tag_id", flat=True),
        )
    return author_ids, tag_ids


async def _record(
    content: Content, change: Change, viewer: Viewer, connection: BaseDBAsyncClient
) -> None:
    author_ids, tag_ids = await replace_links(content.id, change, connection)
    await search.store(content, author_ids, tag_ids, connection)  # in the same transaction
    await revisions.write(
        content=content,
        author_ids=author_ids,
        tag_ids=tag_ids,
        created_by=viewer.name,
        connection=connection,
        note=change.note,
    )
    if change.event is not None:
        changed = [
            *change.values,
            *(["author_ids"] if change.author_ids is not None else []),
            *(["tag_ids"] if change.tag_ids is not None else []),
        ]
        await outbox.record_change(
            type=change.event,
            content=content,
            connection=connection,
            changed=changed,
            data=change.event_data,
        )


async def _free_slug(base: str, locale: str, connection: BaseDBAsyncClient) -> str:
    """`base`, or `base-2`, `base-3`… whichever is not yet taken in `locale`."""
    # Numbered slugs may shorten a long base: look at everything sharing its stem.
    stem = base[: slugs.MAX_LENGTH - 8]
    taken = set(
        cast(
            list[str],
            await Content.filter(slug__startswith=stem, locale=locale)
            .using_db(connection)
            .values_list("slug", flat=True),
        )
    )
    if base not in taken:
        return base
    number = 2
    while _numbered(base, number) in taken:
        number += 1
    return _numbered(base, number)


def _numbered(base: str, number: int) -> str:
    suffix = f"-{number}"
    return base[: slugs.MAX_LENGTH - len(suffix)].rstrip("-") + suffix


async def _existing(external_id: str, kind: ContentKind) -> Content | None:
    existing = await Content.get_or_none(external_id=external_id)
    if existing is not None and existing.kind != kind:
        raise Invalid("externalId is already used by content of another kind", field="externalId")
    return existing


class _ExternalIdTaken(Exception):
    """Another writer created the item with this externalId a moment ago."""


async def _insert(
    kind: ContentKind, values: dict[str, Any], viewer: Viewer, connection: BaseDBAsyncClient
) -> Content:
    """Insert the row; a generated slug taken meanwhile by another writer moves on to the
    next free number (each try in a savepoint, so the transaction survives a collision)."""
    chosen_slug = "slug" in values
    for _ in range(_SLUG_TRIES):
        if not chosen_slug:
            values["slug"] = await _free_slug(
                slugs.slugify(values["title"]), values["locale"], connection
            )
        try:
            async with in_transaction() as savepoint:
                return await Content.create(
                    kind=kind,
                    status=ContentStatus.DRAFT,
                    version=1,
                    created_by_token_id=viewer.token_id,
                    using_db=savepoint,
                    **values,
                )
        except IntegrityError:
            external_id = values.get("external_id")
            if external_id and await Content.exists(external_id=external_id, using_db=connection):
                raise _ExternalIdTaken from None
            # A translation in this locale made a moment ago by another writer.
            await translations.check_locale(
                story_id=values.get("story_id"), locale=values["locale"], connection=connection
            )
            if chosen_slug:
                raise Invalid("that slug is already used in this locale", field="slug") from None
    raise Conflict("could not choose a free slug; try again or pass one")


async def create(
    *,
    kind: ContentKind,
    data: inputs.ContentInput,
    viewer: Viewer,
    default_locale: str,
    include: lookups.Include = lookups.EVERYTHING,
    locales: Sequence[str] | None = None,
) -> ContentRecord:
    """A new DRAFT, in `default_locale` (CMS_DEFAULT_LOCALE) unless `data` names one of
    `locales` (CMS_LOCALES); with `translationOf`, a translation joining that item's story
    (cms.content.translations). With
    an externalId that exists already, the existing item comes back and nothing changes
    (the unique constraint decides when two retries race)."""
    policy.require(viewer, policy.Action.CREATE_CONTENT)
    external_id = inputs.external_id(data.external_id)  # as stored: retries match it
    if external_id and (existing := await _existing(external_id, kind)):
        return await items.as_saved(existing, include=include)
    content: Content | None
    try:
        content = await _create_row(kind, data, viewer, default_locale, locales)
    except _ExternalIdTaken:  # another writer created it a moment ago: theirs it is
        assert external_id is not None
        content = await _existing(external_id, kind)
    assert content is not None
    return await items.as_saved(content, include=include)


async def create_new(
    *,
    kind: ContentKind,
    data: inputs.ContentInput,
    viewer: Viewer,
    default_locale: str,
    include: lookups.Include = lookups.EVERYTHING,
    locales: Sequence[str] | None = None,
) -> ContentRecord | None:
    """Like `create`, but None when an item with the input's externalId exists already
    (also when another writer created it a moment ago): an upsert then updates that one."""
    policy.require(viewer, policy.Action.CREATE_CONTENT)
    external_id = inputs.external_id(data.external_id)
    if external_id and await _existing(external_id, kind):
        return None
    try:
        content = await _create_row(kind, data, viewer, default_locale, locales)
    except _ExternalIdTaken:
        return None
    return await items.as_saved(content, include=include)


async def _create_row(
    kind: ContentKind,
    data: inputs.ContentInput,
    viewer: Viewer,
    default_locale: str,
    locales: Sequence[str] | None,
) -> Content:
    """Insert a new DRAFT with its revision and event, in one transaction; raises
    _ExternalIdTaken when another writer holds the externalId."""
    async with in_transaction() as connection:
        resolved = await inputs.resolve(
            kind, data, creating=True, connection=connection, locales=locales
        )
        resolved.values.setdefault("locale", default_locale)
        if data.translation_of is not inputs.UNSET and data.translation_of is not None:
            resolved.values["story_id"] = await translations.join(
                kind=kind,
                original_id=data.translation_of,
                locale=resolved.values["locale"],
                connection=connection,
            )
        content = await _insert(kind, resolved.values, viewer, connection)
        change = Change(author_ids=resolved.author_ids or [], tag_ids=resolved.tag_ids or [])
        await _record(content, change, viewer, connection)
    return content


async def save(
    *,
    id: int,
    viewer: Viewer,
    action: policy.Action,
    expected_version: int | None,
    change: Callable[[Content, BaseDBAsyncClient], Awaitable[Change | None]],
    include: lookups.Include = lookups.EVERYTHING,
) -> ContentRecord:
    """Apply `change` to content `id` as one transaction with a version check.

    With `expected_version`, a stale version is a Conflict and nothing changes. Without
    it the update still cannot be lost: a lost race retries on the new version. A change
    that answers None has nothing to write (unpinning an item that is not pinned): no
    revision, no event, the same version.
    """
    for _ in range(_ATTEMPTS):
        try:
            async with in_transaction() as connection:
                # Lock the row: concurrent writers queue here instead of racing (PostgreSQL;
                # SQLite runs one write transaction at a time anyway).
                current = (
                    await Content.filter(id=id).select_for_update().using_db(connection).first()
                )
                if current is None:
                    raise NotFound("no content has that id")
                policy.require(viewer, action, current)
                if expected_version is not None and current.version != expected_version:
                    raise Conflict(
                        f"the item is at version {current.version}, not {expected_version}",
                        current_version=current.version,
                    )
                planned = await change(current, connection)
                if planned is None:
                    return await items.as_saved(current, include=include)
                updated = (
                    await Content.filter(id=id, version=current.version)
                    .using_db(connection)
                    .update(
                        **planned.values, version=current.version + 1, updated_at=clock.utcnow()
                    )
                )
                if not updated:
                    if expected_version is not None:
                        latest = await Content.get(id=id, using_db=connection)
                        raise Conflict(
                            f"the item changed meanwhile (now version {latest.version})",
                            current_version=latest.version,
                        )
                    raise _LostRace
                content = await Content.get(id=id, using_db=connection)
                await _record(content, planned, viewer, connection)
            return await items.as_saved(content, include=include)
        except _LostRace:
            continue
        except IntegrityError:
            raise Invalid("that slug is already used in this locale", field="slug") from None
    raise Conflict("the item is changing too fast; try again")


async def update(
    *,
    id: int,
    kind: ContentKind,
    data: inputs.ContentInput,
    viewer: Viewer,
    expected_version: int | None = None,
    include: lookups.Include = lookups.EVERYTHING,
    significant: bool = False,
    locales: Sequence[str] | None = None,
) -> ContentRecord:
    """Change an item. A `significant` change of a public item sets its
    significantly_updated_at (a typo fix is not significant; nor is any change of an item
    readers cannot see yet)."""
    if data.external_id is not inputs.UNSET:
        raise Invalid("externalId is set at creation and cannot change", field="externalId")
    if data.translation_of is not inputs.UNSET:
        raise Invalid("translationOf is set at creation and cannot change", field="translationOf")

    async def change(current: Content, connection: BaseDBAsyncClient) -> Change:
        if current.kind != kind:
            raise NotFound(f"no {kind.value.replace('_', ' ')} has that id")
        resolved = await inputs.resolve(
            kind, data, creating=False, connection=connection, locales=locales
        )
        values = dict(resolved.values)
        if "locale" in values and values["locale"] != current.locale:
            await translations.check_locale(
                story_id=current.story_id,
                locale=values["locale"],
                connection=connection,
                exclude_id=current.id,
            )
        now = clock.utcnow()
        if significant and visibility.is_public(current, now):
            values["significantly_updated_at"] = now
        return Change(values, resolved.author_ids, resolved.tag_ids)

    return await save(
        id=id,
        viewer=viewer,
        action=policy.Action.EDIT_CONTENT,
        expected_version=expected_version,
        change=change,
        include=include,
    )
