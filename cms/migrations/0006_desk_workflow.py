from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from cms.models.content import ContentStatus


class _NewStatuses(ops.AlterField):
    # New members of the status enum (IN_REVIEW, KILLED, EXPIRED): the column, a
    # varchar(16), holds them as it is. Tortoise's AlterField would rebuild the whole
    # content table on SQLite for what is only the column's description; this records
    # the new description in the migration state and, on PostgreSQL, as the column's
    # comment.
    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        await _comment(state_editor, getattr(self.field, "description", None))

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        old = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        await _comment(state_editor, old._meta.fields_map[self.name].description)


async def _comment(state_editor: object, description: str | None) -> None:
    client = getattr(state_editor, "client", None)
    if client is None or client.capabilities.dialect != "postgres":
        return
    text = (description or "").replace("'", "''")
    await client.execute_script(f"COMMENT ON COLUMN content.status IS '{text}'")


class Migration(migrations.Migration):
    dependencies = [("models", "0005_significant_updates")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Correction",
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
                        related_name="corrections",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("text", fields.TextField(unique=False)),
                ("created_by", fields.CharField(null=True, max_length=100)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "correction",
                "app": "models",
                "indexes": [Index(fields=["content_id", "id"], name="correction_content_idx")],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SigningKey",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "name",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=50),
                ),
                ("secret", fields.CharField(max_length=128)),
            ],
            options={"table": "signing_key", "app": "models", "pk_attr": "name"},
            bases=["TimestampedModel"],
        ),
        _NewStatuses(
            model_name="Content",
            name="status",
            field=fields.CharEnumField(
                default=ContentStatus.DRAFT,
                description="DRAFT: draft\nIN_REVIEW: in_review\nSCHEDULED: scheduled\nPUBLISHED: published\nARCHIVED: archived\nKILLED: killed\nEXPIRED: expired",
                enum_type=ContentStatus,
                max_length=16,
            ),
        ),
        ops.AddField(
            model_name="Content",
            name="announce_expiry_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Content",
            name="expires_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Content",
            name="pinned_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Content",
            name="pinned_until",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Content",
            name="submitted_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name="Content",
            index=Index(fields=["announce_expiry_at"], name="content_announce_expiry_idx"),
        ),
        ops.AddIndex(
            model_name="Content",
            index=Index(fields=["expires_at"], name="content_expires_idx"),
        ),
        ops.AddIndex(
            model_name="Content",
            index=Index(fields=["pinned_at"], name="content_pinned_idx"),
        ),
        ops.AddIndex(
            model_name="Content",
            index=Index(fields=["pinned_until"], name="content_pinned_until_idx"),
        ),
        ops.AddIndex(
            model_name="Content",
            index=Index(fields=["submitted_at", "id"], name="content_submitted_idx"),
        ),
        ops.AddField(
            model_name="Revision",
            name="note",
            field=fields.TextField(null=True, unique=False),
        ),
    ]
