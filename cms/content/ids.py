"""Opaque global IDs ("Article:42", base64-encoded, as Relay's convention has it)."""

from __future__ import annotations

import base64
import binascii

from cms.errors import Invalid
from cms.models import ContentKind

__all__ = ["CONTENT_KINDS", "CONTENT_TYPES", "content_id", "decode", "encode"]

# The API's type name of each content kind, and back.
CONTENT_TYPES = {ContentKind.ARTICLE: "Article", ContentKind.VIDEO_EPISODE: "VideoEpisode"}
CONTENT_KINDS = {name: kind for kind, name in CONTENT_TYPES.items()}


def encode(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def content_id(kind: ContentKind | str, pk: int) -> str:
    """The global ID of a content item ("Article:42" or "VideoEpisode:42", encoded)."""
    return encode(CONTENT_TYPES[ContentKind(kind)], pk)


def decode(value: str, *, field: str = "id") -> tuple[str, int]:
    """(type name, primary key); Invalid when `value` is not one of our IDs."""
    try:
        type_name, _, pk = base64.b64decode(value, validate=True).decode().partition(":")
        if not type_name or not pk.isdigit():
            raise ValueError(value)
        return type_name, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid(f"{field} is not a valid ID", field=field) from None
