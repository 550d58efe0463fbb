"""Uploading media: check who asks and what was sent, store the bytes, record the Media row.

Keys are content addresses: "uploads/" + the first two hex digits of the SHA-256 of the
bytes + "/" + the next thirty + the extension of the format Pillow found, such as
"uploads/3f/a9c0….jpg". The same bytes are stored once: uploading them again returns the
media that already has them, unchanged (its alt text, caption and credit stay as
first given). The file is written before the row is created; when the insert fails, the
file stays, which is harmless (the next upload of those bytes reuses it).
"""

from __future__ import annotations

import hashlib
from typing import Final

from tortoise.exceptions import IntegrityError

from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import text
from cms.content.records import MediaRecord
from cms.errors import Invalid
from cms.media import images
from cms.media.storage import Storage
from cms.models import Media

__all__ = ["MAX_ALT_TEXT", "MAX_BYTES", "MAX_CAPTION", "MAX_CREDIT", "key_for", "upload"]

MAX_BYTES: Final = 20 * 1024 * 1024
"""The largest upload: 20 MB (20,971,520 bytes)."""
MAX_ALT_TEXT: Final = 500
MAX_CAPTION: Final = 2000
MAX_CREDIT: Final = 255


def key_for(data: bytes, extension: str) -> str:
    """The storage key of `data`: the same bytes always get the same key."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    return f"uploads/{digest[:2]}/{digest[2:]}.{extension}"


def _text(value: str | None, *, field: str, limit: int, keep_empty: bool = False) -> str | None:
    if value is None:
        return None
    value = text.check(value, field=field).strip()
    if len(value) > limit:
        raise Invalid(f"{field} must be at most {limit} characters", field=field)
    return value if value or keep_empty else None


def _check_size(data: bytes, filename: str | None) -> None:
    name = f"{text.shown(filename, quoted=False)} " if filename else "the file "
    if not data:
        raise Invalid(f"{name}is empty", field="file")
    if len(data) > MAX_BYTES:
        raise Invalid(
            f"{name}is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB "
            f"({MAX_BYTES} bytes)",
            field="file",
        )


async def upload(
    *,
    viewer: Viewer,
    storage: Storage,
    data: bytes,
    filename: str | None = None,
    alt_text: str | None = None,
    caption: str | None = None,
    credit: str | None = None,
) -> MediaRecord:
    """Store an image and return its record (the existing one for bytes already stored).

    `filename` is the client's name for the file, used in messages only: the type comes
    from the bytes. An empty altText is kept (it marks a decorative image); an empty
    caption or credit is none. Raises Unauthenticated/Forbidden below the author role and
    Invalid for an empty, too large or unaccepted file or too long a text.
    """
    policy.require(viewer, policy.Action.UPLOAD_MEDIA)
    _check_size(data, filename)
    alt_text = _text(alt_text, field="altText", limit=MAX_ALT_TEXT, keep_empty=True)
    caption = _text(caption, field="caption", limit=MAX_CAPTION)
    credit = _text(credit, field="credit", limit=MAX_CREDIT)
    info = await images.inspect(data)
    key = key_for(data, info.extension)
    await storage.save(key, data)  # idempotent: the same bytes under the same key
    existing = await Media.get_or_none(key=key)
    if existing is not None:
        return _record(existing)
    try:
        media = await Media.create(
            key=key,
            mime_type=info.mime_type,
            size_bytes=len(data),
            width=info.width,
            height=info.height,
            alt_text=alt_text,
            caption=caption,
            credit=credit,
        )
    except IntegrityError:  # the same bytes uploaded at the same moment: theirs won
        media = await Media.get(key=key)
    return _record(media)


def _record(media: Media) -> MediaRecord:
    return MediaRecord(
        id=media.id,
        key=media.key,
        mime_type=media.mime_type,
        width=media.width,
        height=media.height,
        alt_text=media.alt_text,
        caption=media.caption,
        credit=media.credit,
    )
