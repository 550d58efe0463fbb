"""Webhook fields for the Query and Mutation roots (admins only), merged in by
schema/__init__.py. Thin: read arguments, call cms.webhooks.service, map the result."""

from __future__ import annotations

import strawberry

from cms.auth import policy
from cms.content import ids
from cms.webhooks import service
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.types.enums import EventType
from schema.types.errors import (
    ConflictError,
    Deleted,
    DeleteResult,
    NotFoundError,
    ValidationError,
)
from schema.types.webhooks import (
    Webhook,
    WebhookDelivery,
    WebhookDeliveryResult,
    WebhookResult,
)

__all__ = ["WebhookMutation", "WebhookQuery"]


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Every webhook, oldest first (admins).",
        extensions=require(policy.Action.MANAGE_WEBHOOKS),
    )
    async def webhooks(self, info: Info) -> list[Webhook]:
        records = await service.list_webhooks(viewer=info.context.viewer)
        return [Webhook.from_record(record) for record in records]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="A new webhook; its signing secret is in this answer and never again.",
        extensions=require(policy.Action.MANAGE_WEBHOOKS),
    )
    async def create_webhook(self, info: Info, url: str, events: list[EventType]) -> WebhookResult:
        async def work() -> Webhook:
            record, secret = await service.create(
                viewer=info.context.viewer,
                url=url,
                events=events,
                settings=info.context.settings,
            )
            return Webhook.from_record(record, secret=secret)

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)

    @strawberry.mutation(
        description="Delete a webhook and its deliveries.",
        extensions=require(policy.Action.MANAGE_WEBHOOKS),
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> DeleteResult:
        async def work() -> Deleted:
            pk = ids.expect(id, "Webhook")
            await service.delete(viewer=info.context.viewer, id=pk)
            return Deleted(id=id)

        return await as_result(work(), NotFoundError)

    @strawberry.mutation(
        description="Send one delivery again: the same webhook-id and body, now.",
        extensions=require(policy.Action.MANAGE_WEBHOOKS),
    )
    async def redeliver(self, info: Info, delivery_id: strawberry.ID) -> WebhookDeliveryResult:
        async def work() -> WebhookDelivery:
            pk = ids.expect(delivery_id, "WebhookDelivery")
            record = await service.redeliver(viewer=info.context.viewer, delivery_id=pk)
            return WebhookDelivery.from_record(record)

        return await as_result(work(), NotFoundError)
