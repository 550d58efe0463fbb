"""Webhooks over GraphQL (admins only), delivered to a real receiver on 127.0.0.1 that
verifies each delivery with the `standardwebhooks` package, as a receiver would."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from cms import db as database
from cms.config import Settings
from cms.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from cms.webhooks import addresses, deliveries
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    error_code,
    global_id,
    gql,
    gql_data,
    pk_of,
)
from tests.api.graphql_client import app_client

CREATE_WEBHOOK = (
    """
mutation Create($url: String!, $events: [WebhookEventType!]!) {
  createWebhook(url: $url, events: $events) {
    __typename
    ... on Webhook { id url events createdAt secret }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
DELETE_WEBHOOK = (
    "mutation Delete($id: ID!) { deleteWebhook(id: $id) { __typename "
    "... on Deleted { id } ... on NotFoundError { message } } }"
)
REDELIVER = """
mutation Redeliver($id: ID!) {
  redeliver(deliveryId: $id) {
    __typename
    ... on WebhookDelivery { id messageId status attempts }
    ... on NotFoundError { message }
  }
}
"""
WEBHOOKS = """
query Webhooks {
  webhooks {
    id url events secret
    deliveries {
      id messageId eventType status attempts lastStatusCode lastError
      lastAttemptAt nextAttemptAt createdAt
    }
  }
}
"""
CONTENT = """
query Content($id: ID!) {
  node(id: $id) {
    id
    ... on Content {
      kind title slug dek status publishedAt updatedAt version locale url
      section { id name slug }
      authors { id name slug }
      tags { id name slug }
    }
  }
}
"""
PUBLISHED = ["CONTENT_PUBLISHED"]


# --- a real receiver -------------------------------------------------------------------


@dataclass
class Attempt:
    webhook_id: str
    timestamp: int
    verified: bool
    answered: int
    event: str
    body: Any


@dataclass
class Receiver:
    """A Starlette app under uvicorn in a thread: verifies the signature, answers 500 to
    the first attempt of each delivery (by webhook-id) when `fail_first`, 200 otherwise."""

    url: str = ""
    secret: str | None = None
    fail_first: bool = True
    attempts: list[Attempt] = field(default_factory=list)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        webhook_id = request.headers.get("webhook-id", "")
        try:
            payload = StandardWebhook(self.secret or "whsec_AAAA").verify(body, request.headers)
            verified = True
        except WebhookVerificationError:
            payload, verified = None, False
        first = not any(attempt.webhook_id == webhook_id for attempt in self.attempts)
        answer = 500 if (first and self.fail_first) or not verified else 200
        self.attempts.append(
            Attempt(
                webhook_id=webhook_id,
                timestamp=int(request.headers.get("webhook-timestamp", "0")),
                verified=verified,
                answered=answer,
                event=request.headers.get("x-newsdesk-event", ""),
                body=payload,
            )
        )
        return Response(status_code=answer)

    def of(self, webhook_id: str) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt.webhook_id == webhook_id]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    app = Starlette(routes=[Route("/hooks", found.receive, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", ws="none", http="h11", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    found.url = f"http://127.0.0.1:{port}/hooks"
    yield found
    server.should_exit = True
    thread.join(timeout=10)


# --- helpers ---------------------------------------------------------------------------


async def _create(
    client: httpx.AsyncClient, token: str, url: str, events: list[str] = PUBLISHED
) -> dict[str, Any]:
    data = await gql_data(client, CREATE_WEBHOOK, {"url": url, "events": events}, token)
    result: dict[str, Any] = data["createWebhook"]
    return result


async def _webhooks(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    webhooks: list[dict[str, Any]] = (await gql_data(client, WEBHOOKS, token=token))["webhooks"]
    return webhooks


async def _publish_and_enqueue(client: httpx.AsyncClient, tokens: dict[str, str]) -> str:
    """Publish an article through the API and hand its outbox event to `enqueue`, as the
    dispatcher does; the article's ID."""
    article = await api_article(client, tokens["editor"], title="Bridge reopens to traffic")
    await api_publish(client, tokens["editor"], article["id"])
    content = (await gql_data(client, CONTENT, {"id": article["id"]}, tokens["admin"]))["node"]
    event = await OutboxEvent.filter(type="CONTENT_PUBLISHED", content_id=pk_of(article["id"]))
    assert len(event) == 1
    async with in_transaction() as connection:
        await deliveries.enqueue(event=event[0], content=content, connection=connection)
    return str(article["id"])


async def _deliver_until_settled(settings: Settings, seconds: float = 15) -> None:
    """Run deliver_due (as the dispatcher's loop will) until nothing is pending."""
    deadline = asyncio.get_running_loop().time() + seconds
    async with addresses.http_client(settings) as http:
        while await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
            assert asyncio.get_running_loop().time() < deadline, "deliveries did not settle"
            await deliveries.deliver_due(client=http, settings=settings)
            await asyncio.sleep(0.1)


def _fast(settings: Settings) -> Settings:
    """The first retry after a second instead of five."""
    return settings.model_copy(update={"webhook_retry_schedule": (1.0, 1.0)})


# --- who may -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"), [("anonymous", "UNAUTHENTICATED"), ("viewer", "FORBIDDEN"),
                      ("author", "FORBIDDEN"), ("editor", "FORBIDDEN")],
)  # fmt: skip
@pytest.mark.parametrize(
    ("document", "variables"),
    [
        pytest.param(CREATE_WEBHOOK, {"url": "https://hooks.example/x", "events": PUBLISHED},
                     id="createWebhook"),
        pytest.param(DELETE_WEBHOOK, {"id": global_id("Webhook", 1)}, id="deleteWebhook"),
        pytest.param(REDELIVER, {"id": global_id("WebhookDelivery", 1)}, id="redeliver"),
        pytest.param(WEBHOOKS, None, id="webhooks"),
    ],
)  # fmt: skip
async def test_only_admins_manage_webhooks(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    document: str,
    variables: dict[str, Any] | None,
    who: str,
    code: str,
) -> None:
    token = None if who == "anonymous" else tokens_by_role[who]

    _, body = await gql(client, document, variables, token)

    assert error_code(body) == code
    assert body["data"] is None


# --- managing ------------------------------------------------------------------------


async def test_the_secret_is_shown_once_at_creation(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    admin = tokens_by_role["admin"]

    created = await _create(client, admin, "https://hooks.example/newsdesk", ["CONTENT_PUBLISHED",
                            "CONTENT_DELETED"])  # fmt: skip

    assert created["__typename"] == "Webhook", created
    assert created["url"] == "https://hooks.example/newsdesk"
    assert created["events"] == ["CONTENT_PUBLISHED", "CONTENT_DELETED"]
    assert created["secret"].startswith("whsec_")
    StandardWebhook(created["secret"])  # a secret the receivers' library accepts
    [listed] = await _webhooks(client, admin)
    assert listed["id"] == created["id"]
    assert listed["secret"] is None
    assert listed["deliveries"] == []
    again = await _create(client, admin, "https://hooks.example/newsdesk")
    assert again["secret"] != created["secret"]


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("ftp://hooks.example/x", PUBLISHED, "url"),
        ("not a url", PUBLISHED, "url"),
        ("https://", PUBLISHED, "url"),
        ("https://hooks.example/x", [], "events"),
    ],
)
async def test_bad_input_is_a_validation_error(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    url: str,
    events: list[str],
    field: str,
) -> None:
    result = await _create(client, tokens_by_role["admin"], url, events)

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await _webhooks(client, tokens_by_role["admin"]) == []


async def test_an_unknown_event_type_is_refused_by_the_schema(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    variables = {"url": "https://hooks.example/x", "events": ["CONTENT_VIEWED"]}

    _, body = await gql(client, CREATE_WEBHOOK, variables, tokens_by_role["admin"])

    assert body.get("errors"), body


async def test_private_addresses_are_refused_when_not_allowed(
    settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    strict = settings.model_copy(update={"webhook_allow_private": False})

    async with app_client(strict) as client:
        result = await _create(client, tokens_by_role["admin"], "http://localhost:9/hooks")

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == "url"
    assert "127.0.0.1" in result["message"]


async def test_delete_webhook(client: httpx.AsyncClient, tokens_by_role: dict[str, str]) -> None:
    admin = tokens_by_role["admin"]
    created = await _create(client, admin, "https://hooks.example/x")

    deleted = await gql_data(client, DELETE_WEBHOOK, {"id": created["id"]}, admin)
    again = await gql_data(client, DELETE_WEBHOOK, {"id": created["id"]}, admin)
    malformed = await gql_data(client, DELETE_WEBHOOK, {"id": "nonsense"}, admin)
    wrong_type = await gql_data(client, DELETE_WEBHOOK, {"id": global_id("Article", 1)}, admin)

    assert deleted["deleteWebhook"] == {"__typename": "Deleted", "id": created["id"]}
    assert again["deleteWebhook"]["__typename"] == "NotFoundError"
    assert malformed["deleteWebhook"]["__typename"] == "NotFoundError"
    assert wrong_type["deleteWebhook"]["__typename"] == "NotFoundError"
    assert await _webhooks(client, admin) == []


async def test_redeliver_of_an_unknown_delivery_is_not_found(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    for id in (global_id("WebhookDelivery", 999), "nonsense", global_id("Webhook", 1)):
        data = await gql_data(client, REDELIVER, {"id": id}, tokens_by_role["admin"])
        assert data["redeliver"]["__typename"] == "NotFoundError", id


# --- delivering to a real receiver ---------------------------------------------------


async def test_a_publish_is_delivered_signed_and_retried_after_a_500(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    settings: Settings,
    receiver: Receiver,
) -> None:
    admin = tokens_by_role["admin"]
    created = await _create(client, admin, receiver.url)
    receiver.secret = created["secret"]

    article_id = await _publish_and_enqueue(client, tokens_by_role)
    await _deliver_until_settled(_fast(settings))

    [webhook] = await _webhooks(client, admin)
    [delivery] = webhook["deliveries"]
    assert delivery["status"] == "DELIVERED", delivery
    assert delivery["attempts"] == 2
    assert delivery["lastStatusCode"] == 200
    assert delivery["lastError"] is None
    assert delivery["eventType"] == "CONTENT_PUBLISHED"
    assert delivery["nextAttemptAt"] is None
    first, retry = receiver.of(delivery["messageId"])
    assert (first.answered, retry.answered) == (500, 200)
    assert first.verified and retry.verified
    assert retry.timestamp >= first.timestamp
    assert retry.body == first.body
    assert retry.event == "CONTENT_PUBLISHED"
    body = retry.body
    assert body["id"] == delivery["messageId"]
    assert body["type"] == "CONTENT_PUBLISHED"
    assert body["occurredAt"]
    content = body["data"]["content"]
    assert content["id"] == article_id
    assert content["title"] == "Bridge reopens to traffic"
    assert content["status"] == "PUBLISHED"
    assert content["url"].startswith("https://news.example/")


async def test_redeliver_sends_the_same_delivery_again(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    settings: Settings,
    receiver: Receiver,
) -> None:
    admin = tokens_by_role["admin"]
    receiver.fail_first = False
    receiver.secret = (await _create(client, admin, receiver.url))["secret"]
    await _publish_and_enqueue(client, tokens_by_role)
    await _deliver_until_settled(settings)
    [delivery] = (await _webhooks(client, admin))[0]["deliveries"]

    queued = (await gql_data(client, REDELIVER, {"id": delivery["id"]}, admin))["redeliver"]
    assert queued == {
        "__typename": "WebhookDelivery", "id": delivery["id"],
        "messageId": delivery["messageId"], "status": "PENDING", "attempts": 1,
    }  # fmt: skip
    await _deliver_until_settled(settings)

    assert [attempt.verified for attempt in receiver.of(delivery["messageId"])] == [True, True]
    [again] = (await _webhooks(client, admin))[0]["deliveries"]
    assert (again["status"], again["attempts"]) == ("DELIVERED", 2)


async def _wait_for_delivery(client: httpx.AsyncClient, admin: str) -> dict[str, Any]:
    """The webhook's one delivery once it is no longer pending (the app's dispatcher)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        webhooks = await _webhooks(client, admin)
        found = webhooks[0]["deliveries"] if webhooks else []
        if found and found[0]["status"] != "PENDING":
            [delivery] = found
            return delivery
        assert asyncio.get_running_loop().time() < deadline, f"not delivered: {found}"
        await asyncio.sleep(0.2)


async def test_the_apps_dispatcher_delivers_a_publish(
    settings: Settings, tokens_by_role: dict[str, str], receiver: Receiver
) -> None:
    dispatching = _fast(settings).model_copy(update={"run_dispatcher": True})
    admin = tokens_by_role["admin"]

    async with app_client(dispatching) as client:
        receiver.secret = (await _create(client, admin, receiver.url))["secret"]
        article = await api_article(client, tokens_by_role["editor"], title="Polls open")
        await api_publish(client, tokens_by_role["editor"], article["id"])
        delivery = await _wait_for_delivery(client, admin)

    assert (delivery["status"], delivery["attempts"]) == ("DELIVERED", 2)
    first, retry = receiver.of(delivery["messageId"])
    assert (first.answered, retry.answered) == (500, 200)
    assert first.verified and retry.verified
    assert retry.body["data"]["content"]["id"] == article["id"]
    # What a purge hook needs: the tags this publication invalidates, as the cache uses them.
    assert {"feed", "search", f"item:{pk_of(article['id'])}", "slug:polls-open"} <= set(
        retry.body["data"]["cacheTags"]
    )


async def test_pending_deliveries_survive_a_restart(
    settings: Settings, tokens_by_role: dict[str, str], receiver: Receiver
) -> None:
    admin = tokens_by_role["admin"]
    async with app_client(settings) as client:  # no dispatcher: this process will die
        receiver.secret = (await _create(client, admin, receiver.url))["secret"]
        await _publish_and_enqueue(client, tokens_by_role)
        async with addresses.http_client(settings) as http:  # the first attempt fails (500)
            assert await deliveries.deliver_due(client=http, settings=_fast(settings)) == 1

    # Gone between attempts; a new process opens the database afresh, and its
    # dispatcher finds the pending delivery.
    await database.close()
    await database.open(settings)
    dispatching = _fast(settings).model_copy(update={"run_dispatcher": True})
    async with app_client(dispatching) as client:
        delivery = await _wait_for_delivery(client, admin)

    assert (delivery["status"], delivery["attempts"]) == ("DELIVERED", 2)
    assert [attempt.answered for attempt in receiver.of(delivery["messageId"])] == [500, 200]
