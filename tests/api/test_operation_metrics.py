"""/metrics per operation (issue 16 part 4): latency by operation name and outcome, SQL
statements per request, the outbox's depth and lag, webhook attempts by result, open
subscriptions, the response cache; on both databases, through the real app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tortoise import Tortoise

from cms.config import Settings
from cms.content import feed
from cms.models import OutboxEvent
from tests import realtime
from tests.api.conftest import api_article, api_publish, gql
from tests.api.graphql_client import app_client
from tests.api.test_query_budget import SLOW
from tests.api.test_webhooks import (  # noqa: F401  (the receiver fixture)
    Receiver,
    _create,
    _deliver_until_settled,
    _fast,
    _publish_and_enqueue,
    receiver,
)
from tests.statements import counting

SECTIONS = "query Sections { sections { slug } }"
ANONYMOUS_SECTIONS = "{ sections { slug } }"
CREATE_SECTION = 'mutation NewSection { createSection(input: {name: "War"}) { __typename } }'
NO_SUCH_FIELD = "query Broken { nothingHere }"
OPERATION = "newsdesk_graphql_operation_duration_seconds"


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[Any]], float]:
    """Every sample of a scrape, by (name, labels)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _operations(
    samples: dict[tuple[str, frozenset[Any]], float], operation: str, type: str, outcome: str
) -> float:
    return _value(samples, f"{OPERATION}_count", operation=operation, type=type, outcome=outcome)


