"""cms.webhooks.deliveries: recorded with the event, sent signed, retried on the schedule,
failed when the receiver refuses or the schedule is over, never sent twice at once.

The receiver here is an httpx.MockTransport (tests/api/test_webhooks.py uses a real one)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook as StandardWebhook
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.events import outbox
from cms.models import DeliveryStatus, WebhookDelivery
from cms.webhooks import deliveries, service
from cms.webhooks.records import WebhookRecord

ADMIN = Viewer(name="tests", role=Role.ADMIN)
URL = "https://receiver.example/hooks"
CONTENT = {"id": "QXJ0aWNsZTox", "kind": "ARTICLE", "title": "Café reopens", "slug": "cafe"}

Answer = int | Exception


@dataclass
class Receiver:
    """Answers each request with the next of `answers` (the last one repeats)."""

    answers: list[Answer]
    delay: float = 0.0
    requests: list[httpx.Request] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.requests]


@dataclass
class Desk:
    settings: Settings
    webhook: WebhookRecord
    secret: str


@pytest.fixture
async def desk(settings: Settings, db: None) -> Desk:
    webhook, secret = await service.create(
        viewer=ADMIN, url=URL, events=["CONTENT_PUBLISHED", "CONTENT_DELETED"], settings=settings
    )
    return Desk(settings, webhook, secret)


def _settings(settings: Settings, **values: Any) -> Settings:
    return settings.model_copy(update={f"webhook_{name}": value for name, value in values.items()})


async def _event(
    type: outbox.EventType = outbox.EventType.PUBLISHED,
    content: dict[str, Any] | None = CONTENT,
    payload: dict[str, Any] | None = None,
) -> list[WebhookDelivery]:
    """Record an event and enqueue it in one transaction, as the dispatcher does."""
    async with in_transaction() as connection:
        event = await outbox.record(
            type=type, content_id=1, payload=payload or {"id": 1}, connection=connection
        )
        return await deliveries.enqueue(event=event, content=content, connection=connection)


@pytest.fixture
async def send() -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """send(receiver, settings, at=when): one deliver_due call with the clock at `when`."""
    clients: list[httpx.AsyncClient] = []

    async def run(receiver: Receiver, settings: Settings, at: datetime | None = None) -> int:
        client = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
        clients.append(client)
        with clock.frozen(at or clock.utcnow()):
            return await deliveries.deliver_due(client=client, settings=settings)

    yield run
    for client in clients:
        await client.aclose()


async def _row(delivery: WebhookDelivery) -> WebhookDelivery:
    return await WebhookDelivery.get(id=delivery.id)


def _verified(secret: str, request: httpx.Request) -> Any:
    return StandardWebhook(secret).verify(request.content, dict(request.headers))


# --- enqueue ---------------------------------------------------------------------------


async def test_an_event_is_recorded_for_each_subscribed_webhook(desk: Desk) -> None:
    other, _ = await service.create(
        viewer=ADMIN, url=URL, events=["CONTENT_UPDATED"], settings=desk.settings
    )

    published = await _event(outbox.EventType.PUBLISHED)
    updated = await _event(outbox.EventType.UPDATED)

    assert [row.webhook_id for row in published] == [desk.webhook.id]  # type: ignore[attr-defined]
    assert [row.webhook_id for row in updated] == [other.id]  # type: ignore[attr-defined]
    row = await _row(published[0])
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 0
    assert row.message_id.startswith("msg_")
    assert row.body["id"] == row.message_id
    assert row.body["type"] == "CONTENT_PUBLISHED"
    assert row.body["data"] == {"content": CONTENT, "cacheTags": []}
    assert datetime.fromisoformat(row.body["occurredAt"]).tzinfo is not None


async def test_an_event_handed_over_twice_is_recorded_once(desk: Desk) -> None:
    async with in_transaction() as connection:
        event = await outbox.record(
            type=outbox.EventType.PUBLISHED, content_id=1, payload={}, connection=connection
        )
        first = await deliveries.enqueue(event=event, content=CONTENT, connection=connection)
        again = await deliveries.enqueue(event=event, content=CONTENT, connection=connection)

    assert len(first) == 1
    assert again == []
    assert await WebhookDelivery.all().count() == 1


async def test_a_deleted_item_is_described_by_its_event(desk: Desk) -> None:
    payload = {"id": 7, "kind": "video_episode", "slug": "gone", "title": "Gone"}

    [delivery] = await _event(outbox.EventType.DELETED, content=None, payload=payload)

    assert delivery.body["data"]["content"] == {
        "id": "VmlkZW9FcGlzb2RlOjc=",  # VideoEpisode:7
        "kind": "VIDEO_EPISODE",
        "slug": "gone",
        "title": "Gone",
    }


async def test_an_event_nobody_subscribed_to_records_nothing(desk: Desk) -> None:
    assert await _event(outbox.EventType.UNPUBLISHED) == []


# --- sending ---------------------------------------------------------------------------


async def test_a_delivery_is_a_signed_post_of_the_recorded_body(
    desk: Desk, send: Callable[..., Awaitable[int]]
) -> None:
    [delivery] = await _event()
    receiver = Receiver([204])

    assert await send(receiver, desk.settings) == 1

    [request] = receiver.requests
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["x-newsdesk-event"] == "CONTENT_PUBLISHED"
    assert request.headers["content-type"] == "application/json"
    assert _verified(desk.secret, request) == delivery.body
    row = await _row(delivery)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.DELIVERED, 1, 204)
    assert row.last_error is None
    assert row.next_attempt_at is None
    assert row.claimed_until is None
    assert row.claimed_by is None
    assert row.last_attempt_at is not None
    assert await send(receiver, desk.settings) == 0  # nothing more is due


async def test_a_500_is_retried_with_the_same_id_and_body_and_a_new_signature(
    desk: Desk,
    send: Callable[..., Awaitable[int]],
) -> None:
    [delivery] = await _event()
    now = clock.utcnow()
    receiver = Receiver([500, 200])

    await send(receiver, desk.settings, at=now)
    failed = await _row(delivery)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("pending", 1, 500)
    assert failed.last_error == "HTTP 500"
    # The first retry waits about 5 s (with ±10% jitter).
    assert failed.next_attempt_at is not None
    wait = (failed.next_attempt_at - now).total_seconds()
    assert 4.4 <= wait <= 5.6
    assert await send(receiver, desk.settings, at=now + timedelta(seconds=4.4)) == 0

    assert await send(receiver, desk.settings, at=now + timedelta(seconds=6)) == 1

    first, retry = receiver.requests
    assert retry.headers["webhook-id"] == first.headers["webhook-id"] == delivery.message_id
    assert retry.content == first.content
    assert int(retry.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 6
    assert retry.headers["webhook-signature"] != first.headers["webhook-signature"]
    assert _verified(desk.secret, first) == _verified(desk.secret, retry)
    row = await _row(delivery)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.DELIVERED, 2, 200)
    assert row.last_error is None


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(408, "HTTP 408", id="408"),
        pytest.param(429, "HTTP 429", id="429"),
        pytest.param(502, "HTTP 502", id="502"),
        pytest.param(503, "HTTP 503", id="503"),
        pytest.param(301, "HTTP 301: not a success (redirects are not followed)", id="301"),
        pytest.param(httpx.ConnectError("connection refused"), "ConnectError: connection refused",
                     id="connect-error"),
        pytest.param(httpx.RemoteProtocolError("peer closed"), "RemoteProtocolError: peer closed",
                     id="protocol-error"),
        pytest.param(httpx.ReadTimeout("slow"), "timed out after 10 s", id="read-timeout"),
    ],
)  # fmt: skip
async def test_transient_failures_are_retried(
    desk: Desk, send: Callable[..., Awaitable[int]], answer: Answer, error: str
) -> None:
    [delivery] = await _event()

    await send(Receiver([answer]), desk.settings)

    row = await _row(delivery)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.PENDING, 1, error)
    assert row.next_attempt_at is not None


async def test_a_receiver_slower_than_the_timeout_is_retried(
    desk: Desk, send: Callable[..., Awaitable[int]]
) -> None:
    [delivery] = await _event()
    settings = _settings(desk.settings, timeout_seconds=0.2, retry_schedule=(0.0,))
    receiver = Receiver([200, 200], delay=5)

    started = asyncio.get_running_loop().time()
    await send(receiver, settings)

    assert asyncio.get_running_loop().time() - started < 2
    row = await _row(delivery)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.PENDING, 1, None)
    assert row.last_error == "timed out after 0.2 s"
    receiver.delay = 0
    await send(receiver, settings)
    assert (await _row(delivery)).status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("code", [400, 401, 404, 410, 422])
async def test_a_4xx_fails_at_once(
    desk: Desk, send: Callable[..., Awaitable[int]], code: int
) -> None:
    [delivery] = await _event()
    now = clock.utcnow()
    receiver = Receiver([code])

    await send(receiver, desk.settings, at=now)
    assert await send(receiver, desk.settings, at=now + timedelta(days=30)) == 0

    row = await _row(delivery)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 1, code)
    assert row.last_error == f"HTTP {code}: refused by the receiver, not retried"
    assert row.next_attempt_at is None
    assert len(receiver.requests) == 1


async def test_a_delivery_fails_when_the_schedule_is_over(
    desk: Desk, send: Callable[..., Awaitable[int]]
) -> None:
    [delivery] = await _event()
    settings = _settings(desk.settings, retry_schedule=(0.0, 0.0))
    receiver = Receiver([500])

    sent = [await send(receiver, settings) for _ in range(4)]

    assert sent == [1, 1, 1, 0]  # three attempts: the first and two retries
    row = await _row(delivery)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 3, 500)
    assert row.next_attempt_at is None
    assert len(set(receiver.ids())) == 1


async def test_the_default_schedule_spans_about_three_days_in_ten_attempts(
    desk: Desk,
    send: Callable[..., Awaitable[int]],
) -> None:
    [delivery] = await _event()
    now = clock.utcnow()
    receiver = Receiver([503])
    at = now
    while (row := await _row(delivery)).status == DeliveryStatus.PENDING:
        assert row.next_attempt_at is not None
        at = max(at, row.next_attempt_at)
        assert await send(receiver, desk.settings, at=at) == 1

    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == 10
    total = sum(Settings(_env_file=None).webhook_retry_schedule)
    assert total * 0.9 <= (at - now).total_seconds() <= total * 1.1


async def test_two_workers_never_send_one_delivery_twice_at_once(
    desk: Desk, send: Callable[..., Awaitable[int]]
) -> None:
    for _ in range(12):
        await _event()
    receiver = Receiver([200], delay=0.05)

    sent = await asyncio.gather(send(receiver, desk.settings), send(receiver, desk.settings))

    assert sum(sent) == 12
    assert Counter(receiver.ids()).most_common(1)[0][1] == 1
    assert len(receiver.ids()) == 12
    statuses = await WebhookDelivery.all().values_list("status", flat=True)
    assert set(statuses) == {DeliveryStatus.DELIVERED}


async def test_a_delivery_claimed_by_another_worker_waits_for_its_claim(
    desk: Desk,
    send: Callable[..., Awaitable[int]],
) -> None:
    [delivery] = await _event()
    now = clock.utcnow()
    await WebhookDelivery.filter(id=delivery.id).update(
        claimed_by="another-worker", claimed_until=now + timedelta(seconds=50)
    )
    receiver = Receiver([200])

    assert await send(receiver, desk.settings, at=now) == 0
    assert await send(receiver, desk.settings, at=now + timedelta(seconds=51)) == 1  # it died
    assert (await _row(delivery)).status == DeliveryStatus.DELIVERED


async def test_redeliver_sends_the_same_message_again(
    desk: Desk, send: Callable[..., Awaitable[int]]
) -> None:
    [delivery] = await _event()
    receiver = Receiver([200])
    await send(receiver, desk.settings)

    queued = await deliveries.redeliver(delivery_id=delivery.id)
    assert (queued.status, queued.attempts) == (DeliveryStatus.PENDING, 1)
    await send(receiver, desk.settings)

    first, again = receiver.requests
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.content == first.content
    row = await _row(delivery)
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)


async def test_a_deleted_webhook_takes_its_pending_deliveries_with_it(
    desk: Desk, send: Callable[..., Awaitable[int]]
) -> None:
    await _event()

    await service.delete(viewer=ADMIN, id=desk.webhook.id)

    assert await send(Receiver([200]), desk.settings) == 0
    assert await WebhookDelivery.all().count() == 0


def test_the_body_bytes_do_not_depend_on_key_order() -> None:
    body = {"id": "msg_1", "type": "CONTENT_PUBLISHED", "data": {"content": {"b": 1, "a": 2}}}
    shuffled = {"data": {"content": {"a": 2, "b": 1}}, "type": "CONTENT_PUBLISHED", "id": "msg_1"}

    assert deliveries.body_bytes(body) == deliveries.body_bytes(shuffled)
    assert orjson.loads(deliveries.body_bytes(body)) == body


@pytest.mark.parametrize(
    ("value", "schedule"),
    [("5,300,1800", (5.0, 300.0, 1800.0)), ("0, 0", (0.0, 0.0)), ("", ()), ("1.5", (1.5,))],
)
def test_the_schedule_is_seconds_between_attempts(
    value: str, schedule: tuple[float, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMS_WEBHOOK_RETRY_SCHEDULE", value)

    assert Settings(_env_file=None).webhook_retry_schedule == schedule


@pytest.mark.parametrize("value", ["-1", "soon", "5,,x", "inf"])
def test_a_bad_schedule_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="webhook_retry_schedule"):
        Settings(_env_file=None, webhook_retry_schedule=value)


def test_the_default_schedule() -> None:
    delays = Settings(_env_file=None).webhook_retry_schedule
    assert len(delays) + 1 == 10
    assert delays[0] == 5
    assert timedelta(days=2.9) < timedelta(seconds=sum(delays)) < timedelta(days=3.3)


async def test_a_receiver_with_a_backlog_at_its_share_leaves_the_slots_to_the_others(
    desk: Desk,
) -> None:
    """A slow receiver's due deliveries pile up ahead of the others' (older first): the
    ones it cannot take now are not even candidates, so another receiver's delivery is
    claimed at once rather than after that backlog."""
    for _ in range(30):  # 30 due deliveries for the slow receiver, all older
        await _event()
    other, _ = await service.create(
        viewer=ADMIN, url="https://other.example/hooks", events=["CONTENT_UPDATED"],
        settings=desk.settings,
    )  # fmt: skip
    [waiting] = await _event(outbox.EventType.UPDATED)

    claimed = await deliveries.claim(
        settings=desk.settings, limit=2, per_webhook=2, busy={desk.webhook.id: 2}
    )

    assert [row.id for row in claimed] == [waiting.id]
    assert claimed[0].webhook_id == other.id  # type: ignore[attr-defined]
