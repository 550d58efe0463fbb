"""A worker reads the outbox since it last looked and bumps what each change invalidates."""

from __future__ import annotations

from cms import clock
from cms.cache import tags
from cms.cache.changes import Changes
from cms.cache.stores import MemoryStore
from cms.cache.versions import TagVersions
from tests import factories


async def test_a_worker_applies_every_event_since_it_last_looked(db: None) -> None:
    versions = TagVersions(MemoryStore(max_bytes=1000))
    changes = Changes(versions, refresh_seconds=3600, batch=1)
    await changes.catch_up()  # the first look: where this worker starts
    stories = [
        await factories.make_article(slug=f"s{n}", published_at=clock.utcnow()) for n in range(3)
    ]

    await changes.catch_up()  # not yet time to look again
    _, before = await versions.read([tags.FEED])
    await changes.catch_up(force=True)  # after a write: look now, a batch at a time

    _, after = await versions.read([tags.FEED, *(tags.item(story.id) for story in stories)])
    assert before == [0]
    assert after == [3, 2, 2, 2]  # each created (a draft), then published
