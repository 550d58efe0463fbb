"""Managing webhooks (admins only): create, list, delete, and read or replay deliveries."""

from __future__ import annotations

from collections.abc import Iterable

from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.errors import Invalid, NotFound
from cms.events.outbox import EventType
from cms.models import Webhook, WebhookDelivery
from cms.webhooks import addresses, deliveries, signing
from cms.webhooks.records import DeliveryRecord, WebhookRecord

__all__ = [
    "EVENT_TYPES",
    "MAX_DELIVERIES",
    "create",
    "delete",
    "deliveries_of",
    "list_webhooks",
    "redeliver",
]

EVENT_TYPES = tuple(event_type.value for event_type in EventType)
MAX_DELIVERIES = 100


def _event_types(events: Iterable[str]) -> list[str]:
    chosen: list[str] = []
    for event in events:
        name = str(event)
        if name not in EVENT_TYPES:
            raise Invalid(f"unknown event type {name}", field="events")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise Invalid("choose at least one event type", field="events")
    return chosen


async def create(
    *, viewer: Viewer, url: str, events: Iterable[str], settings: Settings
) -> tuple[WebhookRecord, str]:
    """A new webhook and its signing secret (kept to sign, shown to the caller only now)."""
    policy.require(viewer, policy.Action.MANAGE_WEBHOOKS)
    chosen = _event_types(events)
    checked = await addresses.check(url, settings=settings)
    secret = signing.new_secret()
    webhook = await Webhook.create(
        url=checked, events=chosen, secret=secret, created_by=viewer.name
    )
    return WebhookRecord.of(webhook), secret


async def delete(*, viewer: Viewer, id: int) -> None:
    """Delete a webhook with its deliveries; pending ones are never sent."""
    policy.require(viewer, policy.Action.MANAGE_WEBHOOKS)
    if not await Webhook.filter(id=id).delete():
        raise NotFound("no webhook has that id")


async def list_webhooks(*, viewer: Viewer) -> list[WebhookRecord]:
    policy.require(viewer, policy.Action.MANAGE_WEBHOOKS)
    return [WebhookRecord.of(row) for row in await Webhook.all().order_by("id")]


async def deliveries_of(*, webhook_id: int, first: int = 20) -> list[DeliveryRecord]:
    """A webhook's newest deliveries first (at most 100). The caller has checked that the
    viewer may manage webhooks (the field is reached only through admin fields)."""
    if first < 0:
        raise Invalid("first cannot be negative", field="first")
    if first == 0:
        return []
    rows = (
        await WebhookDelivery.filter(webhook_id=webhook_id)
        .order_by("-id")
        .limit(min(first, MAX_DELIVERIES))
    )
    return [DeliveryRecord.of(row) for row in rows]


async def redeliver(*, viewer: Viewer, delivery_id: int) -> DeliveryRecord:
    """Queue one delivery again (the same webhook-id and body), to be sent now."""
    policy.require(viewer, policy.Action.MANAGE_WEBHOOKS)
    return DeliveryRecord.of(await deliveries.redeliver(delivery_id=delivery_id))
