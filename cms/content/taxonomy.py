"""Sections: the parts of the newsroom's site. (Tags are created with the content that
names them, in cms.content.inputs.)"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import slugs
from cms.content.inputs import check_name
from cms.content.records import SectionRecord
from cms.errors import Invalid
from cms.models import Section

__all__ = ["create_section"]


async def create_section(*, viewer: Viewer, name: str, slug: str | None = None) -> SectionRecord:
    policy.require(viewer, policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    checked_name = check_name(name, maximum=100)
    longest = slugs.MAX_TAXONOMY_LENGTH
    checked_slug = (
        slugs.check(slug, maximum=longest)
        if slug is not None
        else slugs.slugify(checked_name, maximum=longest)
    )
    try:
        section = await Section.create(name=checked_name, slug=checked_slug)
    except IntegrityError:
        raise Invalid("a section with that slug exists", field="slug") from None
    return SectionRecord(id=section.id, name=section.name, slug=section.slug)
