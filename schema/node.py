"""`node`, for the Query root: any object by its global ID, whatever its domain."""

from __future__ import annotations

import strawberry

from cms.cache import tags
from cms.content import ids, items, lookups
from schema.context import Info
from schema.selection import item_include
from schema.types.content import content_from_record
from schema.types.media import Media
from schema.types.nodes import Node, decode_id
from schema.types.people import Author
from schema.types.taxonomy import Section, Tag

__all__ = ["NodeQuery"]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global ID.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = decode_id(id)
        links = info.context.links
        cache_tags = info.context.cache_tags
        if kind := ids.CONTENT_KINDS.get(type_name):
            cache_tags.add(tags.item(pk))
            record = await items.by_id(
                id=pk,
                kind=kind,
                viewer=info.context.viewer,
                now=info.context.now,
                include=item_include(info),
            )
            if record is None:
                return None
            cache_tags.shown([record])
            return content_from_record(record, links, info.context.now)
        if type_name == "Author":
            cache_tags.add(tags.author(pk))  # created or edited: that tag moves
            author = await lookups.author(id=pk)
            return Author.from_record(author, links) if author else None
        if type_name == "Section":
            cache_tags.add(tags.SECTIONS)  # created: that tag moves
            section = await lookups.section(id=pk)
            return Section.from_record(section) if section else None
        if type_name == "Tag":
            tag = await lookups.tag(id=pk)
            if tag is None:
                cache_tags.refuse()  # tags are created by content writes: no tag says so
                return None
            cache_tags.add(tags.tag(tag.slug))  # renamed or moved (updateTag): that tag moves
            return Tag.from_record(tag)
        if type_name == "Media":
            media = await lookups.media(id=pk)
            if media is None:
                cache_tags.refuse()  # uploads are new media: no tag says so
            return Media.from_record(media, links)
        return None
