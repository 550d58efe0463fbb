"""Every model, for Tortoise's "cms.models" app."""

from cms.models.auth import ApiToken, SigningKey
from cms.models.content import (
    Content,
    ContentAuthor,
    ContentKind,
    ContentStatus,
    ContentTag,
    Correction,
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
    "Correction",
    "DeliveryStatus",
    "Media",
    "OutboxEvent",
    "Revision",
    "Section",
    "SigningKey",
    "Tag",
    "Webhook",
    "WebhookDelivery",
]
