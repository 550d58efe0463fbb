"""The Subscription root: live feed events over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from cms import clock
from cms.content import ids, items, visibility
from schema.context import Info
from schema.loaders import Loaders
from schema.selection import content_include, fields_under, selected
from schema.types.content import Content, content_from_record
from schema.types.enums import ContentKind, EventType, FeedEventType

__all__ = ["FeedEvent", "Subscription"]


@strawberry.type(
    description="A change in the feed; `content` is null when it is not (or no longer) visible."
)
class FeedEvent:
    type: EventType = strawberry.field(graphql_type=FeedEventType)
    content_id: strawberry.ID
    content: Content | None
    at: datetime


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Content events as they happen; filter by section slugs and kinds."
    )
    async def feed_events(
        self,
        info: Info,
        sections: list[str] | None = None,
        kinds: list[ContentKind] | None = None,
    ) -> AsyncGenerator[FeedEvent, None]:
        broker = info.context.broker
        if broker is None:
            raise RuntimeError("subscriptions need the app's broker")
        viewer = info.context.viewer
        content = fields_under(selected(info), "content")
        include = content_include(content)
        # One run serves every subscriber of this shape (cms.http.fanout): its SQL runs
        # once per event, and not at all when `content` is not asked for.
        async with broker.subscribe() as messages:
            async for message in messages:
                if sections is not None and message.section not in sections:
                    continue
                if kinds and message.kind not in kinds:
                    continue
                if not visibility.may_hear(viewer, public=message.public):
                    continue
                now = clock.utcnow()
                # A fresh batch cache and clock per event: the run lasts as long as its
                # subscribers do.
                info.context.loaders = Loaders()
                info.context.now = now
                record = (
                    await items.by_id(
                        id=message.content_id, viewer=viewer, now=now, include=include
                    )
                    if content
                    else None
                )
                yield FeedEvent(
                    type=EventType(message.type),
                    content_id=strawberry.ID(ids.content_id(message.kind, message.content_id)),
                    content=content_from_record(record, info.context.links, now)
                    if record
                    else None,
                    at=datetime.fromisoformat(message.at),
                )
