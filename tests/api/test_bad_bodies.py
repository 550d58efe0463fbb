"""Bodies that are not a GraphQL request are the client's mistake: each is a 400 with a JSON
error (code BAD_REQUEST) naming what is wrong, never a 500 (issue 12, item 5)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.graphql_client import error_codes

DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
DEEP_LIST = "[" * 3000 + "]" * 3000
SECTIONS = '{"query": "{ sections { slug } }"'
UPLOAD = json.dumps(
    {
        "query": "mutation($f: Upload!) { uploadMedia(file: $f) { __typename } }",
        "variables": {"f": None},
    }
)


def _bad_request(response: httpx.Response, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert error_codes(body) == ["BAD_REQUEST"], body
    assert words in body["errors"][0]["message"], body


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (SECTIONS + ', "variables": ' + DEEP_OBJECT + "}", "nested too deeply"),
        (SECTIONS + ', "extensions": ' + DEEP_LIST + "}", "nested too deeply"),
        (DEEP_LIST, "nested too deeply"),
        (b'{"query": "\xff\xfe{ sections { slug } }"}', "not UTF-8"),
        (b"\xff\xfe\x00", "Unable to parse request body as JSON"),
        ("null", "must be a JSON object"),
        ("123", "must be a JSON object"),
        ('"s"', "must be a JSON object"),
        ("true", "must be a JSON object"),
        ('{"query": ', "Unable to parse request body as JSON"),
    ],
    ids=[
        "deep-variables", "deep-extensions", "deep-body", "not-utf8-in-string", "not-utf8",
        "null", "number", "string", "boolean", "truncated",
    ],
)  # fmt: skip
async def test_a_json_body_that_is_no_request_is_a_400(
    client: httpx.AsyncClient, content: str | bytes, words: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )

    _bad_request(response, words)


async def test_deeply_nested_get_variables_are_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ sections { slug } }", "variables": DEEP_OBJECT}
    )

    _bad_request(response, "nested too deeply")


@pytest.mark.parametrize(
    ("operations", "files_map", "words"),
    [
        (UPLOAD, '{"0": ["variables.f.x.y"]}', "multipart request spec"),
        (UPLOAD, '{"0": ["variables.f.0"]}', "multipart request spec"),
        (UPLOAD, "[1]", "multipart request spec"),
        (UPLOAD, "null", "multipart request spec"),
        (UPLOAD, '{"0": "variables.f"}', "File(s) missing"),  # Strawberry's own 400
        ("null", '{"0": ["variables.f"]}', "multipart request spec"),
        ("null", "{}", "multipart request spec"),
        ("[1]", '{"0": ["variables.f"]}', "multipart request spec"),
        ("7", "{}", "multipart request spec"),
        (UPLOAD, '{"0": ' + DEEP_LIST + "}", "nested too deeply"),
        (DEEP_OBJECT, "{}", "nested too deeply"),
    ],
    ids=[
        "path-through-null", "list-index-into-null", "map-list", "map-null", "map-value-string",
        "operations-null", "operations-null-no-files", "operations-list", "operations-number",
        "map-deep", "operations-deep",
    ],
)  # fmt: skip
async def test_a_malformed_multipart_request_is_a_400(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    operations: str,
    files_map: str,
    words: str,
) -> None:
    response = await client.post(
        "/graphql",
        data={"operations": operations, "map": files_map},
        files={"0": ("a.png", b"not really", "image/png")},
        headers={
            "authorization": f"Bearer {tokens_by_role['author']}",
            "apollo-require-preflight": "true",
        },
    )

    _bad_request(response, words)
