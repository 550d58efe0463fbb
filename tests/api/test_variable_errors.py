"""A variable's value that does not fit its type is the client's mistake: the error names
the variable and carries BAD_USER_INPUT, in production as in development; faults of the
server stay masked in production (issue 12, item 7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cms.config import Settings
from tests.api.graphql_client import app_client, error_codes

FEED = "query($n: Int) { feed(first: $n) { edges { cursor } } }"
REQUIRED = "query($n: Int!) { feed(first: $n) { edges { cursor } } }"
JSON_BODY = {"content-type": "application/json"}
KINDS = "query($k: [ContentKind!]) { feed(first: 1, kinds: $k) { edges { cursor } } }"

CASES = [
    (FEED, {"n": "x"}, "Variable '$n' has invalid value: Int cannot represent"),
    (FEED, {"n": 2**40}, "Variable '$n' has invalid value: Int cannot represent non 32-bit"),
    (REQUIRED, {"n": None}, "Variable '$n' has invalid value: Expected value of non-null"),
    (REQUIRED, {}, "Variable '$n' has invalid value: Expected a value of non-null type"),
    (KINDS, {"k": ["NOPE"]}, "Variable '$k' has invalid value at [0]: Value 'NOPE' does not"),
    # A lone surrogate is echoed back as "?": UTF-8 (and orjson) cannot carry it.
    (KINDS, {"k": ["\udf8f"]}, "Variable '$k' has invalid value at [0]: Value '?' does not"),
]


@pytest.mark.parametrize("env", ["development", "production"])
@pytest.mark.parametrize(("query", "variables", "words"), CASES)
async def test_a_bad_variable_is_named_in_every_environment(
    settings: Settings, db: None, env: str, query: str, variables: dict[str, Any], words: str
) -> None:
    async with app_client(settings.model_copy(update={"env": env})) as client:
        # json.dumps escapes what is not ASCII (httpx's json= would not encode a surrogate).
        content = json.dumps({"query": query, "variables": variables})
        response = await client.post("/graphql", content=content, headers=JSON_BODY)

    body = response.json()
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["message"].startswith(words), body
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_a_fault_of_the_server_stays_masked_in_production(
    settings: Settings, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cms.content import lookups

    async def broken() -> list[Any]:
        raise RuntimeError("the secret internals")

    monkeypatch.setattr(lookups, "sections", broken)  # a bug, not a client's mistake
    async with app_client(settings.model_copy(update={"env": "production"})) as client:
        response = await client.post("/graphql", json={"query": "{ sections { slug } }"})

    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]  # not the client's mistake
    assert "secret" not in response.text
