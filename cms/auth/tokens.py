"""API tokens: create, verify, revoke and list. Only a hash of each secret is stored.

A secret looks like `ndk_<43 url-safe characters>`: 32 random bytes behind a fixed,
recognisable prefix that secret scanners (GitHub's, gitleaks) can match. The database
keeps its SHA-256 and its first 12 characters (`ndk_` and 8 more), so people can tell
tokens apart without the secret ever being stored in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from cms import clock, prepared
from cms.auth.roles import Role, parse_role
from cms.auth.viewer import Viewer
from cms.errors import Conflict, Invalid, NotFound, Unauthenticated
from cms.models import ApiToken

__all__ = [
    "LAST_USED_RESOLUTION",
    "PREFIX_LENGTH",
    "SECRET_PREFIX",
    "create",
    "ensure_dev_token",
    "list_tokens",
    "revoke",
    "verify",
]

SECRET_PREFIX = "ndk_"
SECRET_BYTES = 32
PREFIX_LENGTH = 12
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""`last_used_at` is written at most once per this interval per token, not per request."""

_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_INVALID_TOKEN = "invalid or revoked token"


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def _hash(secret: str) -> str:
    # A plain SHA-256, not a slow password hash (bcrypt, argon2): the secret is 256 random
    # bits, not something a person chose, so there is no dictionary to try and a brute
    # force of the hash is as hopeless as guessing the secret itself. A fast hash also
    # keeps verification cheap on every request and lets us look the token up by its hash.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise Invalid(
            "a token name is 1 to 100 characters: letters, digits, '-', '_' or '.'",
            field="name",
        )
    return name


def _role(role: Role | str) -> Role:
    return role if isinstance(role, Role) else parse_role(role)


async def create(*, name: str, role: Role | str) -> tuple[ApiToken, str]:
    """Create a token; return it and its secret, which is shown this once and never again.

    Raises `Invalid` (field "name" or "role") and `Conflict` when the name is taken.
    """
    _check_name(name)
    token_role = _role(role)
    secret = _new_secret()
    try:
        # The unique constraint decides a duplicate name, so two concurrent creates cannot
        # both win. The transaction is a savepoint when the caller has one open, so a
        # PostgreSQL caller's transaction survives the failed INSERT.
        async with in_transaction():
            token = await ApiToken.create(
                name=name,
                role=token_role.value,
                secret_hash=_hash(secret),
                prefix=secret[:PREFIX_LENGTH],
            )
    except IntegrityError:
        raise Conflict(f"a token named {name} already exists") from None
    return token, secret


async def verify(*, secret: str) -> Viewer:
    """The viewer holding `secret`; `Unauthenticated` when it is unknown or revoked.

    One SELECT by hash. `last_used_at` is written only when it is older than
    LAST_USED_RESOLUTION, so a busy token costs one UPDATE a minute, not one a request.
    """
    digest = _hash(secret)
    connection, statement = _BY_HASH.get(
        "secret_hash",
        lambda markers: (
            ApiToken.filter(secret_hash=markers.str("hash"))
            .limit(1)
            .values("id", "name", "role", "secret_hash", "revoked_at", "last_used_at")
        ),
    )
    rows = await statement.rows(connection, {"hash": digest}, seeks=True)
    token = rows[0] if rows else None
    if (
        token is None
        or not hmac.compare_digest(token["secret_hash"], digest)
        or token["revoked_at"] is not None
    ):
        raise Unauthenticated(_INVALID_TOKEN)
    now = clock.utcnow()
    stale = now - LAST_USED_RESOLUTION
    if token["last_used_at"] is None or token["last_used_at"] <= stale:
        # Conditional, so concurrent requests and workers do not all write the same minute.
        await ApiToken.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), id=token["id"]
        ).update(last_used_at=now)
    return Viewer(name=token["name"], role=Role(token["role"]), token_id=token["id"])


_BY_HASH = prepared.Statements(ApiToken)  # a token by its hash: a seek of a unique index


async def revoke(*, name: str) -> ApiToken:
    """Revoke the token called `name` (`NotFound` if there is none).

    Revoking a revoked token changes nothing and keeps its first revocation time.
    """
    token = await ApiToken.get_or_none(name=name)
    if token is None:
        raise NotFound(f"no token named {name}")
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow()
        await token.save(update_fields=["revoked_at", "updated_at"])
    return token


async def list_tokens() -> list[ApiToken]:
    """Every token, revoked ones included, ordered by name. Secrets are not stored, so
    none can be listed; `prefix` tells tokens apart."""
    return await ApiToken.all().order_by("name")


async def ensure_dev_token(*, name: str = "local-editor", role: Role = Role.EDITOR) -> str:
    """A working secret for the development token `name`, for `make serve` to print.

    Only a hash of a secret is stored, so an existing token's secret cannot be shown again.
    When no token has this name, one is created with `role`. When one exists it is rotated
    in place: it gets a new secret (its old one stops working), is un-revoked and is given
    `role`; its id stays, so content it created stays its own. Returns the new secret.
    This is for a developer's machine: never call it for a production database.
    """
    _check_name(name)
    for _ in range(2):
        secret = _new_secret()
        rotated = await ApiToken.filter(name=name).update(
            secret_hash=_hash(secret),
            prefix=secret[:PREFIX_LENGTH],
            role=role.value,
            revoked_at=None,
            updated_at=clock.utcnow(),
        )
        if rotated:
            return secret
        try:
            _, secret = await create(name=name, role=role)
        except Conflict:
            continue  # created concurrently since the UPDATE: rotate that one
        return secret
    raise Conflict(f"the token {name} keeps changing; try again")
