from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from cms.models.content import ContentKind, ContentStatus
from cms.models.people import AuthorKind


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="ApiToken",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                ("role", fields.CharField(max_length=16)),
                ("secret_hash", fields.CharField(unique=True, max_length=64)),
                ("prefix", fields.CharField(max_length=16)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "api_token", "app": "models", "pk_attr": "id"},
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="Media",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("key", fields.CharField(unique=True, max_length=255)),
                ("mime_type", fields.CharField(max_length=100)),
                ("size_bytes", fields.IntField(null=True)),
                ("width", fields.IntField(null=True)),
                ("height", fields.IntField(null=True)),
                ("alt_text", fields.CharField(null=True, max_length=500)),
                ("caption", fields.TextField(null=True, unique=False)),
                ("credit", fields.CharField(null=True, max_length=255)),
            ],
            options={"table": "media", "app": "models", "pk_attr": "id"},
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="Author",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=200)),
                ("slug", fields.CharField(unique=True, max_length=200)),
                (
                    "kind",
                    fields.CharEnumField(
                        default=AuthorKind.PERSON,
                        description="DESK: desk\nPERSON: person",
                        enum_type=AuthorKind,
                        max_length=16,
                    ),
                ),
                ("bio", fields.TextField(null=True, unique=False)),
                ("email", fields.CharField(null=True, max_length=254)),
                (
                    "avatar",
                    fields.ForeignKeyField(
                        "models.Media",
                        source_field="avatar_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={"table": "author", "app": "models", "pk_attr": "id"},
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="OutboxEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("type", fields.CharField(max_length=32)),
                ("content_id", fields.IntField()),
                ("payload", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("occurred_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "dispatched_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "outbox_event",
                "app": "models",
                "indexes": [Index(fields=["dispatched_at", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Section",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                ("slug", fields.CharField(unique=True, max_length=100)),
            ],
            options={"table": "section", "app": "models", "pk_attr": "id"},
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="Content",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="ARTICLE: article\nVIDEO_EPISODE: video_episode",
                        enum_type=ContentKind,
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=ContentStatus.DRAFT,
                        description="DRAFT: draft\nSCHEDULED: scheduled\nPUBLISHED: published\nARCHIVED: archived",
                        enum_type=ContentStatus,
                        max_length=16,
                    ),
                ),
                ("title", fields.CharField(max_length=300)),
                ("slug", fields.CharField(max_length=200)),
                ("dek", fields.TextField(null=True, unique=False)),
                ("locale", fields.CharField(default="en", max_length=16)),
                ("version", fields.IntField(default=1)),
                (
                    "published_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("external_id", fields.CharField(null=True, unique=True, max_length=200)),
                ("body", fields.TextField(null=True, unique=False)),
                ("reading_time_minutes", fields.IntField(default=1)),
                ("description", fields.TextField(null=True, unique=False)),
                ("video_url", fields.CharField(null=True, max_length=2000)),
                ("duration_seconds", fields.IntField(null=True)),
                ("show", fields.CharField(null=True, max_length=200)),
                ("episode_number", fields.IntField(null=True)),
                (
                    "section",
                    fields.ForeignKeyField(
                        "models.Section",
                        source_field="section_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="contents",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "hero_image",
                    fields.ForeignKeyField(
                        "models.Media",
                        source_field="hero_image_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "created_by_token",
                    fields.ForeignKeyField(
                        "models.ApiToken",
                        source_field="created_by_token_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "content",
                "app": "models",
                "unique_together": (("slug", "locale"),),
                "indexes": [
                    Index(fields=["status", "published_at", "id"], name="content_feed_idx"),
                    Index(
                        fields=["section_id", "status", "published_at", "id"],
                        name="content_section_idx",
                    ),
                    Index(fields=["updated_at", "id"], name="content_updated_idx"),
                ],
                "pk_attr": "id",
            },
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="ContentAuthor",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "content",
                    fields.ForeignKeyField(
                        "models.Content",
                        source_field="content_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="bylines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.Author",
                        source_field="author_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="bylines",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.SmallIntField(default=0)),
            ],
            options={
                "table": "content_author",
                "app": "models",
                "unique_together": (("content_id", "author_id"),),
                "indexes": [
                    Index(fields=["author_id", "content_id"], name="content_author_author_idx")
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Revision",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "content",
                    fields.ForeignKeyField(
                        "models.Content",
                        source_field="content_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="revisions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("version", fields.IntField()),
                ("title", fields.CharField(max_length=300)),
                ("created_by", fields.CharField(null=True, max_length=100)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("snapshot", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "revision",
                "app": "models",
                "unique_together": (("content_id", "version"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Tag",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                ("slug", fields.CharField(unique=True, max_length=100)),
            ],
            options={"table": "tag", "app": "models", "pk_attr": "id"},
            bases=["TimestampedModel"],
        ),
        ops.CreateModel(
            name="ContentTag",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "content",
                    fields.ForeignKeyField(
                        "models.Content",
                        source_field="content_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="taggings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "tag",
                    fields.ForeignKeyField(
                        "models.Tag",
                        source_field="tag_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="taggings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "content_tag",
                "app": "models",
                "unique_together": (("content_id", "tag_id"),),
                "indexes": [Index(fields=["tag_id", "content_id"], name="content_tag_tag_idx")],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
