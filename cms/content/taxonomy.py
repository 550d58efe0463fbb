"""Sections and tags: the parts of the newsroom's site and the topics on its content.
(A tag is also created by the first item that names it in `tagSlugs`, in
cms.content.inputs, named after its slug; `create_tag` names it as the editor writes it.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import search, slugs
from cms.content.inputs import UNSET, check_name
from cms.content.records import SectionRecord, TagRecord
from cms.errors import Invalid, NotFound
from cms.models import ContentTag, Section, Tag

__all__ = ["RenamedTag", "create_section", "create_tag", "update_tag"]

MAX_NAME = 100


def _slug(slug: str | None, name: str) -> str:
    longest = slugs.MAX_TAXONOMY_LENGTH
    if slug is not None:
        return slugs.check(slug, maximum=longest)
    made = slugs.slugify(name, maximum=longest)
    if made == slugs.slugify(""):  # no letter or digit a slug can hold ("東京", "!!!")
        raise Invalid("the name gives no slug: give one", field="slug")
    return made


async def create_section(*, viewer: Viewer, name: str, slug: str | None = None) -> SectionRecord:
    section = await _create(Section, viewer=viewer, name=name, slug=slug)
    return SectionRecord(id=section.id, name=section.name, slug=section.slug)


async def create_tag(*, viewer: Viewer, name: str, slug: str | None = None) -> TagRecord:
    """A new tag, named as given (its case kept), its slug made from the name if none."""
    tag = await _create(Tag, viewer=viewer, name=name, slug=slug)
    return TagRecord(id=tag.id, name=tag.name, slug=tag.slug)


_Named = TypeVar("_Named", Section, Tag)


async def _create(model: type[_Named], *, viewer: Viewer, name: str, slug: str | None) -> _Named:
    policy.require(viewer, policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    checked_name = check_name(name, maximum=MAX_NAME)
    try:
        return await model.create(name=checked_name, slug=_slug(slug, checked_name))
    except IntegrityError:
        what = model.__name__.lower()
        raise Invalid(f"a {what} with that slug exists", field="slug") from None


@dataclass(frozen=True, slots=True)
class RenamedTag:
    """A tag as it now stands, the slug it had, and the items that carry it."""

    record: TagRecord
    old_slug: str
    item_ids: list[int]


async def update_tag(
    *, viewer: Viewer, id: int, name: Any = UNSET, slug: Any = UNSET
) -> RenamedTag:
    """Rename a tag or change its slug. Its items are indexed for search again in the same
    transaction (their tags' names are searched with them)."""
    policy.require(viewer, policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    values: dict[str, str] = {}
    if name is not UNSET:
        values["name"] = check_name(name, maximum=MAX_NAME)
    if slug is not UNSET:
        if slug is None:
            raise Invalid("slug must not be null", field="slug")
        values["slug"] = _slug(slug, "")
    async with in_transaction() as connection:
        # The row locked: a concurrent rename waits, and reads the slug this one leaves.
        tag = await Tag.filter(id=id).select_for_update().using_db(connection).first()
        if tag is None:
            raise NotFound("no tag has that id")
        old_slug = tag.slug
        rows = (
            await ContentTag.filter(tag_id=id)
            .using_db(connection)
            .order_by("content_id")
            .values_list("content_id", flat=True)
        )
        item_ids = [int(row) for row in rows]  # type: ignore[call-overload]
        if values:
            try:
                await (
                    Tag.filter(id=id)
                    .using_db(connection)
                    .update(**values, updated_at=clock.utcnow())
                )
            except IntegrityError:
                raise Invalid("a tag with that slug exists", field="slug") from None
            if "name" in values:
                await search.refresh(item_ids, connection)
        tag = await Tag.get(id=id, using_db=connection)
    return RenamedTag(TagRecord(id=tag.id, name=tag.name, slug=tag.slug), old_slug, item_ids)
