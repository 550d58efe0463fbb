"""Every model, for Tortoise's "cms.models" app."""

from cms.models.auth import ApiToken
from cms.models.content import (
    Content,
    ContentAuthor,
    ContentKind,
    ContentStatus,
    ContentTag,
    Revision,
    Section,
    Tag,
)
from cms.models.events import OutboxEvent
from cms.models.media import Media
from cms.models.people import Author, AuthorKind
from cms.models.webhooks import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "Author",
    "AuthorKind",
    "Content",
    "ContentAuthor",
    "ContentKind",
    "ContentStatus",
    "ContentTag",
    "DeliveryStatus",
    "Media",
    "OutboxEvent",
    "Revision",
    "Section",
    "Tag",
    "Webhook",
    "WebhookDelivery",
]
