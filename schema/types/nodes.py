"""The Relay Node interface; IDs come from cms.content.ids."""

from __future__ import annotations

from collections.abc import Callable

import strawberry

from cms.content import ids

__all__ = ["Node", "decode_id", "encode_id"]


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


# An ID is a str at run time: the encoder itself, without a wrapper call per ID.
encode_id: Callable[[str, int], strawberry.ID] = ids.encode  # type: ignore[assignment]


def decode_id(value: str, *, field: str = "id") -> tuple[str, int]:
    return ids.decode(value, field=field)
