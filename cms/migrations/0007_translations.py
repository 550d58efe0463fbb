from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint


class Migration(migrations.Migration):
    dependencies = [("models", "0006_desk_workflow")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Content",
            name="story_id",
            field=fields.IntField(null=True),
        ),
        ops.AddConstraint(
            model_name="Content",
            constraint=UniqueConstraint(fields=("story_id", "locale"), name=None),
        ),
    ]
