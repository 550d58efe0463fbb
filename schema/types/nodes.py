"""The Relay Node interface and opaque global IDs ("Article:42", base64-encoded)."""

from __future__ import annotations

import strawberry
from strawberry.relay import GlobalID, GlobalIDValueError

from cms.errors import Invalid

__all__ = ["Node", "decode_id", "encode_id"]


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


def encode_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(GlobalID(type_name, str(pk))))


def decode_id(value: str, *, field: str = "id") -> tuple[str, int]:
    """(type name, primary key) of a global ID; Invalid when it is not one of ours."""
    try:
        global_id = GlobalID.from_id(value)
        return global_id.type_name, int(global_id.node_id)
    except (GlobalIDValueError, ValueError):
        raise Invalid(f"{field} is not a valid ID", field=field) from None
