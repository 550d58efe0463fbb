"""The query cost limit over HTTP (CMS_MAX_NODES): a query that could return more objects
than the limit is refused with 400 before any SQL, on POST and GET, in either response
media type, with the estimate and the limit in the message and in `extensions`; an
accepted one carries its estimate in `extensions.cost`, the same bytes whether a compiled
plan or graphql-core answers it; over WebSocket (a real uvicorn) a subscription past the
limit gets graphql-transport-ws's `error` message."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from cms.config import Settings
from tests import factories
from tests.api.conftest import ERROR_FIELDS
from tests.api.graphql_client import app_client, gql
from tests.realtime import WAIT, serve
from tests.statements import counting

NESTED = """{ feed(first: 100) { edges { node { title authors { content(first: 100) {
  edges { node { authors { content(first: 100) { edges { node { title } } } } } } } } } } } }"""
NESTED_COST = 101_101_100
NESTED_REFUSAL = (
    "This query could return up to 101,101,100 objects; the limit is 10,000 (CMS_MAX_NODES)."
)

# An item with a section, a hero image, 10 bylines with avatars and 20 tags: 43 objects.
FIVE = """query Five { feed(first: 5) { edges { cursor node { id title section { name }
  heroImage { url } authors { name avatar { url } } tags { name } } }
  pageInfo { hasNextPage } } }"""
FIVE_COST = 5 * 43

TWO_PAGES = (
    "query Q($n: Int = 4, $with: Boolean!) { a: feed(first: $n) { ...Page } "
    "b: feed(first: 1) { edges { node { id "
    "... on Article @include(if: $with) { tags { name } } } } } } "
    "fragment Page on ContentConnection { edges { node { authors { name } } } }"
)

ESTIMATED: list[tuple[str, dict[str, Any], int]] = [
    ("{ feed { edges { node { title } } } }", {}, 20),
    (FIVE, {}, FIVE_COST),
    (TWO_PAGES, {"with": True}, 4 * (1 + 10) + 1 * (1 + 20)),
    (TWO_PAGES, {"n": 9, "with": False}, 9 * (1 + 10) + 1),
    ('{ author(slug: "desk") { name content(first: 3) { edges { node { title } } } } }', {}, 4),
    ("{ sections { name } }", {}, 100),
]


def _refused(response: httpx.Response, message: str, cost: int, limit: int) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body, body
    assert body["errors"] == [
        {
            "message": message,
            "extensions": {"code": "MAX_NODES_EXCEEDED", "cost": cost, "limit": limit},
        }
    ]


@pytest.fixture
async def newsroom(db: None) -> None:
    desk = await factories.make_author(slug="desk", name="Desk", avatar=True)
    for number in range(3):
        await factories.make_article(
            title=f"Story {number}", authors=[desk], tags=["city"], hero_image=True,
            published_at=datetime.now(UTC) - timedelta(hours=number + 1),
        )  # fmt: skip


async def test_the_issues_query_is_refused_with_400_before_any_sql(
    client: httpx.AsyncClient, newsroom: None
) -> None:
    for accept in ("application/json", "application/graphql-response+json"):
        with counting() as statements:
            response = await client.post(
                "/graphql", json={"query": NESTED}, headers={"accept": accept}
            )
            by_get = await client.get(
                "/graphql", params={"query": NESTED}, headers={"accept": accept}
            )
        _refused(response, NESTED_REFUSAL, NESTED_COST, 10_000)
        _refused(by_get, NESTED_REFUSAL, NESTED_COST, 10_000)
        assert statements == []
    # The worker is fine and answers the next query, with its estimate.
    status, body = await gql(client, "{ feed { edges { node { title } } } }")
    assert "errors" not in body and status == 200, body
    assert len(body["data"]["feed"]["edges"]) == 3
    assert body["extensions"] == {"cost": 20}


@pytest.mark.parametrize(("query", "variables", "expected"), ESTIMATED)
async def test_accepted_queries_carry_their_estimate(
    client: httpx.AsyncClient, newsroom: None, query: str, variables: dict[str, Any], expected: int
) -> None:
    for _ in range(2):  # compiled in Strawberry's pass, then answered by the view's plan
        status, body = await gql(client, query, variables)
        assert "errors" not in body, body
        assert status == 200
        assert body["extensions"] == {"cost": expected}
        assert list(body) == ["data", "extensions"]


async def test_exactly_the_limit_is_accepted_and_one_more_is_refused(
    settings: Settings, newsroom: None
) -> None:
    async with app_client(settings.model_copy(update={"max_nodes": FIVE_COST})) as at_limit:
        status, body = await gql(at_limit, FIVE)
        assert "errors" not in body, body
        assert status == 200 and body["extensions"] == {"cost": FIVE_COST}
    async with app_client(settings.model_copy(update={"max_nodes": FIVE_COST - 1})) as below:
        response = await below.post("/graphql", json={"query": FIVE})
        message = "This query could return up to 215 objects; the limit is 214 (CMS_MAX_NODES)."
        _refused(response, message, FIVE_COST, FIVE_COST - 1)
        # A page variable decides it per request: the estimate is compiled once.
        paged = FIVE.replace("query Five", "query Five($n: Int)").replace("first: 5", "first: $n")
        for first, status in ((4, 200), (5, 400), (4, 200)):
            response = await below.post(
                "/graphql", json={"query": paged, "variables": {"n": first}}
            )
            assert response.status_code == status, response.text


async def test_a_mutation_is_estimated_too(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    mutation = (
        'mutation { createArticle(input: {title: "Budget vote"}) { __typename '
        "... on Article { title authors { name } } ...ErrorFields } }" + ERROR_FIELDS
    )
    status, body = await gql(client, mutation, token=tokens_by_role["editor"])
    assert "errors" not in body, body
    assert body["data"]["createArticle"]["title"] == "Budget vote"
    assert body["extensions"] == {"cost": 1 + 10}


async def test_production_names_the_estimate_too(settings: Settings, newsroom: None) -> None:
    """The refusal is the client's to fix: never masked as "Unexpected error."."""
    production = settings.model_copy(update={"env": "production"})
    async with app_client(production) as http:
        response = await http.post("/graphql", json={"query": NESTED})
    _refused(response, NESTED_REFUSAL, NESTED_COST, 10_000)


