"""The time budget of a GraphQL read (CMS_QUERY_TIMEOUT_MS): a statement that runs past it
is stopped and the query answers a clear GraphQL error (QUERY_TIMEOUT), never a 500; the
worker goes on serving, on SQLite and PostgreSQL, with compiled plans and without. Writes
never run under the budget.

No newsroom here is big enough to make a real read slow, so for these tests only the feed's
service first sends a statement that counts to a hundred million (a recursive CTE: many
seconds on either database): the budget must stop it wherever it runs (Tortoise's
connection or, on SQLite, the event loop's own reader).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise import Tortoise
from websockets.asyncio.client import connect

from cms import budget, sqlite
from cms.config import Settings
from cms.content import feed
from tests import factories
from tests.api.conftest import ERROR_FIELDS
from tests.api.graphql_client import app_client, gql
from tests.realtime import WAIT, serve

SLOW = (
    "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter "
    "WHERE n < 100000000) SELECT count(*) AS total FROM counter"
)
# Long enough that the plain feed after the stopped statement fits in it on a machine busy
# with the rest of the suite (300 ms did not, once, in CI); the slow statement runs for
# many seconds, so it is stopped all the same.
BUDGET_MS = 1_500
FEED = "{ feed(first: 3) { edges { node { title } } } }"
TIMEOUT = (
    "The query took longer than its time budget of 1,500 ms (CMS_QUERY_TIMEOUT_MS) "
    "and was stopped; ask for less (a smaller page, fewer nested connections)."
)


@dataclass
class SlowFeed:
    slow: bool = True
    started: int = 0  # slow statements about to be sent


@pytest.fixture(params=["tortoise", "loop reader"])
def slow_feed(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, backend: str
) -> SlowFeed:
    if request.param == "loop reader" and backend != "sqlite":
        pytest.skip("the event loop's reader is SQLite's")
    state = SlowFeed()
    real = feed.feed

    async def slow_then_real(**arguments: Any) -> Any:
        if state.slow:
            connection = Tortoise.get_connection("default")
            state.started += 1
            if request.param == "tortoise":
                await connection.execute_query_dict(SLOW)
            else:
                assert sqlite.quick_rows(connection, SLOW, []) is not None
        return await real(**arguments)

    monkeypatch.setattr(feed, "feed", slow_then_real)
    return state


@pytest.mark.parametrize("compiled_reads", [True, False], ids=["plans", "graphql-core"])
async def test_a_statement_past_the_budget_is_stopped_with_a_clear_error(
    settings: Settings, db: None, slow_feed: SlowFeed, compiled_reads: bool
) -> None:
    published = datetime.now(UTC) - timedelta(hours=1)
    await factories.make_article(title="Council meets", published_at=published)
    chosen = {
        "query_timeout_ms": BUDGET_MS,
        "compiled_reads": compiled_reads,
        "response_cache": False,
    }
    async with app_client(settings.model_copy(update=chosen)) as client:
        for _ in range(2):  # the second time, a plan (when on) answers in the view first
            status, body = await gql(client, FEED)
            assert status == 200, body
            assert body["data"] is None, body  # `feed` is non-null: its error nulls `data`
            [error] = body["errors"]
            assert error["extensions"] == {"code": "QUERY_TIMEOUT"}, error
            assert error["message"] == TIMEOUT
            assert error["path"] == ["feed"]
        # Each request sent the statement (a plan that gave up hands over to graphql-core,
        # which meets the spent budget before its statement goes out).
        assert slow_feed.started >= 2

        # The worker goes on serving, on the same connections.
        slow_feed.slow = False
        assert (await client.get("/healthz")).status_code == 200
        status, body = await gql(client, FEED)
        assert "errors" not in body, body
        assert status == 200
        assert body["data"]["feed"]["edges"] == [{"node": {"title": "Council meets"}}]


async def test_a_query_over_websocket_is_stopped_by_the_budget_too(
    settings: Settings, db: None, slow_feed: SlowFeed
) -> None:
    """graphql-transport-ws also carries queries; with no HTTP request to set the budget,
    the schema sets it around the execution, and the socket goes on serving."""
    await factories.make_article(
        title="Council meets", published_at=datetime.now(UTC) - timedelta(hours=1)
    )
    chosen = {"query_timeout_ms": BUDGET_MS, "response_cache": False}
    async with serve(settings.model_copy(update=chosen)) as address:
        async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT * 3))
            assert ack["type"] == "connection_ack", ack
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": FEED}}))
            answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT * 10))
            assert answer["type"] == "next", answer
            [error] = answer["payload"]["errors"]
            assert error["extensions"] == {"code": "QUERY_TIMEOUT"}, error
            assert error["message"] == TIMEOUT
            assert slow_feed.started >= 1  # (a compiled plan that gave up: twice)

            slow_feed.slow = False
            await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": FEED}}))
            answers = [json.loads(await asyncio.wait_for(ws.recv(), WAIT * 3)) for _ in range(3)]
            [done] = [
                answer for answer in answers if answer["id"] == "2" and answer["type"] == "next"
            ]
            assert done["payload"]["data"]["feed"]["edges"] == [
                {"node": {"title": "Council meets"}}
            ]


async def test_writes_never_run_under_the_budget(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    """A 1 ms budget would stop almost any read; a mutation (its transaction, its reads
    and its writes) has none."""
    mutation = (
        'mutation { createArticle(input: {title: "Budget vote", tagSlugs: ["city"]}) { '
        "__typename ... on Article { title tags { slug } } ...ErrorFields } }" + ERROR_FIELDS
    )
    async with app_client(settings.model_copy(update={"query_timeout_ms": 1})) as client:
        status, body = await gql(client, mutation, token=tokens_by_role["editor"])
    assert "errors" not in body, body
    assert status == 200
    assert body["data"]["createArticle"] == {
        "__typename": "Article", "title": "Budget vote", "tags": [{"slug": "city"}],
    }  # fmt: skip


def test_a_budget_inside_a_budget_keeps_the_earlier_deadline() -> None:
    assert budget.deadline() is None and not budget.expired()
    with budget.within(0):  # 0: no budget
        assert budget.deadline() is None
    with budget.within(1_000):
        outer = budget.deadline()
        assert outer is not None
        with budget.within(60_000):
            assert budget.deadline() == outer
        with budget.within(10):
            inner = budget.deadline()
            assert inner is not None and inner < outer
        assert budget.deadline() == outer
    assert budget.deadline() is None
