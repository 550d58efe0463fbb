"""Preview links: createPreviewLink gives an author (for its own items) or an editor a
signed, short-lived link; whoever holds its token reads that one item, in whatever state,
through preview(token:) with no API token, until the link expires or the item is deleted.
Any other token reads as null, never as an error; the answer is never cached."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import ValidationError as SettingsError

from cms import clock
from cms.auth import tokens as api_tokens
from cms.config import Settings
from cms.content import previews
from cms.models import SigningKey
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    error_code,
    global_id,
    gql,
    gql_data,
    pk_of,
)
from tests.api.graphql_client import app_client

CREATE_LINK = (
    """
mutation($id: ID!, $ttl: Int) {
  createPreviewLink(id: $id, ttlSeconds: $ttl) {
    __typename
    ... on PreviewLink { token url expiresAt }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
CREATE_LINK_DEFAULT_TTL = (
    "mutation($id: ID!) { createPreviewLink(id: $id) "
    "{ __typename ... on PreviewLink { token url expiresAt } } }"
)
PREVIEW = """
query($token: String!) {
  preview(token: $token) { __typename id title status }
}
"""
UPDATE_TITLE = (
    "mutation($id: ID!, $title: String!) { updateArticle(id: $id, input: {title: $title}) "
    "{ __typename } }"
)
DELETE = "mutation($id: ID!) { deleteContent(id: $id) { __typename } }"
SUBMIT = "mutation($id: ID!) { submitForReview(id: $id) { __typename } }"
KILL = 'mutation($id: ID!) { kill(id: $id, reason: "Court order") { __typename } }'

# How links are signed (cms/content/previews.py): links in flight stop working if it changes.
PURPOSE = b"newsdesk-preview-link:"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signed(claims: str, secret: bytes) -> str:
    """A token with `claims` ("<id>.<expiry>") signed with `secret` as the CMS signs."""
    first = _b64(claims.encode())
    return f"{first}.{_b64(hmac.new(secret, PURPOSE + first.encode(), hashlib.sha256).digest())}"


def _claims(token: str) -> str:
    first = token.partition(".")[0]
    return base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode()


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> httpx.Response:
    """The raw answer of POST /graphql (to look through its text)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response


async def _create(
    client: httpx.AsyncClient, token: str | None, id: str, ttl: int | None = None
) -> tuple[int, dict[str, Any]]:
    return await gql(client, CREATE_LINK, {"id": id, "ttl": ttl}, token)


async def _link(
    client: httpx.AsyncClient, token: str, id: str, ttl: int | None = None
) -> dict[str, Any]:
    """createPreviewLink as `token`'s holder: the PreviewLink {token url expiresAt}."""
    data = await gql_data(client, CREATE_LINK, {"id": id, "ttl": ttl}, token)
    link: dict[str, Any] = data["createPreviewLink"]
    assert link["__typename"] == "PreviewLink", link
    return link


async def _preview(client: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    """preview(token:) asked anonymously, sent as ASCII JSON (a lone surrogate escaped):
    it must answer without errors."""
    body = json.dumps({"query": PREVIEW, "variables": {"token": token}}, ensure_ascii=True)
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    answer = response.json()
    assert response.status_code == 200, answer
    assert "errors" not in answer, answer
    item: dict[str, Any] | None = answer["data"]["preview"]
    return item


# --- the link --------------------------------------------------------------------------


async def test_an_author_previews_its_own_draft_with_no_api_token(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], settings: Settings
) -> None:
    author = tokens_by_role["author"]
    draft = await api_article(client, author, title="Council drafts the budget")

    with clock.frozen(clock.utcnow().replace(microsecond=0)) as now:
        link = await _link(client, author, draft["id"])
    shown = await _preview(client, link["token"])

    assert link["url"] == f"{settings.website_url}/preview?token={quote(link['token'], safe='')}"
    assert datetime.fromisoformat(link["expiresAt"]) == now + timedelta(hours=1)
    assert shown == {
        "__typename": "Article",
        "id": draft["id"],
        "title": "Council drafts the budget",
        "status": "DRAFT",
    }


async def test_cms_preview_url_decides_where_the_link_opens(
    settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    pattern = "https://front.example/api/preview?secret={token}&to=/news"
    async with app_client(settings.model_copy(update={"preview_url": pattern})) as client:
        editor = tokens_by_role["editor"]
        draft = await api_article(client, editor)

        link = await _link(client, editor, draft["id"])

    assert link["url"] == pattern.replace("{token}", quote(link["token"], safe=""))


def test_cms_preview_url_without_a_place_for_the_token_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CMS_PREVIEW_URL", "https://front.example/preview?token={token}")
    assert Settings().preview_url == "https://front.example/preview?token={token}"

    monkeypatch.setenv("CMS_PREVIEW_URL", "https://front.example/preview")
    with pytest.raises(SettingsError, match=r"preview_url[\s\S]*contains \{token\}"):
        Settings()


async def test_the_item_shows_in_whatever_state_it_is_in_until_it_is_killed(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    episode = await api_video_episode(client, editor, title="Night shift")
    token = (await _link(client, editor, episode["id"]))["token"]

    states = [(await _preview(client, token) or {}).get("status")]
    await gql_data(client, SUBMIT, {"id": episode["id"]}, editor)
    states.append((await _preview(client, token) or {}).get("status"))
    await api_publish(client, editor, episode["id"])
    states.append((await _preview(client, token) or {}).get("status"))
    await gql_data(client, KILL, {"id": episode["id"]}, editor)
    shown = await _preview(client, token)
    status, body = await gql(client, CREATE_LINK, {"id": episode["id"]}, editor)

    assert states == ["DRAFT", "IN_REVIEW", "PUBLISHED"]
    # A kill takes the story off every path a reader without an API token has: links
    # already shared read as nothing, and no new link is made.
    assert shown is None
    assert body["data"]["createPreviewLink"]["__typename"] == "ValidationError", body
    assert body["data"]["createPreviewLink"]["field"] == "id", body


# --- what a token opens ----------------------------------------------------------------


async def test_a_token_opens_its_own_item_and_no_other(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    mine = await api_article(client, editor, title="Mine")
    other = await api_article(client, editor, title="Other")
    token = (await _link(client, editor, mine["id"]))["token"]
    first, _, signature = token.partition(".")
    _, _, expires = _claims(token).partition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    other_id_same_signature = _b64(f"{pk_of(other['id'])}.{expires}".encode()) + "." + signature
    later_same_signature = (
        _b64(f"{pk_of(mine['id'])}.{int(expires) + 9}".encode()) + "." + signature
    )
    signed_elsewhere = _signed(f"{pk_of(other['id'])}.{expires}", secrets.token_bytes(32))

    assert (await _preview(client, token) or {}).get("title") == "Mine"
    assert await _preview(client, other_id_same_signature) is None
    assert await _preview(client, later_same_signature) is None
    assert await _preview(client, signed_elsewhere) is None
    assert await _preview(client, f"{first}.{flipped}") is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "garbage",
        "a.b",
        "x" * 501,
        "A" * 100_000,
        "новина.підпис",
        "war \x00 news",
        "war \ud800 news",
        " ",
    ],
    ids=[
        "empty",
        "a dot",
        "a word",
        "two short parts",
        "501 characters",
        "100,000 characters",
        "Cyrillic",
        "a NUL",
        "a lone surrogate",
        "a space",
    ],
)
async def test_anything_else_reads_as_null_not_as_an_error(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], token: str
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor)
    await _link(client, editor, draft["id"])  # a signing key exists: the token is checked

    assert await _preview(client, token) is None


async def test_a_real_token_spelled_another_way_reads_as_null(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor)
    token = (await _link(client, editor, draft["id"]))["token"]

    spellings = [token + "=", token + ".", " " + token, token + "\x00", token.upper()]

    assert [await _preview(client, spelled) for spelled in spellings] == [None] * len(spellings)
    assert await _preview(client, token) is not None


async def test_a_token_reads_as_null_once_it_expires(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author = tokens_by_role["author"]
    draft = await api_article(client, author)
    start = clock.utcnow().replace(microsecond=0)
    with clock.frozen(start):
        link = await _link(client, author, draft["id"], ttl=60)

    with clock.frozen(start + timedelta(seconds=59)):
        last_second = await _preview(client, link["token"])
    with clock.frozen(start + timedelta(seconds=60)):
        expired = await _preview(client, link["token"])

    assert datetime.fromisoformat(link["expiresAt"]) == start + timedelta(seconds=60)
    assert last_second is not None
    assert expired is None


async def test_a_token_reads_as_null_once_its_item_is_deleted(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor)
    token = (await _link(client, editor, draft["id"]))["token"]
    assert await _preview(client, token) is not None

    deleted = await gql_data(client, DELETE, {"id": draft["id"]}, editor)

    assert deleted["deleteContent"]["__typename"] == "Deleted"
    assert await _preview(client, token) is None


async def test_the_token_gives_no_other_right(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor, title="Embargoed")
    token = (await _link(client, editor, draft["id"]))["token"]
    both = "query($t: String!) { preview(token: $t) { title } me { name } }"
    history = "query($t: String!) { preview(token: $t) { title revisions { version } } }"

    _, together = await gql(client, both, {"t": token})
    _, revisions = await gql(client, history, {"t": token})
    status, as_api_token = await gql(client, "{ me { name } }", token=token)

    assert "errors" not in together, together
    assert together["data"] == {"preview": {"title": "Embargoed"}, "me": None}
    assert error_code(revisions) == "UNAUTHENTICATED"
    assert revisions["errors"][0]["path"] == ["preview", "revisions"]
    assert (status, error_code(as_api_token)) == (401, "UNAUTHENTICATED")


# --- who may make a link, and for how long ---------------------------------------------


@pytest.mark.parametrize(
    ("who", "whose", "expected"),
    [
        ("anonymous", "author", "UNAUTHENTICATED"),
        ("viewer", "author", "FORBIDDEN"),
        ("author", "author", "PreviewLink"),
        ("author", "colleague", "FORBIDDEN"),
        ("editor", "author", "PreviewLink"),
        ("admin", "colleague", "PreviewLink"),
    ],
)
async def test_authors_link_their_own_items_and_editors_any(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], who: str, whose: str, expected: str
) -> None:
    _, colleague = await api_tokens.create(name="colleague", role="author")
    holders = {**tokens_by_role, "colleague": colleague}
    item = await api_article(client, holders[whose])

    _, body = await _create(client, holders.get(who), item["id"])

    if expected == "PreviewLink":
        assert body["data"]["createPreviewLink"]["__typename"] == "PreviewLink", body
    else:
        assert (error_code(body), body["data"]) == (expected, None), body
        assert body["errors"][0]["path"] == ["createPreviewLink"]


async def test_an_author_links_its_own_published_item(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author = tokens_by_role["author"]
    story = await api_article(client, author)
    await api_publish(client, tokens_by_role["editor"], story["id"])

    link = await _link(client, author, story["id"])

    assert (await _preview(client, link["token"]) or {}).get("status") == "PUBLISHED"


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [
        (-1, "ValidationError"),
        (0, "ValidationError"),
        (59, "ValidationError"),
        (60, "PreviewLink"),
        (604_800, "PreviewLink"),
        (604_801, "ValidationError"),
        (2**31 - 1, "ValidationError"),
    ],
)
async def test_ttl_seconds_is_from_a_minute_to_seven_days(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], ttl: int, expected: str
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor)

    with clock.frozen(clock.utcnow().replace(microsecond=0)) as now:
        data = await gql_data(client, CREATE_LINK, {"id": draft["id"], "ttl": ttl}, editor)

    result = data["createPreviewLink"]
    assert result["__typename"] == expected, result
    if expected == "ValidationError":
        assert result["field"] == "ttlSeconds"
    else:
        assert datetime.fromisoformat(result["expiresAt"]) == now + timedelta(seconds=ttl)


async def test_ttl_seconds_left_out_or_null_is_an_hour(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor)
    with clock.frozen(clock.utcnow().replace(microsecond=0)) as now:
        left_out = await gql_data(client, CREATE_LINK_DEFAULT_TTL, {"id": draft["id"]}, editor)
        null = await _link(client, editor, draft["id"], ttl=None)

    expected = (now + timedelta(hours=1)).isoformat()
    assert left_out["createPreviewLink"]["expiresAt"] == null["expiresAt"] == expected


@pytest.mark.parametrize(
    ("id", "expected"),
    [
        (global_id("Article", 999_999), ("NotFoundError", None, "no content has that id")),
        (global_id("Tag", 1), ("NotFoundError", None, "no content has that id")),
        ("not-an-id", ("ValidationError", "id", "id is not a valid ID")),
        (global_id("Article", 2**31), ("ValidationError", "id", "id is not a valid ID")),
    ],
    ids=["missing", "a tag's id", "malformed", "past the largest id"],
)
async def test_an_unknown_or_malformed_id_is_an_error_member(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    id: str,
    expected: tuple[str, str | None, str],
) -> None:
    _, body = await _create(client, tokens_by_role["editor"], id)

    result = body["data"]["createPreviewLink"]
    assert (result["__typename"], result.get("field"), result["message"]) == expected


# --- caching and the signing key -------------------------------------------------------


async def test_a_preview_is_never_cached_and_shows_the_latest_edit(
    client: httpx.AsyncClient, app: Any, tokens_by_role: dict[str, str]
) -> None:
    author = tokens_by_role["author"]
    draft = await api_article(client, author, title="First title")
    token = (await _link(client, author, draft["id"]))["token"]
    cache = app.state.response_cache
    params = {"query": PREVIEW, "variables": json.dumps({"token": token})}

    first = await client.get("/graphql", params=params)
    again = await client.get("/graphql", params=params)
    hits = cache.hits
    await gql_data(client, UPDATE_TITLE, {"id": draft["id"], "title": "Second title"}, author)
    edited = await client.get("/graphql", params=params)

    assert [r.json()["data"]["preview"]["title"] for r in (first, again, edited)] == [
        "First title",
        "First title",
        "Second title",
    ]
    assert all("etag" not in r.headers for r in (first, again, edited))
    answers = (first, again, edited)
    assert all(r.headers.get("cache-control") == "private, no-store" for r in answers)
    assert cache.hits == hits == 0


async def test_the_signing_key_is_made_once_and_never_shown(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    one = await api_article(client, editor, title="One")
    two = await api_article(client, editor, title="Two")
    shown = (
        "query($t: String!) { preview(token: $t) { id kind title slug status version url "
        "... on Article { body } } }"
    )

    made = [await _post(client, CREATE_LINK_DEFAULT_TTL, {"id": one["id"]}, editor)]
    first_key = [(key.name, key.secret) for key in await SigningKey.all()]
    made.append(await _post(client, CREATE_LINK_DEFAULT_TTL, {"id": two["id"]}, editor))
    tokens = [answer.json()["data"]["createPreviewLink"]["token"] for answer in made]
    read = [await _post(client, shown, {"t": token}) for token in tokens]
    stored = await SigningKey.all()

    assert [(key.name, key.secret) for key in stored] == first_key
    assert [name for name, _ in first_key] == ["preview"]
    secret = stored[0].secret
    assert len(secret) >= 43  # 32 random bytes or more
    assert [_claims(token).partition(".")[0] for token in tokens] == [
        str(pk_of(one["id"])),
        str(pk_of(two["id"])),
    ]
    assert all(_signed(_claims(token), secret.encode()) == token for token in tokens)
    assert [answer.json()["data"]["preview"]["title"] for answer in read] == ["One", "Two"]
    assert not any(secret in answer.text for answer in made + read)


async def test_workers_racing_to_make_the_key_share_the_one_stored(db: None) -> None:
    keys = await asyncio.gather(*(previews.signing_key() for _ in range(5)))

    stored = await SigningKey.all()
    assert [key.name for key in stored] == ["preview"]
    assert set(keys) == {stored[0].secret.encode()}


async def test_a_key_another_worker_stored_signs_the_links(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    theirs = secrets.token_urlsafe(32)
    await SigningKey.create(name="preview", secret=theirs)
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor)

    token = (await _link(client, editor, draft["id"]))["token"]

    assert _signed(_claims(token), theirs.encode()) == token
    assert [key.secret for key in await SigningKey.all()] == [theirs]


async def test_no_token_opens_anything_before_a_link_was_made(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    draft = await api_article(client, tokens_by_role["editor"])
    guessed = _signed(f"{pk_of(draft['id'])}.9999999999", b"")

    assert await _preview(client, guessed) is None
    assert await SigningKey.all().count() == 0  # a read never makes the key