async def test_plans_and_graphql_core_answer_the_same_bytes(
    settings: Settings, newsroom: None
) -> None:
    quiet = {"response_cache": False}
    documents = [
        *((query, variables) for query, variables, _ in ESTIMATED),
        (NESTED, {}),
        ("{ feed(first: 2) { edges { node { title } } } me { name } }", {}),
    ]
    compiled = settings.model_copy(update={**quiet, "compiled_reads": True})
    reference = settings.model_copy(update={**quiet, "compiled_reads": False})
    async with app_client(compiled) as with_plans, app_client(reference) as without:
        for query, variables in documents:
            payload = {"query": query, "variables": variables}
            answers = [await with_plans.post("/graphql", json=payload) for _ in range(2)]
            expected = await without.post("/graphql", json=payload)
            for answer in answers:
                assert answer.status_code == expected.status_code, query
                assert answer.content == expected.content, (answer.content, expected.content)
            assert b'"cost":' in expected.content


async def test_a_subscription_past_the_limit_gets_an_error_message_over_a_real_server(
    settings: Settings, newsroom: None
) -> None:
    subscription = (
        "subscription { feedEvents { type content { authors { content(first: 100) { edges { "
        "node { authors { content(first: 100) { edges { node { id } } } } } } } } } } }"
    )
    cost = 1 + 1 + 10 + 10 * 100 + 10 * 100 * 10 + 10 * 100 * 10 * 100
    message = (
        f"This subscription could return up to {cost:,} objects; "
        "the limit is 10,000 (CMS_MAX_NODES)."
    )
    async with serve(settings) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert ack["type"] == "connection_ack", ack
            await ws.send(json.dumps({
                "id": "1", "type": "subscribe", "payload": {"query": subscription},
            }))  # fmt: skip
            answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert answer["type"] == "error", answer
            assert answer["id"] == "1"
            assert answer["payload"][0]["message"] == message
            assert answer["payload"][0]["extensions"] == {
                "code": "MAX_NODES_EXCEEDED", "cost": cost, "limit": 10_000,
            }  # fmt: skip
            # The socket stays open: a subscription within the limit is taken.
            await ws.send(json.dumps({
                "id": "2", "type": "subscribe",
                "payload": {"query": "subscription { feedEvents { type contentId } }"},
            }))  # fmt: skip
            await ws.send(json.dumps({"type": "ping"}))
            pong = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert pong["type"] == "pong", pong
        # And over real HTTP: the same refusal, the same 400.
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            response = await http.post("/graphql", json={"query": NESTED})
            _refused(response, NESTED_REFUSAL, NESTED_COST, 10_000)
            status_ok = await http.get("/healthz")
            assert status_ok.status_code == 200
