"""Sections for the Query and Mutation roots. Thin: read arguments, call one
cms.content.taxonomy service, map the result."""

from __future__ import annotations

from typing import Annotated

import strawberry

from cms.auth import policy
from cms.cache import tags
from cms.content import ids, lookups, taxonomy
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.types import inputs
from schema.types.errors import ConflictError, NotFoundError, ValidationError
from schema.types.taxonomy import Section, Tag

__all__ = ["SectionResult", "TagResult", "TaxonomyMutation", "TaxonomyQuery"]

SectionResult = Annotated[
    Section | ValidationError | NotFoundError | ConflictError, strawberry.union("SectionResult")
]
TagResult = Annotated[Tag | ValidationError | NotFoundError, strawberry.union("TagResult")]


@strawberry.type
class TaxonomyQuery:
    @strawberry.field(description="Every section, by name.")
    async def sections(self, info: Info) -> list[Section]:
        info.context.cache_tags.add(tags.SECTIONS)
        return [Section.from_record(record) for record in await lookups.sections()]

    @strawberry.field(description="One section by slug, with its page of content.")
    async def section(self, info: Info, slug: str) -> Section | None:
        info.context.cache_tags.add(tags.SECTIONS)  # creating a section changes it
        record = await lookups.section(slug=slug)
        return Section.from_record(record) if record is not None else None

    @strawberry.field(description="One tag by slug, with its page of content.")
    async def tag(self, info: Info, slug: str) -> Tag | None:
        record = await lookups.tag(slug=slug)
        if record is None:
            # A tag is also created by a draft's tagSlugs, which no cache tag announces.
            info.context.cache_tags.refuse()
            return None
        info.context.cache_tags.add(tags.tag(slug))  # its list; updateTag changes it too
        return Tag.from_record(record)


@strawberry.type
class TaxonomyMutation:
    @strawberry.mutation(
        description="A new section.", extensions=require(policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    )
    async def create_section(self, info: Info, input: inputs.SectionInput) -> SectionResult:
        async def work() -> Section:
            record = await taxonomy.create_section(
                viewer=info.context.viewer, **inputs.given(input)
            )
            info.context.cache_tags.changed.add(tags.SECTIONS)
            return Section.from_record(record)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)

    @strawberry.mutation(
        description="A new tag, named as written (its case kept); the slug is made from the "
        "name when omitted.",
        extensions=require(policy.Action.MANAGE_AUTHORS_AND_SECTIONS),
    )
    async def create_tag(self, info: Info, input: inputs.TagInput) -> TagResult:
        async def work() -> Tag:
            record = await taxonomy.create_tag(viewer=info.context.viewer, **inputs.given(input))
            info.context.cache_tags.changed.add(tags.tag(record.slug))  # a lookup of its slug
            return Tag.from_record(record)

        return await as_result(work(), ValidationError, NotFoundError)

    @strawberry.mutation(
        description="Rename a tag or change its slug: every item carrying it shows the change.",
        extensions=require(policy.Action.MANAGE_AUTHORS_AND_SECTIONS),
    )
    async def update_tag(self, info: Info, id: strawberry.ID, input: inputs.TagPatch) -> TagResult:
        async def work() -> Tag:
            changed = await taxonomy.update_tag(
                viewer=info.context.viewer, id=ids.expect(id, "Tag"), **inputs.given(input)
            )
            # The responses showing its items, its lists under both slugs, and search (the
            # tag's name is searched with its items).
            info.context.cache_tags.changed.update(
                {tags.tag(changed.old_slug), tags.tag(changed.record.slug), tags.SEARCH},
                (tags.item(id) for id in changed.item_ids),
            )
            return Tag.from_record(changed.record)

        return await as_result(work(), ValidationError, NotFoundError)
