from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from cms.models.base import TimestampedModel

if TYPE_CHECKING:
    from cms.models.media import Media

__all__ = ["Author", "AuthorKind"]


class AuthorKind(StrEnum):
    DESK = "desk"
    PERSON = "person"


class Author(TimestampedModel):
    # A byline: a desk (the news desk) or a person.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=200, unique=True)
    kind = fields.CharEnumField(AuthorKind, max_length=16, default=AuthorKind.PERSON)
    bio = fields.TextField(null=True)
    email = fields.CharField(max_length=254, null=True)
    avatar: fields.ForeignKeyNullableRelation[Media] = fields.ForeignKeyField(
        "models.Media", null=True, on_delete=fields.SET_NULL, related_name=False
    )

    class Meta:
        table = "author"
