from tortoise import migrations
from tortoise.migrations import operations as ops

from cms.content import search


async def build_index(apps: object, schema_editor: object) -> None:
    # The full-text index (cms.content.search) and, for existing databases, its rows.
    client = schema_editor.client  # type: ignore[attr-defined]
    await search.create_index(client)
    await search.reindex(client)


async def drop_index(apps: object, schema_editor: object) -> None:
    client = schema_editor.client  # type: ignore[attr-defined]
    await search.drop_index(client)


class Migration(migrations.Migration):
    dependencies = [("models", "0003_first_published_at")]

    initial = False

    operations = [ops.RunPython(build_index, drop_index)]
