"""CMS_INTROSPECTION: introspection and "Did you mean …?" suggestions are on in development
and off in production unless turned on (issue 12, item 9)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect

from cms.config import Settings
from tests.api.graphql_client import app_client, error_codes
from tests.realtime import WAIT, serve

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ feed(first: 1) { edges { node { titel } } } }"
BAD_ENUM = "{ contents(first: 1, status: [PUBLISHD]) { edges { cursor } } }"


async def _post(client: httpx.AsyncClient, query: str) -> dict:
    response = await client.post("/graphql", json={"query": query})
    body: dict = response.json()
    return body


@pytest.mark.parametrize(
    ("env", "introspection", "open_schema"),
    [
        ("development", None, True),
        ("production", None, False),
        ("production", True, True),
        ("development", False, False),
    ],
)
async def test_introspection_and_suggestions_follow_the_setting(
    settings: Settings, db: None, env: str, introspection: bool | None, open_schema: bool
) -> None:
    chosen = settings.model_copy(update={"env": env, "introspection": introspection})
    async with app_client(chosen) as client:
        schema = await _post(client, INTROSPECTION)
        typo = await _post(client, TYPO)

    if open_schema:
        assert schema == {
            "data": {"__schema": {"queryType": {"name": "Query"}}},
            "extensions": {"cost": 0},
        }
        assert "Did you mean 'title'?" in typo["errors"][0]["message"]
    else:
        assert "data" not in schema or schema["data"] is None
        assert set(error_codes(schema)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in schema["errors"][0]["message"].lower()
        message = typo["errors"][0]["message"]
        assert message == "Cannot query field 'titel' on type 'Content'."
        assert "Did you mean" not in message


async def test_no_suggestion_survives_anywhere_in_production(settings: Settings, db: None) -> None:
    chosen = settings.model_copy(update={"env": "production"})
    async with app_client(chosen) as client:
        for query in (TYPO, BAD_ENUM, "{ feed(frist: 1) { edges { cursor } } }"):
            body = await _post(client, query)
            assert body["errors"], body
            assert all("Did you mean" not in error["message"] for error in body["errors"])


async def test_no_suggestion_survives_over_websocket_in_production(
    settings: Settings, db: None
) -> None:
    """graphql-transport-ws answers a document that fails validation with an `error`
    message: the same message and code as over HTTP, without the suggestion."""
    chosen = settings.model_copy(update={"env": "production"})
    async with serve(chosen) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert ack["type"] == "connection_ack", ack
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": TYPO}}))
            answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert answer["type"] == "error", answer
    [error] = answer["payload"]
    assert error["message"] == "Cannot query field 'titel' on type 'Content'."
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
