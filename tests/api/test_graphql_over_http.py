"""GraphQL over HTTP to the letter: choosing the operation (GetOperation() of the GraphQL
spec), mutations over GET, malformed bodies, and the two response media types with their
status codes (the GraphQL-over-HTTP spec). Nothing that is refused may run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cms.http.negotiation import response_media_type
from cms.models import Section

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

TYPENAME = "{ __typename }"
QUERY_THEN_MUTATION = """
query Sections { sections { slug } }
mutation AddSport { createSection(input: {name: "Sport"}) { __typename } }
"""
MUTATION_THEN_QUERY = """
mutation AddSport { createSection(input: {name: "Sport"}) { __typename } }
query Sections { sections { slug } }
"""
ADD_SPORT = 'mutation AddSport { createSection(input: {name: "Sport"}) { __typename } }'
ANONYMOUS_OPERATIONS = "{ __typename } { sections { slug } }"
ONLY_A_FRAGMENT = "fragment Names on Section { name }"
NOT_A_DOCUMENT = "{ sections { slug }"
UNKNOWN_FIELD = "{ noSuchField }"
UNUSED_VARIABLE = "query Unused($id: ID!) { __typename }"
BAD_CURSOR = '{ feed(first: 2, after: "garbage") { edges { cursor } } }'
FEED_EVENTS = "subscription { feedEvents { type } }"

MULTIPLE = "Must provide operation name if query contains multiple operations."


async def _post(
    client: httpx.AsyncClient,
    payload: object,
    *,
    accept: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json=payload, headers=headers)


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert body.get("errors"), body
    errors: list[dict[str, Any]] = body["errors"]
    return errors


def _request_error(response: httpx.Response) -> dict[str, Any]:
    """The one error of a response in which nothing ran: no `data` entry at all."""
    errors = _errors(response)
    assert "data" not in response.json(), response.json()
    assert len(errors) == 1, errors
    return errors[0]


# --- choosing the operation ---------------------------------------------------------------


@pytest.mark.parametrize("document", [QUERY_THEN_MUTATION, MUTATION_THEN_QUERY])
@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_several_operations_without_a_name_run_none(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    document: str,
    accept: str,
    status: int,
) -> None:
    response = await _post(
        client, {"query": document}, accept=accept, token=tokens_by_role["editor"]
    )

    error = _request_error(response)
    assert error["message"] == MULTIPLE
    assert error["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE"
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept)
    assert await Section.all().count() == 0, "the mutation must not run"


async def test_several_anonymous_operations_are_a_request_error(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": ANONYMOUS_OPERATIONS}, accept=GRAPHQL_RESPONSE)

    assert _request_error(response)["message"] == MULTIPLE
    assert response.status_code == 400


async def test_the_operation_name_picks_the_operation(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    read = await _post(
        client, {"query": MUTATION_THEN_QUERY, "operationName": "Sections"}, token=editor
    )
    count_after_read = await Section.all().count()
    write = await _post(
        client, {"query": QUERY_THEN_MUTATION, "operationName": "AddSport"}, token=editor
    )

    assert "errors" not in read.json(), read.json()
    assert read.json()["data"] == {"sections": []}
    assert count_after_read == 0
    assert "errors" not in write.json(), write.json()
    assert write.json()["data"] == {"createSection": {"__typename": "Section"}}
    assert await Section.all().count() == 1


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_an_operation_name_that_names_no_operation_runs_nothing(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], accept: str, status: int
) -> None:
    payload = {"query": MUTATION_THEN_QUERY, "operationName": "AddPolitics"}

    response = await _post(client, payload, accept=accept, token=tokens_by_role["editor"])

    error = _request_error(response)
    assert error["message"] == 'Unknown operation named "AddPolitics".'
    assert error["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE"
    assert response.status_code == status
    assert await Section.all().count() == 0


async def test_an_empty_operation_name_is_no_name(client: httpx.AsyncClient) -> None:
    single = await _post(client, {"query": TYPENAME, "operationName": ""})
    several = await _post(client, {"query": QUERY_THEN_MUTATION, "operationName": ""})

    assert "errors" not in single.json(), single.json()
    assert single.json()["data"] == {"__typename": "Query"}
    assert _request_error(several)["message"] == MULTIPLE


async def test_a_document_without_an_operation_is_a_request_error(
    client: httpx.AsyncClient,
) -> None:
    response = await _post(client, {"query": ONLY_A_FRAGMENT}, accept=GRAPHQL_RESPONSE)

    assert _request_error(response)["message"] == "Must provide an operation."
    assert response.status_code == 400


@pytest.mark.parametrize("operation_name", [0, False, {"name": "Sections"}, ["Sections"]])
async def test_an_operation_name_that_is_not_a_string_is_refused(
    client: httpx.AsyncClient, operation_name: object
) -> None:
    response = await _post(client, {"query": TYPENAME, "operationName": operation_name})

    assert response.status_code == 400
    assert _request_error(response)["extensions"]["code"] == "BAD_REQUEST"
    assert "operationName" in _errors(response)[0]["message"]


async def test_a_subscription_over_http_is_refused_without_running(
    client: httpx.AsyncClient,
) -> None:
    response = await _post(client, {"query": FEED_EVENTS}, accept=GRAPHQL_RESPONSE)

    assert "WebSocket" in _request_error(response)["message"]
    assert response.status_code == 400


# --- mutations over GET -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"query": ADD_SPORT},
        {"query": QUERY_THEN_MUTATION, "operationName": "AddSport"},
        {"query": MUTATION_THEN_QUERY, "operationName": "AddSport"},
    ],
)
@pytest.mark.parametrize("who", ["editor", "anonymous"])
async def test_a_mutation_over_get_is_405_and_never_runs(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    params: dict[str, str],
    who: str,
) -> None:
    # The editor may create sections over POST; anonymous GETs go through the cache.
    headers = {"Authorization": f"Bearer {tokens_by_role['editor']}"} if who == "editor" else {}

    responses = [await client.get("/graphql", params=params, headers=headers) for _ in range(2)]

    for response in responses:
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "POST"
        assert response.headers["content-type"].startswith(JSON)
        assert _request_error(response)["extensions"]["code"] == "METHOD_NOT_ALLOWED"
        assert "etag" not in response.headers
    assert await Section.all().count() == 0


async def test_the_query_of_a_document_with_a_mutation_runs_over_get(
    client: httpx.AsyncClient,
) -> None:
    params = {"query": MUTATION_THEN_QUERY, "operationName": "Sections"}

    response = await client.get("/graphql", params=params)

    assert "errors" not in response.json(), response.json()
    assert response.status_code == 200
    assert response.json()["data"] == {"sections": []}


# --- malformed requests: 4xx with a JSON errors body --------------------------------------


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize("body", [b'{ "not a JSON', b"", b"NONSENSE", b'{"query":'])
async def test_malformed_json_is_a_400_with_a_json_error(
    client: httpx.AsyncClient, body: bytes, accept: str
) -> None:
    headers = {"Content-Type": JSON, "Accept": accept}

    response = await client.post("/graphql", content=body, headers=headers)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(accept)
    error = _request_error(response)
    assert error["message"] == "Unable to parse request body as JSON"
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "body", [b"null", b"123", b'"s"', b"[]", b"true", b'[{"query": "{ __typename }"}]']
)
async def test_a_json_body_that_is_not_an_object_is_a_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/graphql", content=body, headers={"Content-Type": JSON})

    assert response.status_code == 400
    error = _request_error(response)
    assert "must be a JSON object" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "payload",
    [
        {"notquery": TYPENAME},
        {"query": {"obj": "ect"}},
        {"query": 0},
        {"query": TYPENAME, "variables": "string"},
        {"query": TYPENAME, "variables": ["array"]},
        {"query": TYPENAME, "extensions": False},
    ],
)
async def test_parameters_of_the_wrong_shape_are_a_400(
    client: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    response = await _post(client, payload)

    assert response.status_code == 400
    assert _request_error(response)["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("content_type", ["text/plain;charset=UTF-8", "application/graphql", None])
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type is not None else {}

    response = await client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
    )

    assert response.status_code == 415
    assert _request_error(response)["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_json_with_a_charset_is_json(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}

    response = await client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
    )

    assert "errors" not in response.json(), response.json()
    assert response.json()["data"] == {"__typename": "Query"}


# --- media types and status codes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"*/*, {JSON};q=0", GRAPHQL_RESPONSE),
        ("text/html, */*;q=0.8", JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE),
        ("text/plain", None),
        (f"{JSON};q=0", None),
        ("multipart/mixed", None),
    ],
)
def test_the_response_media_type_is_the_one_accept_prefers(
    accept: str | None, chosen: str | None
) -> None:
    assert response_media_type(accept) == chosen


@pytest.mark.parametrize(
    ("accept", "content_type"), [(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), ("*/*", JSON), (None, JSON)]
)
async def test_a_successful_request_is_200_in_the_accepted_media_type(
    client: httpx.AsyncClient, accept: str | None, content_type: str
) -> None:
    response = await _post(client, {"query": TYPENAME}, accept=accept)

    assert "errors" not in response.json(), response.json()
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.json() == {"data": {"__typename": "Query"}, "extensions": {"cost": 0}}


async def test_the_new_media_type_names_its_encoding(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": TYPENAME}, accept=GRAPHQL_RESPONSE)

    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"


@pytest.mark.parametrize("document", [NOT_A_DOCUMENT, UNKNOWN_FIELD, UNUSED_VARIABLE])
@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_a_request_error_is_400_only_with_the_new_media_type(
    client: httpx.AsyncClient, document: str, accept: str, status: int
) -> None:
    response = await _post(client, {"query": document}, accept=accept)

    _request_error(response)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept)


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_a_variable_that_cannot_be_coerced_is_a_request_error(
    client: httpx.AsyncClient, accept: str
) -> None:
    payload = {"query": "query Feed($n: Int) { feed(first: $n) { edges { cursor } } }"}
    payload["variables"] = {"n": "many"}  # type: ignore[assignment]

    response = await _post(client, payload, accept=accept)

    assert "$n" in _request_error(response)["message"]
    assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)


async def test_a_field_error_is_200_with_the_new_media_type(client: httpx.AsyncClient) -> None:
    """The operation ran: a field error is a partial response, not a request error."""
    response = await _post(client, {"query": BAD_CURSOR}, accept=GRAPHQL_RESPONSE)

    errors = _errors(response)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["path"] == ["feed"]
    assert "data" in response.json()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_a_wrong_token_is_401_in_the_accepted_media_type(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": TYPENAME}, accept=GRAPHQL_RESPONSE, token="ndk_wrong")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert _request_error(response)["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_an_accept_header_without_a_json_type_is_406(
    client: httpx.AsyncClient, method: str
) -> None:
    params = {"query": TYPENAME} if method == "GET" else None
    body = {"query": TYPENAME} if method == "POST" else None
    # The same GET is cached first, so the cache must leave the refusal to the view.
    await client.get("/graphql", params={"query": TYPENAME})
    await client.get("/graphql", params={"query": TYPENAME})

    response = await client.request(
        method, "/graphql", params=params, json=body, headers={"Accept": "text/plain"}
    )

    assert response.status_code == 406
    assert _request_error(response)["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_browser_still_gets_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


# --- the response cache -------------------------------------------------------------------


async def test_a_cached_get_answers_in_the_accepted_media_type(client: httpx.AsyncClient) -> None:
    params = {"query": TYPENAME}

    first = await client.get("/graphql", params=params, headers={"Accept": JSON})
    cached = await client.get("/graphql", params=params, headers={"Accept": GRAPHQL_RESPONSE})
    again = await client.get("/graphql", params=params, headers={"Accept": JSON})

    assert cached.headers["etag"] == first.headers["etag"], "served from the cache"
    assert first.headers["content-type"] == JSON
    assert cached.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert again.headers["content-type"] == JSON
    assert (
        cached.json()
        == again.json()
        == {
            "data": {"__typename": "Query"},
            "extensions": {"cost": 0},
        }
    )
    assert "Accept" in cached.headers["vary"]


@pytest.mark.parametrize(
    "params",
    [
        {"query": ANONYMOUS_OPERATIONS},
        {"query": QUERY_THEN_MUTATION},
        {"query": QUERY_THEN_MUTATION, "operationName": "Nope"},
        {"query": NOT_A_DOCUMENT},
        {"query": UNKNOWN_FIELD},
    ],
)
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_request_errors_over_get_are_never_cached(
    client: httpx.AsyncClient, params: dict[str, str], accept: str
) -> None:
    responses = [
        await client.get("/graphql", params=params, headers={"Accept": accept}) for _ in range(2)
    ]

    for response in responses:
        _request_error(response)
        assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
        assert "etag" not in response.headers
        assert "cache-control" not in response.headers


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_answer_405_as_json_naming_get_and_post(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/graphql", content=b'{"query": "{ __typename }"}')

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
