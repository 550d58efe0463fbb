from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import TimestampedModel

if TYPE_CHECKING:
    from cms.models.auth import ApiToken
    from cms.models.media import Media
    from cms.models.people import Author

__all__ = [
    "Content",
    "ContentAuthor",
    "ContentKind",
    "ContentStatus",
    "ContentTag",
    "Revision",
    "Correction",
    "Section",
    "Tag",
]


class ContentKind(StrEnum):
    ARTICLE = "article"
    VIDEO_EPISODE = "video_episode"


class ContentStatus(StrEnum):
    # Stored: DRAFT, IN_REVIEW, PUBLISHED, ARCHIVED, KILLED. SCHEDULED and EXPIRED are
    # how a PUBLISHED row reads before its time and after its expiry (cms.content.visibility).
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    KILLED = "killed"
    EXPIRED = "expired"


class Section(TimestampedModel):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    slug = fields.CharField(max_length=100, unique=True)

    class Meta:
        table = "section"


class Tag(TimestampedModel):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    slug = fields.CharField(max_length=100, unique=True)

    class Meta:
        table = "tag"


class Content(TimestampedModel):
    # Articles and video episodes share this table; `kind` tells them apart. The feed is
    # one keyset scan of the (status, published_at, id) index. What reads see of a row is
    # `cms.content.records.ContentRecord`. (Comments, not docstrings, on models: Tortoise
    # stores a model's docstring as its table's comment, a schema change.)

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ContentKind, max_length=16)
    status = fields.CharEnumField(ContentStatus, max_length=16, default=ContentStatus.DRAFT)
    title = fields.CharField(max_length=300)
    slug = fields.CharField(max_length=200)
    dek = fields.TextField(null=True)
    locale = fields.CharField(max_length=16, default="en")
    version = fields.IntField(default=1)
    published_at = fields.DatetimeField(null=True)
    # The first publication: never moves when the item is republished or back-dated later.
    first_published_at = fields.DatetimeField(null=True)
    significantly_updated_at = fields.DatetimeField(null=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True)
    # Set while a scheduled publication has not been announced (its PUBLISHED event);
    # the scheduler records the event when the time comes and clears it.
    announce_at = fields.DatetimeField(null=True)
    # Public until then (publish(until:)); it reads EXPIRED afterwards, by the rule alone.
    expires_at = fields.DatetimeField(null=True)
    # Set while an expiry has not been announced (its EXPIRED event), like announce_at.
    announce_expiry_at = fields.DatetimeField(null=True)
    # When the item went into the review queue (submitForReview); the queue's order.
    submitted_at = fields.DatetimeField(null=True)
    # The story the item tells, in its locale: the items of one story are translations of
    # each other, one per locale (the id of the story's first item; null while it has none).
    story_id = fields.IntField(null=True)
    # Pinned (pin): since when, and until when (null: until unpinned).
    pinned_at = fields.DatetimeField(null=True)
    pinned_until = fields.DatetimeField(null=True)

    # Articles
    body = fields.TextField(null=True)
    reading_time_minutes = fields.IntField(default=1)

    # Video episodes
    description = fields.TextField(null=True)
    video_url = fields.CharField(max_length=2000, null=True)
    duration_seconds = fields.IntField(null=True)
    show = fields.CharField(max_length=200, null=True)
    episode_number = fields.IntField(null=True)

    section: fields.ForeignKeyNullableRelation[Section] = fields.ForeignKeyField(
        "models.Section", null=True, on_delete=fields.SET_NULL, related_name="contents"
    )
    hero_image: fields.ForeignKeyNullableRelation[Media] = fields.ForeignKeyField(
        "models.Media", null=True, on_delete=fields.SET_NULL, related_name=False
    )
    created_by_token: fields.ForeignKeyNullableRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", null=True, on_delete=fields.SET_NULL, related_name=False
    )
    # The foreign keys' columns, which Tortoise sets from the relations above.
    section_id: int | None
    hero_image_id: int | None
    created_by_token_id: int | None

    class Meta:
        table = "content"
        unique_together = (("slug", "locale"), ("story_id", "locale"))
        indexes = (
            Index(fields=("status", "published_at", "id"), name="content_feed_idx"),
            Index(
                fields=("section_id", "status", "published_at", "id"), name="content_section_idx"
            ),
            Index(fields=("updated_at", "id"), name="content_updated_idx"),
            Index(fields=("announce_at",), name="content_announce_idx"),
            Index(fields=("announce_expiry_at",), name="content_announce_expiry_idx"),
            Index(fields=("expires_at",), name="content_expires_idx"),
            Index(fields=("pinned_at",), name="content_pinned_idx"),
            Index(fields=("pinned_until",), name="content_pinned_until_idx"),
            Index(fields=("submitted_at", "id"), name="content_submitted_idx"),
        )


class ContentAuthor(Model):
    # A byline on a content item; `position` keeps the bylines' order.

    id = fields.IntField(primary_key=True)
    content: fields.ForeignKeyRelation[Content] = fields.ForeignKeyField(
        "models.Content", on_delete=fields.CASCADE, related_name="bylines"
    )
    author: fields.ForeignKeyRelation[Author] = fields.ForeignKeyField(
        "models.Author", on_delete=fields.CASCADE, related_name="bylines"
    )
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "content_author"
        unique_together = (("content_id", "author_id"),)
        indexes = (Index(fields=("author_id", "content_id"), name="content_author_author_idx"),)


class ContentTag(Model):
    id = fields.IntField(primary_key=True)
    content: fields.ForeignKeyRelation[Content] = fields.ForeignKeyField(
        "models.Content", on_delete=fields.CASCADE, related_name="taggings"
    )
    tag: fields.ForeignKeyRelation[Tag] = fields.ForeignKeyField(
        "models.Tag", on_delete=fields.CASCADE, related_name="taggings"
    )

    class Meta:
        table = "content_tag"
        unique_together = (("content_id", "tag_id"),)
        indexes = (Index(fields=("tag_id", "content_id"), name="content_tag_tag_idx"),)


class Revision(Model):
    # A snapshot of a content item as saved at a version. History only grows.

    id = fields.IntField(primary_key=True)
    content: fields.ForeignKeyRelation[Content] = fields.ForeignKeyField(
        "models.Content", on_delete=fields.CASCADE, related_name="revisions"
    )
    version = fields.IntField()
    title = fields.CharField(max_length=300)
    created_by = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The note of a review step (submitForReview, requestChanges) or the reason of a kill.
    note = fields.TextField(null=True)
    snapshot: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    content_id: int

    class Meta:
        table = "revision"
        unique_together = (("content_id", "version"),)


class Correction(Model):
    # A public correction of a published item: appended, never edited or removed.

    id = fields.IntField(primary_key=True)
    content: fields.ForeignKeyRelation[Content] = fields.ForeignKeyField(
        "models.Content", on_delete=fields.CASCADE, related_name="corrections"
    )
    text = fields.TextField()
    created_by = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField()
    content_id: int

    class Meta:
        table = "correction"
        indexes = (Index(fields=("content_id", "id"), name="correction_content_idx"),)
