"""Generated operations never fail the server: hypothesis-graphql queries and mutations over
the whole schema (and documents that break it), with hostile argument values inline or as
variables, by POST and GET, as an anonymous reader and as each role, against the app with
production settings. Every answer is 2xx/3xx/4xx, nothing is logged as an unexpected error,
and no error is masked as "Unexpected error." (tests/fuzz/faults.py).

NEWSDESK_FUZZ_EXAMPLES sets the number of operations per backend, shared evenly by the five
readers (CI: 300; `make fuzz`: 10,000); NEWSDESK_FUZZ_REPORT=path writes every distinct
fault down instead of stopping at the first (see faults.py).
"""

from __future__ import annotations

import json
import urllib.parse

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.config import Settings
from schema import build_schema
from tests.fuzz import faults, operations
from tests.fuzz.conftest import EXAMPLES, ROLES
from tests.fuzz.values import Names

MAX_URL = 60_000  # httpx refuses longer URLs (and servers cut them far shorter): POST those
SCHEMA = build_schema(Settings(_env_file=None))._schema  # noqa: SLF001 - graphql-core's


def _query_string(params: dict[str, str]) -> str:
    """URL-encoded, lone surrogates included (as the bytes a careless client would send)."""
    return urllib.parse.urlencode(params, encoding="utf-8", errors="surrogatepass")


def _request(operation: operations.Operation, token: str | None) -> dict[str, object]:
    headers = {"accept": operation.accept}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if operation.method == "GET":
        params = {"query": operation.document}
        if operation.variables:
            params["variables"] = json.dumps(operation.variables, ensure_ascii=True)
        url = "/graphql?" + _query_string(params)
        if len(url) < MAX_URL:
            return {"method": "GET", "url": url, "headers": headers}
    headers["content-type"] = "application/json"
    # ensure_ascii: lone surrogates travel as \ud800 escapes; NaN as the bare word
    content = json.dumps(operation.payload(), ensure_ascii=True).encode()
    return {"method": "POST", "url": "/graphql", "headers": headers, "content": content}


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda role: role or "anonymous")
@settings(
    max_examples=max(1, EXAMPLES // (len(ROLES) + 1)),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(data=st.data())
async def test_generated_operations_never_fail_the_server(
    production: httpx.AsyncClient,
    newsroom: Names,
    role_tokens: dict[str | None, str | None],
    faults_seen: faults.Faults,
    role: str | None,
    data: st.DataObject,
) -> None:
    operation = data.draw(operations.operations(SCHEMA, newsroom, role), label="operation")
    await faults.send(
        production,
        faults_seen,
        operation.describe(),
        **_request(operation, role_tokens[operation.role]),
    )
