"""The Relay Node interface; IDs come from cms.content.ids."""

from __future__ import annotations

import strawberry

from cms.content import ids

__all__ = ["Node", "decode_id", "encode_id"]


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(ids.encode(type_name, pk))


def decode_id(value: str, *, field: str = "id") -> tuple[str, int]:
    return ids.decode(value, field=field)