async def test_operations_are_timed_by_name_type_and_outcome(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    for _ in range(3):
        assert (await gql(client, SECTIONS))[0] == 200
    assert (await gql(client, ANONYMOUS_SECTIONS))[0] == 200
    status, body = await gql(client, CREATE_SECTION)  # no token: UNAUTHENTICATED
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, body = await gql(client, NO_SUCH_FIELD)  # invalid: nothing ran
    assert "errors" in body
    status, body = await gql(client, CREATE_SECTION, token=tokens_by_role["editor"])
    assert "errors" not in body, body
    assert (await gql(client, SECTIONS, token="ndk_not-a-real-token"))[0] == 401

    samples = await _samples(client)

    assert _operations(samples, "Sections", "query", "ok") == 3
    assert _operations(samples, "anonymous", "query", "ok") == 1
    assert _operations(samples, "NewSection", "mutation", "rejected") == 1
    assert _operations(samples, "NewSection", "mutation", "ok") == 1
    assert _operations(samples, "Broken", "query", "rejected") == 1
    assert _operations(samples, "Sections", "query", "rejected") == 1  # the wrong token
    assert _value(samples, f"{OPERATION}_bucket", operation="Sections", type="query",
                  outcome="ok", le="+Inf") == 3  # fmt: skip


async def test_operation_names_are_bounded_labels(client: httpx.AsyncClient) -> None:
    """A long name and names past the first 200 a worker sees are "other"."""
    long_name = "Q" * 65
    assert (await gql(client, f"query {long_name} {{ __typename }}"))[0] == 200
    for number in range(205):
        assert (await gql(client, f"query Name{number} {{ __typename }}"))[0] == 200

    samples = await _samples(client)

    assert _operations(samples, "Name0", "query", "ok") == 1
    assert _operations(samples, "Name199", "query", "ok") == 1
    assert _operations(samples, "Name200", "query", "ok") == 0
    assert _operations(samples, "other", "query", "ok") == 6  # the long one and 5 more
    names = {
        dict(labels).get("operation") for name, labels in samples if name.startswith(OPERATION)
    }
    assert len(names) == 201  # 200 names and "other"


async def test_made_up_http_methods_are_one_label(client: httpx.AsyncClient) -> None:
    """The method is the client's word: a standard one is its own label, any other
    counts as "other", so made-up methods cannot grow the label sets."""
    for number in range(3):
        assert (await client.request(f"BREW{number}", "/graphql")).status_code == 405
    assert (await client.request("DELETE", "/graphql")).status_code == 405

    samples = await _samples(client)

    requests = "newsdesk_http_requests_total"
    methods = {dict(labels)["method"] for name, labels in samples if name == requests}
    assert not any(method.startswith("BREW") for method in methods)
    assert _value(samples, requests, method="other", route="/graphql", status="405") == 3
    assert _value(samples, requests, method="DELETE", route="/graphql", status="405") == 1


async def test_sql_statements_per_request_are_what_the_database_was_sent(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    article = await api_article(client, tokens_by_role["editor"], title="Bridge reopens")
    await api_publish(client, tokens_by_role["editor"], article["id"])
    before = await _samples(client)

    with counting() as sent:
        status, body = await gql(
            client, "query Feed { feed(first: 5) { edges { node { title authors { name } } } } }"
        )
    assert status == 200 and "errors" not in body, body
    after = await _samples(client)

    route = {"route": "/graphql"}
    count = "newsdesk_sql_statements_per_request_count"
    total = "newsdesk_sql_statements_per_request_sum"
    assert _value(after, count, **route) - _value(before, count, **route) == 1
    assert _value(after, total, **route) - _value(before, total, **route) == len(sent) > 0


async def test_the_outbox_depth_and_lag_are_read_at_each_scrape(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """The test app runs no dispatcher, so what is recorded waits."""
    empty = await _samples(client)
    article = await api_article(client, tokens_by_role["editor"], title="Floods in the south")
    await api_publish(client, tokens_by_role["editor"], article["id"])
    waiting = await OutboxEvent.filter(dispatched_at__isnull=True).count()
    oldest = datetime.now(UTC) - timedelta(seconds=600)
    first = await OutboxEvent.filter(dispatched_at__isnull=True).order_by("id").first()
    assert first is not None
    await OutboxEvent.filter(id=first.id).update(occurred_at=oldest)

    samples = await _samples(client)

    assert _value(empty, "newsdesk_outbox_depth") == 0
    assert _value(empty, "newsdesk_outbox_lag_seconds") == 0
    assert waiting >= 2  # created, published
    assert _value(samples, "newsdesk_outbox_depth") == waiting
    assert 600 <= _value(samples, "newsdesk_outbox_lag_seconds") < 3600


async def test_webhook_attempts_are_counted_by_result(
    client: httpx.AsyncClient,
    settings: Settings,
    tokens_by_role: dict[str, str],
    receiver: Receiver,  # noqa: F811
) -> None:
    """The receiver answers 500 to a delivery's first attempt, 200 to the next."""
    created = await _create(client, tokens_by_role["admin"], receiver.url)
    receiver.secret = created["secret"]
    before = await _samples(client)
    await _publish_and_enqueue(client, tokens_by_role)

    await _deliver_until_settled(_fast(settings))
    after = await _samples(client)

    attempts = "newsdesk_webhook_deliveries_total"
    for result, expected in (("retrying", 1), ("delivered", 1), ("failed", 0)):
        grown = _value(after, attempts, result=result) - _value(before, attempts, result=result)
        assert grown == expected, result
    assert [attempt.answered for attempt in receiver.attempts] == [500, 200]


async def test_open_subscriptions_are_a_gauge(settings: Settings, db: None) -> None:
    async with realtime.serve(settings) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            quiet = await _samples(http)
            async with realtime.subscribe(address), realtime.subscribe(address):
                open_ = await _samples(http)
            for _ in range(50):  # the server hears the sockets close
                closed = await _samples(http)
                if _value(closed, "newsdesk_open_subscriptions") == 0:
                    break
                await asyncio.sleep(0.05)

    assert _value(quiet, "newsdesk_open_subscriptions") == 0
    assert _value(open_, "newsdesk_open_subscriptions") == 2
    assert _value(closed, "newsdesk_open_subscriptions") == 0


async def test_cached_reads_are_timed_under_their_operation(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        response = await client.get("/graphql", params={"query": SECTIONS})
        assert response.status_code == 200

    samples = await _samples(client)

    assert _value(samples, "newsdesk_response_cache_total", result="miss") == 1
    assert _value(samples, "newsdesk_response_cache_total", result="hit") == 2
    assert _operations(samples, "Sections", "query", "ok") == 3


async def test_a_read_stopped_by_its_budget_is_a_timeout(
    settings: Settings, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As tests/api/test_query_budget.py does: the feed first sends a statement that runs
    for many seconds, which the budget (300 ms here) stops."""
    real = feed.feed

    async def slow_then_real(**arguments: Any) -> Any:
        await Tortoise.get_connection("default").execute_query_dict(SLOW)
        return await real(**arguments)

    monkeypatch.setattr(feed, "feed", slow_then_real)
    async with app_client(settings.model_copy(update={"query_timeout_ms": 300})) as client:
        status, body = await gql(client, "query Slow { feed(first: 3) { edges { cursor } } }")
        samples = await _samples(client)

    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TIMEOUT"
    assert _operations(samples, "Slow", "query", "timeout") == 1
    assert _operations(samples, "Slow", "query", "error") == 0
