"""A worker reads the outbox since it last looked and bumps what each change invalidates."""

from __future__ import annotations

from typing import Any

import pytest

from cms import clock
from cms.cache import changes as changes_module
from cms.cache import tags
from cms.cache.changes import Changes
from cms.cache.stores import MemoryStore
from cms.cache.versions import TagVersions
from cms.models import OutboxEvent
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


async def _late_writer(changes: Changes, *, content_id: int) -> tuple[int, int]:
    """Two writers: the one given the higher outbox id commits first, and a look happens
    in between. The ids: (the early committer's, the late one's)."""
    await changes.catch_up()
    newest = await OutboxEvent.all().order_by("-id").first()
    assert newest is not None
    first, late = newest.id + 2, newest.id + 1
    await OutboxEvent.create(id=first, content_id=content_id, occurred_at=clock.utcnow(), **_EDIT)
    await changes.catch_up(force=True)
    await changes.catch_up(force=True)  # the late one is looked for again, still not there
    return first, late


_EDIT: dict[str, Any] = {"type": "CONTENT_UPDATED", "payload": {"status": "draft"}}


async def test_an_event_committed_after_a_newer_one_is_still_applied(db: None) -> None:
    versions = TagVersions(MemoryStore(max_bytes=1000))
    changes = Changes(versions, refresh_seconds=3600)
    story = await factories.make_article(slug="late")
    _, late = await _late_writer(changes, content_id=story.id)
    _, before = await versions.read([tags.item(story.id + 1)])

    await OutboxEvent.create(id=late, content_id=story.id + 1, occurred_at=clock.utcnow(), **_EDIT)
    await changes.catch_up(force=True)

    _, after = await versions.read([tags.item(story.id + 1)])
    assert (before, after) == ([0], [1])


async def test_an_id_never_committed_is_forgotten(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes_module, "GAP_SECONDS", 0.0)
    monkeypatch.setattr(changes_module, "MAX_GAPS", 3)
    versions = TagVersions(MemoryStore(max_bytes=1000))
    changes = Changes(versions, refresh_seconds=3600)
    story = await factories.make_article(slug="rolled-back")
    first, late = await _late_writer(changes, content_id=story.id)  # forgotten by now
    far = first + 10  # a jump wider than the gaps remembered: not remembered at all
    await OutboxEvent.create(id=far, content_id=story.id, occurred_at=clock.utcnow(), **_EDIT)
    await changes.catch_up(force=True)

    for id in (late, far - 1):  # what commits after being given up on is not applied
        await OutboxEvent.create(id=id, content_id=id, occurred_at=clock.utcnow(), **_EDIT)
    await changes.catch_up(force=True)

    _, moved = await versions.read([tags.item(late), tags.item(far - 1)])
    assert moved == [0, 0]
