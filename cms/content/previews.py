"""Preview links: a link that shows one item, in whatever state it is in, to whoever holds
it until it expires, so an editor can open a draft on the website without an API token.

A link carries a token that says which item and until when, signed by the newsroom:

    <base64url("<item id>.<expiry, Unix seconds>")>.<base64url(HMAC-SHA256 of the first part)>

(URL-safe base64 without padding; the HMAC is of "newsdesk-preview-link:" and the first
part, so a signature made for another use never fits). Nothing is stored per link: the
signature is checked, then the expiry, then the item is read. A token that is malformed,
forged, tampered with, expired or too long reads as nothing, never as an error; so does
one whose item has been deleted or killed (a kill takes a story off every path a reader
without an API token has). The token gives no other right: it is not an API token.

The signing key is the `signing_key` row named "preview", made on first use and shared
by every worker through the database (two workers that race to make it both end up with
the one that was stored). Each worker keeps it in memory after reading it once. It is
never shown through the API. Deleting the row retires every link once the workers have
restarted (each keeps the key it read until then).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from cms.auth import policy
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.content import ids, items, lookups
from cms.content.records import ContentRecord
from cms.errors import Invalid, NotFound
from cms.models import Content, ContentStatus, SigningKey

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "KEY_NAME",
    "MAX_TOKEN_LENGTH",
    "MAX_TTL_SECONDS",
    "MIN_TTL_SECONDS",
    "PreviewLink",
    "create_link",
    "read",
    "signing_key",
    "url_pattern",
]

KEY_NAME: Final = "preview"
"""The name of the signing_key row that signs preview links."""
DEFAULT_TTL_SECONDS: Final = 3600
MIN_TTL_SECONDS: Final = 60
MAX_TTL_SECONDS: Final = 7 * 24 * 3600
MAX_TOKEN_LENGTH: Final = 500
"""Far longer than any token `create_link` makes (about 75 characters): longer reads as
nothing before any work is done."""

_SECRET_BYTES: Final = 32
_PURPOSE: Final = b"newsdesk-preview-link:"
_TOKEN: Final = re.compile(r"([A-Za-z0-9_-]{1,100})\.([A-Za-z0-9_-]{43})", re.ASCII)
_CLAIMS: Final = re.compile(r"([1-9][0-9]{0,9})\.([1-9][0-9]{0,11})", re.ASCII)
# Who reads an item through a link: a role that may preview, and nothing more.
_READER: Final = Viewer(name="preview-link", role=Role.VIEWER)
# Each worker's signing key, per database connection (tests open a new database each
# time; a worker has one for its whole life).
_KEYS: weakref.WeakKeyDictionary[BaseDBAsyncClient, bytes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class PreviewLink:
    """A link made for one item: its token, the URL to open and when it stops working."""

    token: str
    url: str
    expires_at: datetime


def url_pattern(settings: Settings) -> str:
    """Where a preview opens, with `{token}` in it: CMS_PREVIEW_URL, or by default the
    website's /preview page."""
    return settings.preview_url or f"{settings.website_url}/preview?token={{token}}"


async def create_link(
    *, id: int, ttl_seconds: int, viewer: Viewer, now: datetime, pattern: str
) -> PreviewLink:
    """A preview link to content `id` for `ttl_seconds` (60 seconds to 7 days) from `now`.

    Authors make links to their own items only (in any status), editors and admins to
    any: Forbidden otherwise. Invalid names `ttlSeconds`; NotFound when no item has `id`.
    """
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        raise Invalid(
            f"ttlSeconds must be from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} (7 days)",
            field="ttlSeconds",
        )
    row = await Content.filter(id=id).only("id", "status", "created_by_token_id").first()
    if row is None:
        raise NotFound("no content has that id")
    policy.require(viewer, policy.Action.CREATE_PREVIEW_LINK, row)
    if row.status == ContentStatus.KILLED:
        raise Invalid("the item was killed: it has no preview", field="id")
    expires = int(now.timestamp()) + ttl_seconds
    key = await signing_key()
    token = _sign(id, expires, key)
    return PreviewLink(
        token=token,
        url=pattern.replace("{token}", quote(token, safe="")),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


async def read(
    token: str, *, now: datetime, include: lookups.Include = lookups.EVERYTHING
) -> ContentRecord | None:
    """The item `token` opens, in whatever state, while the token has not expired at
    `now`; None for any token that is not one of ours, or not any more."""
    signed = _TOKEN.fullmatch(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if signed is None:
        return None
    key = await _existing_key()
    if key is None:  # no link was ever made with this database
        return None
    claims, signature = signed.groups()
    if not hmac.compare_digest(signature.encode("ascii"), _signature(claims, key)):
        return None
    opened = _opened(claims)
    if opened is None:
        return None
    id, expires = opened
    if now.timestamp() >= expires:
        return None
    record = await items.by_id(id=id, viewer=_READER, now=now, include=include)
    if record is not None and record.status == ContentStatus.KILLED:
        return None  # a kill takes a story off every path a token-less reader has
    return record


async def signing_key() -> bytes:
    """The key that signs preview links, made on first use. Read from the database once
    per worker."""
    connection = _connection()
    key = _KEYS.get(connection)
    if key is None:
        secret = await _read_secret(connection) or await _make_secret(connection)
        key = _KEYS[connection] = secret.encode()
    return key


async def _existing_key() -> bytes | None:
    """The signing key, or None when none was made yet (a read never writes)."""
    connection = _connection()
    key = _KEYS.get(connection)
    if key is None:
        secret = await _read_secret(connection)
        if secret is None:
            return None
        key = _KEYS[connection] = secret.encode()
    return key


def _connection() -> BaseDBAsyncClient:
    return SigningKey._choose_db()  # noqa: SLF001 - the connection its queries would use


async def _read_secret(connection: BaseDBAsyncClient) -> str | None:
    row = await SigningKey.get_or_none(name=KEY_NAME, using_db=connection)
    return row.secret if row is not None else None


async def _make_secret(connection: BaseDBAsyncClient) -> str:
    """Store a new secret; when another worker stored one a moment ago, theirs it is."""
    try:
        row = await SigningKey.create(
            name=KEY_NAME, secret=secrets.token_urlsafe(_SECRET_BYTES), using_db=connection
        )
    except IntegrityError:
        row = await SigningKey.get(name=KEY_NAME, using_db=connection)
    return row.secret


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _signature(claims: str, key: bytes) -> bytes:
    """The signature of a token's first part, as the token spells it."""
    mac = hmac.new(key, _PURPOSE + claims.encode("ascii"), hashlib.sha256).digest()
    return _encode(mac).encode("ascii")


def _sign(id: int, expires: int, key: bytes) -> str:
    claims = _encode(f"{id}.{expires}".encode("ascii"))
    return f"{claims}.{_signature(claims, key).decode('ascii')}"


def _opened(claims: str) -> tuple[int, int] | None:
    """(item id, expiry) from a signed first part; None when it says neither."""
    try:
        text = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)).decode("ascii")
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        return None
    found = _CLAIMS.fullmatch(text)
    if found is None:
        return None
    id = ids.primary_key(found.group(1))
    return (id, int(found.group(2))) if id is not None else None
