"""Opaque global IDs ("Article:42", base64-encoded, as Relay's convention has it), and the
one rule for a primary key a client sends (in an ID or a cursor).

A primary key is written in ASCII digits, without a sign, separator, space or leading
zero, from 1 to MAX_PK: so one item has one ID ("Article:042", "Article:+42", "Article:4_2"
and "Article:٤٢" are none), and no number reaches the database that a column cannot hold
(asyncpg refuses integers past int32 for these columns; SQLite past int64). An ID is
exactly the base64 text `encode` makes; any other spelling of the same bytes is not one.
"""

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
    "MAX_PK",
    "content_id",
    "decode",
    "encode",
    "expect",
    "expect_content",
    "primary_key",
]

# The API's type name of each content kind, and back.
CONTENT_TYPES = {ContentKind.ARTICLE: "Article", ContentKind.VIDEO_EPISODE: "VideoEpisode"}
CONTENT_KINDS = {name: kind for kind, name in CONTENT_TYPES.items()}

MAX_PK = 2**31 - 1
"""The largest primary key: the id columns are 32-bit integers on PostgreSQL."""
_PK = re.compile(r"[1-9][0-9]{0,9}")  # ASCII digits only: [0-9] is not \d
_MAX_ID_LENGTH = 100  # far longer than any ID `encode` makes: refused before decoding


def primary_key(text: str) -> int | None:
    """The primary key `text` spells by the rule above, or None."""
    if _PK.fullmatch(text) is None:
        return None
    pk = int(text)
    return pk if pk <= MAX_PK else None


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
        if len(value) > _MAX_ID_LENGTH:
            raise ValueError("too long")
        raw = base64.b64decode(value, validate=True)
        if base64.b64encode(raw).decode() != value:
            raise ValueError("not the spelling encode() makes")  # unused bits set, say
        type_name, _, digits = raw.decode("ascii").partition(":")
        pk = primary_key(digits)
        if not type_name or pk is None:
            raise ValueError("no type name or primary key")
        return type_name, pk
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
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
