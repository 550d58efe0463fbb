from __future__ import annotations

import strawberry

from cms.content.records import SectionRecord, TagRecord
from schema.types.nodes import Node, encode_id

__all__ = ["Section", "Tag"]


@strawberry.type(description="A part of the newsroom's site, such as War or Business.")
class Section(Node):
    name: str
    slug: str

    @classmethod
    def from_record(cls, record: SectionRecord) -> Section:
        return cls(id=encode_id("Section", record.id), name=record.name, slug=record.slug)


@strawberry.type(description="A topic label on content.")
class Tag(Node):
    name: str
    slug: str

    @classmethod
    def from_record(cls, record: TagRecord) -> Tag:
        return cls(id=encode_id("Tag", record.id), name=record.name, slug=record.slug)
