"""cms.auth.tokens against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth import roles, tokens
from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.config import Settings
from cms.errors import Conflict, Invalid, NotFound, Unauthenticated
from cms.models import ApiToken


async def _stored_text(settings: Settings) -> bytes:
    """Everything the database holds for api_token, as bytes, to search for a secret."""
    if settings.is_sqlite:
        # WAL mode: fresh rows may still sit in the -wal file, so read every file.
        path = Path(expand_db_url(settings.database_url)["credentials"]["file_path"])
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return b"".join(file.read_bytes() for file in files if file.exists())
    conn = Tortoise.get_connection("default")
    rows = await conn.execute_query_dict("SELECT t::text AS row FROM api_token AS t")
    return "\n".join(row["row"] for row in rows).encode()


# --- roles and viewers ----------------------------------------------------------------


def test_roles_are_ranked_by_power_not_alphabet() -> None:
    order = [Role.VIEWER, Role.AUTHOR, Role.EDITOR, Role.ADMIN]
    assert [role.rank for role in order] == [0, 1, 2, 3]
    assert Role.ADMIN.at_least(Role.VIEWER)
    assert Role.EDITOR.at_least(Role.EDITOR)
    assert not Role.VIEWER.at_least(Role.AUTHOR)
    assert not Role.EDITOR.at_least(Role.ADMIN)


def test_parse_role() -> None:
    assert roles.parse_role("editor") is Role.EDITOR
    assert roles.parse_role(" Admin ") is Role.ADMIN
    with pytest.raises(Invalid) as caught:
        roles.parse_role("superuser")
    assert caught.value.field == "role"
    for role in ("viewer", "author", "editor", "admin"):
        assert role in caught.value.message


def test_viewer() -> None:
    assert ANONYMOUS.is_anonymous
    assert ANONYMOUS == Viewer()
    assert not Viewer(name="desk", role=Role.AUTHOR, token_id=1).is_anonymous


# --- create and verify ----------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
async def test_create_then_verify_gives_the_role(db: None, role: Role) -> None:
    token, secret = await tokens.create(name=f"bot-{role}", role=role)

    assert secret.startswith("ndk_")
    assert len(secret) >= 4 + 43  # 32 random bytes, url-safe base64
    assert token.prefix == secret[:12]
    assert token.role == role.value
    assert token.revoked_at is None
    viewer = await tokens.verify(secret=secret)
    assert viewer == Viewer(name=f"bot-{role}", role=role, token_id=token.id)
    assert not viewer.is_anonymous


async def test_create_accepts_a_role_name(db: None) -> None:
    _, secret = await tokens.create(name="cli.token_1", role="author")
    assert (await tokens.verify(secret=secret)).role is Role.AUTHOR


async def test_secrets_differ(db: None) -> None:
    _, first = await tokens.create(name="one", role=Role.VIEWER)
    _, second = await tokens.create(name="two", role=Role.VIEWER)
    assert first != second


@pytest.mark.parametrize(
    "wrong",
    ["", "ndk_", "not-a-token", "ndk_" + "A" * 43],
    ids=["empty", "bare-prefix", "garbage", "well-formed-unknown"],
)
async def test_wrong_secret_is_unauthenticated(db: None, wrong: str) -> None:
    await tokens.create(name="real", role=Role.ADMIN)
    with pytest.raises(Unauthenticated, match="invalid or revoked token"):
        await tokens.verify(secret=wrong)


async def test_a_near_miss_is_unauthenticated(db: None) -> None:
    _, secret = await tokens.create(name="real", role=Role.ADMIN)
    with pytest.raises(Unauthenticated):
        await tokens.verify(secret=secret[:-1])
    with pytest.raises(Unauthenticated):
        await tokens.verify(secret=secret + "x")


async def test_revoked_is_unauthenticated(db: None) -> None:
    _, secret = await tokens.create(name="leaked", role=Role.EDITOR)
    revoked = await tokens.revoke(name="leaked")
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthenticated, match="invalid or revoked token"):
        await tokens.verify(secret=secret)


async def test_revoking_twice_keeps_the_first_time(db: None) -> None:
    await tokens.create(name="leaked", role=Role.EDITOR)
    first = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    with clock.frozen(first):
        await tokens.revoke(name="leaked")
    with clock.frozen(first + timedelta(days=1)):
        again = await tokens.revoke(name="leaked")
    assert again.revoked_at == first
    stored = await ApiToken.get(name="leaked")
    assert stored.revoked_at == first


async def test_revoke_unknown_is_not_found(db: None) -> None:
    with pytest.raises(NotFound):
        await tokens.revoke(name="nobody")


async def test_duplicate_name_is_a_conflict(db: None) -> None:
    await tokens.create(name="dup", role=Role.VIEWER)
    with pytest.raises(Conflict, match="a token named dup already exists"):
        await tokens.create(name="dup", role=Role.ADMIN)
    assert [t.role for t in await tokens.list_tokens()] == ["viewer"]


async def test_duplicate_name_inside_a_transaction_leaves_it_usable(db: None) -> None:
    # PostgreSQL aborts a transaction on a failed INSERT unless it ran in a savepoint.
    await tokens.create(name="dup", role=Role.VIEWER)
    async with in_transaction():
        with pytest.raises(Conflict):
            await tokens.create(name="dup", role=Role.ADMIN)
        await tokens.create(name="other", role=Role.AUTHOR)
    assert [t.name for t in await tokens.list_tokens()] == ["dup", "other"]


@pytest.mark.parametrize(
    "name",
    ["", "x" * 101, "has space", "slash/name", "semi;colon", "ünïcode", "tab\t", "new\nline"],
)
async def test_bad_name_is_invalid(db: None, name: str) -> None:
    with pytest.raises(Invalid) as caught:
        await tokens.create(name=name, role=Role.VIEWER)
    assert caught.value.field == "name"
    assert await tokens.list_tokens() == []


async def test_longest_name_is_fine(db: None) -> None:
    token, _ = await tokens.create(name="x" * 100, role=Role.VIEWER)
    assert token.name == "x" * 100


async def test_bad_role_is_invalid(db: None) -> None:
    with pytest.raises(Invalid) as caught:
        await tokens.create(name="ok", role="root")
    assert caught.value.field == "role"
    assert await tokens.list_tokens() == []


# --- secrets stay secret --------------------------------------------------------------


async def test_the_secret_never_reaches_the_database(db: None, settings: Settings) -> None:
    token, secret = await tokens.create(name="scanned", role=Role.ADMIN)
    await tokens.verify(secret=secret)  # and verifying writes nothing of it either

    stored = await _stored_text(settings)
    assert token.secret_hash.encode() in stored  # we are looking at the right bytes
    assert secret.encode() not in stored
    assert secret[4:].encode() not in stored  # not even without its prefix


async def test_list_is_ordered_and_never_includes_secrets(db: None) -> None:
    secrets_by_name = {}
    for name in ("zeta", "alpha", "mid"):
        _, secrets_by_name[name] = await tokens.create(name=name, role=Role.AUTHOR)
    await tokens.revoke(name="mid")

    listed = await tokens.list_tokens()

    assert [token.name for token in listed] == ["alpha", "mid", "zeta"]
    assert [token.revoked_at is not None for token in listed] == [False, True, False]
    for token in listed:
        secret = secrets_by_name[token.name]
        for field in ApiToken._meta.fields:
            assert secret not in str(getattr(token, field))
        assert token.prefix == secret[:12]


# --- last use -------------------------------------------------------------------------


async def test_last_used_is_written_at_most_once_a_minute(db: None) -> None:
    _, secret = await tokens.create(name="busy", role=Role.VIEWER)
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    with clock.frozen(start):
        await tokens.verify(secret=secret)
    assert (await ApiToken.get(name="busy")).last_used_at == start

    with clock.frozen(start + timedelta(seconds=59)):
        await tokens.verify(secret=secret)
    assert (await ApiToken.get(name="busy")).last_used_at == start

    later = start + timedelta(minutes=1, seconds=1)
    with clock.frozen(later):
        await tokens.verify(secret=secret)
    assert (await ApiToken.get(name="busy")).last_used_at == later


# --- the development token ------------------------------------------------------------


async def test_ensure_dev_token_creates_an_editor(db: None) -> None:
    secret = await tokens.ensure_dev_token()
    viewer = await tokens.verify(secret=secret)
    assert viewer.name == "local-editor"
    assert viewer.role is Role.EDITOR


async def test_ensure_dev_token_twice_rotates_the_secret(db: None) -> None:
    first = await tokens.ensure_dev_token()
    token_id = (await tokens.verify(secret=first)).token_id

    second = await tokens.ensure_dev_token()

    assert second != first
    with pytest.raises(Unauthenticated):
        await tokens.verify(secret=first)
    viewer = await tokens.verify(secret=second)
    assert viewer.token_id == token_id  # rotated in place: same token, new secret
    assert [token.name for token in await tokens.list_tokens()] == ["local-editor"]


async def test_ensure_dev_token_unrevokes_and_sets_the_role(db: None) -> None:
    await tokens.create(name="dev", role=Role.VIEWER)
    await tokens.revoke(name="dev")

    secret = await tokens.ensure_dev_token(name="dev", role=Role.ADMIN)

    viewer = await tokens.verify(secret=secret)
    assert viewer.role is Role.ADMIN
    assert (await ApiToken.get(name="dev")).revoked_at is None
