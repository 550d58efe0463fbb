"""Automatic persisted queries (Apollo's protocol) and the allow-list mode."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cms.config import Settings
from cms.http.app import create_app
from tests.api.graphql_client import app_client

FEED = "{ feed(first: 1) { edges { cursor } } }"
FEED_HASH = hashlib.sha256(FEED.encode()).hexdigest()


def _extensions(query_hash: str = FEED_HASH) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash}}


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_unknown_hash_then_register_then_short_get(client: httpx.AsyncClient) -> None:
    short = {"extensions": json.dumps(_extensions())}

    unknown = await client.get("/graphql", params=short)
    registered = await client.post("/graphql", json={"query": FEED, "extensions": _extensions()})
    by_hash = await client.get("/graphql", params=short)

    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert _code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    empty_feed = {"data": {"feed": {"edges": []}}, "extensions": {"cost": 1}}
    assert registered.json() == empty_feed
    assert by_hash.json() == empty_feed
    assert "etag" in by_hash.headers  # a short GET a CDN can cache


async def test_a_hash_that_does_not_match_the_query_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": FEED, "extensions": _extensions("0" * 64)}
    )

    assert response.status_code == 400
    assert _code(response) == "PERSISTED_QUERY_INVALID"


async def test_a_malformed_persisted_query_extension_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}
    )

    assert _code(response) == "PERSISTED_QUERY_INVALID"


@pytest.fixture
async def locked_down(
    settings: Settings, db: None, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    manifest = tmp_path / "persisted.json"
    manifest.write_text(json.dumps({FEED_HASH: FEED}))
    update = {"persisted_only": True, "persisted_queries_file": str(manifest)}
    async with app_client(settings.model_copy(update=update)) as http:
        yield http


async def test_allow_list_mode_runs_only_known_documents_for_anonymous_readers(
    locked_down: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    other = "{ sections { slug } }"
    other_hash = hashlib.sha256(other.encode()).hexdigest()

    known = await locked_down.get("/graphql", params={"extensions": json.dumps(_extensions())})
    free_text = await locked_down.post("/graphql", json={"query": other})
    registration = await locked_down.post(
        "/graphql", json={"query": other, "extensions": _extensions(other_hash)}
    )
    editor = await locked_down.post(
        "/graphql",
        json={"query": other},
        headers={"Authorization": f"Bearer {tokens_by_role['editor']}"},
    )

    assert known.json() == {"data": {"feed": {"edges": []}}, "extensions": {"cost": 1}}
    assert _code(free_text) == "PERSISTED_QUERY_REQUIRED"
    assert _code(registration) == "PERSISTED_QUERY_NOT_FOUND"
    assert editor.json() == {"data": {"sections": []}, "extensions": {"cost": 100}}


def test_a_manifest_entry_must_match_its_hash(settings: Settings, tmp_path: Path) -> None:
    manifest = tmp_path / "persisted.json"
    manifest.write_text(json.dumps({"0" * 64: FEED}))

    with pytest.raises(ValueError, match="does not match its hash"):
        create_app(settings.model_copy(update={"persisted_queries_file": str(manifest)}))
