"""The GraphQL enums, registered in one place. Each is the services' own enum, shown
under the name the contract gives it; import them from here, so they are registered
before any type names them.

Strawberry registers a class under one name, and the content events have two
(WebhookEventType for webhooks, FeedEventType for subscriptions): FeedEventType is a copy
of cms.events.outbox.EventType made here, never written out a second time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import cast

import strawberry

from cms.auth.roles import Role
from cms.content.enums import AuthorKind, ContentKind, ContentStatus, SearchOrder
from cms.events.outbox import EventType
from cms.webhooks.records import DeliveryStatus

__all__ = [
    "AuthorKind",
    "ContentKind",
    "ContentStatus",
    "DeliveryStatus",
    "EventType",
    "FeedEventType",
    "Role",
    "SearchOrder",
]

strawberry.enum(ContentKind, name="ContentKind", description="An article or a video episode.")
strawberry.enum(
    ContentStatus,
    name="ContentStatus",
    description=(
        "IN_REVIEW: submitted for an editor's review; SCHEDULED: published, with a "
        "publishedAt still to come; EXPIRED: published, past its expiresAt; KILLED: "
        "withdrawn for legal or safety reasons (only an admin may publish it again)."
    ),
)
strawberry.enum(
    SearchOrder,
    name="SearchOrder",
    description="RELEVANCE: best match first (ties newest first); NEWEST: newest first.",
)
strawberry.enum(AuthorKind, name="AuthorKind", description="A desk byline or a person's.")
strawberry.enum(Role, name="Role", description="What a token may do.")
# The GraphQL names of the events are their values (CONTENT_PUBLISHED…).
strawberry.enum(
    EventType,
    name="WebhookEventType",
    description="Content events a webhook can subscribe to.",
    graphql_name_from="value",
)
strawberry.enum(
    DeliveryStatus, name="WebhookDeliveryStatus", description="Where a delivery stands."
)


def _copy(enum: type[StrEnum], name: str) -> type[StrEnum]:
    """A new enum class with `enum`'s values, each named after its value."""
    return cast(type[StrEnum], StrEnum(name, [(member.value, member.value) for member in enum]))


FeedEventType = strawberry.enum(
    _copy(EventType, "FeedEventType"), description="What happened to a content item."
)
"""EventType for subscribers: a field of this GraphQL type holds EventType members
(`strawberry.field(graphql_type=FeedEventType)`)."""
