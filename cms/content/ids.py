"""Opaque global IDs ("Article:42", base64-encoded, as Relay's convention has it)."""

from __future__ import annotations

import base64
import binascii
import functools
import re

from cms.errors import Invalid, NotFound
from cms.models import ContentKind

__all__ = [
    "CONTENT_KINDS",
    "CONTENT_TYPES",
    "content_id",
    "decode",
    "encode",
    "expect",
    "expect_content",
]

# The API's type name of each content kind, and back.
CONTENT_TYPES = {ContentKind.ARTICLE: "Article", ContentKind.VIDEO_EPISODE: "VideoEpisode"}
CONTENT_KINDS = {name: kind for kind, name in CONTENT_TYPES.items()}


@functools.lru_cache(maxsize=16_384)  # a page shows the same desks, tags and sections
def encode(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def content_id(kind: ContentKind | str, pk: int) -> str:
    """The global ID of a content item ("Article:42" or "VideoEpisode:42", encoded)."""
    type_name = CONTENT_TYPES.get(kind)  # type: ignore[arg-type]  # its value finds a kind too
    return encode(type_name or CONTENT_TYPES[ContentKind(kind)], pk)


def decode(value: str, *, field: str = "id") -> tuple[str, int]:
    """(type name, primary key); Invalid when `value` is not one of our IDs."""
    try:
        type_name, _, pk = base64.b64decode(value, validate=True).decode().partition(":")
        if not type_name or not pk.isdigit():
            raise ValueError(value)
        return type_name, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid(f"{field} is not a valid ID", field=field) from None


def expect(value: str, *type_names: str, field: str = "id", what: str | None = None) -> int:
    """The primary key of `value`, the ID of a `type_names` object. Invalid (naming
    `field`) when `value` is not one of our IDs; NotFound ("no <what> has that id") when it
    is the ID of something else. `what` defaults to the first type's name in words
    ("WebhookDelivery": "webhook delivery")."""
    type_name, pk = decode(value, field=field)
    if type_name not in type_names:
        words = what or re.sub(r"(?<!^)(?=[A-Z])", " ", type_names[0]).lower()
        raise NotFound(f"no {words} has that id")
    return pk


def expect_content(value: str, kind: ContentKind | None = None) -> int:
    """The primary key of a content item's ID: of `kind` when given, else of any kind."""
    if kind is None:
        return expect(value, *CONTENT_KINDS, what="content")
    return expect(value, CONTENT_TYPES[kind])
