from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0002_live_feed_and_webhooks")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Content",
            name="first_published_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Items published before this field existed: their current publication time is
        # the best record of their first one.
        ops.RunSQL(
            "UPDATE content SET first_published_at = published_at "
            "WHERE published_at IS NOT NULL AND status IN ('published', 'archived')",
            reverse_sql="UPDATE content SET first_published_at = NULL",
        ),
    ]
