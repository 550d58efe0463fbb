"""cms.webhooks.service called directly: it answers with records (WebhookRecord,
DeliveryRecord), never ORM rows, and refuses what is not there."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.errors import NotFound
from cms.events import outbox
from cms.webhooks import deliveries, service
from cms.webhooks.records import DeliveryRecord, DeliveryStatus, EventType, WebhookRecord

ADMIN = Viewer(name="tests", role=Role.ADMIN)
URL = "https://receiver.example/hooks"


async def _enqueue(type: EventType) -> None:
    async with in_transaction() as connection:
        event = await outbox.record(
            type=type, content_id=1, payload={"id": 1}, connection=connection
        )
        await deliveries.enqueue(event=event, content={"id": "x"}, connection=connection)


async def test_webhooks_and_deliveries_come_back_as_records(db: None, settings: Settings) -> None:
    webhook, secret = await service.create(
        viewer=ADMIN,
        url=URL,
        events=["CONTENT_DELETED", "CONTENT_PUBLISHED", "CONTENT_DELETED"],
        settings=settings,
    )
    await _enqueue(EventType.PUBLISHED)
    await _enqueue(EventType.UPDATED)  # not subscribed to
    await _enqueue(EventType.DELETED)

    listed = await service.list_webhooks(viewer=ADMIN)
    newest, oldest = await service.deliveries_of(webhook_id=webhook.id)

    assert isinstance(webhook, WebhookRecord) and secret.startswith("whsec_")
    assert (webhook.url, webhook.events) == (URL, (EventType.DELETED, EventType.PUBLISHED))
    assert listed == [webhook]
    assert all(isinstance(delivery, DeliveryRecord) for delivery in (newest, oldest))
    assert [newest.event_type, oldest.event_type] == [EventType.DELETED, EventType.PUBLISHED]
    assert (oldest.status, oldest.attempts, oldest.last_attempt_at) == (
        DeliveryStatus.PENDING,
        0,
        None,
    )
    assert await service.deliveries_of(webhook_id=webhook.id, first=1) == [newest]


async def test_redeliver_answers_with_the_delivery_due_now(db: None, settings: Settings) -> None:
    webhook, _ = await service.create(
        viewer=ADMIN, url=URL, events=["CONTENT_PUBLISHED"], settings=settings
    )
    await _enqueue(EventType.PUBLISHED)
    (delivery,) = await service.deliveries_of(webhook_id=webhook.id)

    with clock.frozen(clock.utcnow()) as now:
        again = await service.redeliver(viewer=ADMIN, delivery_id=delivery.id)

    assert isinstance(again, DeliveryRecord)
    assert (again.id, again.message_id, again.status) == (
        delivery.id,
        delivery.message_id,
        DeliveryStatus.PENDING,
    )
    assert again.next_attempt_at == now
    with pytest.raises(NotFound):
        await service.redeliver(viewer=ADMIN, delivery_id=delivery.id + 1)
