"""The publishing actions, called directly (cms.content.publishing): each is one versioned
change that writes exactly one revision and one outbox event of the right type, and the
clock alone makes a scheduled item public."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cms import clock
from cms.auth import tokens
from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.content import editing, feed, inputs, items, publishing, visibility
from cms.content.records import ContentRecord
from cms.errors import Conflict, Forbidden, Invalid, NotFound
from cms.events import outbox
from cms.models import (
    Content,
    ContentAuthor,
    ContentKind,
    ContentStatus,
    ContentTag,
    OutboxEvent,
    Revision,
)
from tests import factories

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
PUBLISHED = outbox.EventType.PUBLISHED.value
UPDATED = outbox.EventType.UPDATED.value
UNPUBLISHED = outbox.EventType.UNPUBLISHED.value
DELETED = outbox.EventType.DELETED.value
EDITOR = Viewer(name="desk-editor", role=Role.EDITOR)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    with clock.frozen(NOW) as now:
        yield now


async def _draft(title: str = "Embargoed report", **values: object) -> ContentRecord:
    data = inputs.ContentInput(title=title, body="The *report*.", **values)
    return await editing.create(
        kind=ContentKind.ARTICLE, data=data, viewer=EDITOR, default_locale=factories.DEFAULT_LOCALE
    )


async def _history(content_id: int) -> tuple[list[int], list[str]]:
    """The item's revision versions and outbox event types, oldest first."""
    versions = await (
        Revision.filter(content_id=content_id).order_by("version").values_list("version", flat=True)
    )
    events = await (
        OutboxEvent.filter(content_id=content_id).order_by("id").values_list("type", flat=True)
    )
    return list(versions), list(events)


async def _feed_ids(now: datetime) -> list[int]:
    page = await feed.feed(now=now, first=10)
    return [record.id for record in page.items]


async def _anonymous_sees(content_id: int) -> bool:
    """Whether an anonymous reader can read the item by the clock's current time."""
    return await items.by_id(id=content_id, viewer=ANONYMOUS, now=clock.utcnow()) is not None


# --- every action: one version, one revision, one event ------------------------------

Action = Callable[[int], Awaitable[ContentRecord]]
ACTIONS: dict[str, tuple[bool, Action, ContentStatus, str]] = {
    # name: (starts published?, action, status readers see at NOW, event recorded)
    "publish now": (
        False,
        lambda id: publishing.publish(id=id, viewer=EDITOR),
        ContentStatus.PUBLISHED,
        PUBLISHED,
    ),
    "publish later": (
        False,
        lambda id: publishing.publish(id=id, viewer=EDITOR, at=NOW + timedelta(hours=2)),
        ContentStatus.SCHEDULED,
        UPDATED,
    ),
    "publish back-dated": (
        False,
        lambda id: publishing.publish(id=id, viewer=EDITOR, at=NOW - timedelta(days=2)),
        ContentStatus.PUBLISHED,
        PUBLISHED,
    ),
    "unpublish a public item": (
        True,
        lambda id: publishing.unpublish(id=id, viewer=EDITOR),
        ContentStatus.DRAFT,
        UNPUBLISHED,
    ),
    "unpublish a draft": (
        False,
        lambda id: publishing.unpublish(id=id, viewer=EDITOR),
        ContentStatus.DRAFT,
        UPDATED,
    ),
    "archive a public item": (
        True,
        lambda id: publishing.archive(id=id, viewer=EDITOR),
        ContentStatus.ARCHIVED,
        UNPUBLISHED,
    ),
    "archive a draft": (
        False,
        lambda id: publishing.archive(id=id, viewer=EDITOR),
        ContentStatus.ARCHIVED,
        UPDATED,
    ),
}


@pytest.mark.parametrize(("published", "action", "status", "event"), ACTIONS.values(), ids=ACTIONS)
async def test_each_action_writes_one_version_one_revision_and_one_event(
    db: None, published: bool, action: Action, status: ContentStatus, event: str
) -> None:
    content = await _draft()
    if published:
        content = await publishing.publish(id=content.id, viewer=EDITOR)
    versions_before, events_before = await _history(content.id)

    saved = await action(content.id)

    assert saved.version == content.version + 1
    stored = await Content.get(id=content.id)
    assert stored.version == saved.version
    assert visibility.status_at(stored, NOW) == status
    assert await _history(content.id) == (
        versions_before + [saved.version],
        events_before + [event],
    )
    revision = await Revision.get(content_id=content.id, version=saved.version)
    assert revision.snapshot["status"] == stored.status.value
    (recorded,) = await OutboxEvent.filter(content_id=content.id).order_by("-id").limit(1)
    assert (recorded.payload["version"], recorded.payload["status"]) == (
        saved.version,
        stored.status.value,
    )
    assert recorded.occurred_at == NOW


# --- publishing ---------------------------------------------------------------------


async def test_publish_now_makes_the_item_public_at_the_clocks_time(db: None) -> None:
    content = await _draft()
    assert not await _anonymous_sees(content.id)

    published = await publishing.publish(id=content.id, viewer=EDITOR)

    assert isinstance(published, ContentRecord)
    assert (published.status, published.published_at) == (ContentStatus.PUBLISHED, NOW)
    assert (await Content.get(id=content.id)).announce_at is None
    assert await _anonymous_sees(content.id)
    assert await _feed_ids(NOW) == [content.id]
    revision = await Revision.get(content_id=content.id, version=2)
    assert revision.snapshot["published_at"] == NOW.isoformat()


async def test_a_scheduled_item_becomes_public_when_the_clock_reaches_its_time(db: None) -> None:
    content = await _draft()
    at = NOW + timedelta(hours=2)

    scheduled = await publishing.publish(id=content.id, viewer=EDITOR, at=at)

    stored = await Content.get(id=content.id)
    assert (stored.status, stored.published_at, stored.announce_at) == (
        ContentStatus.PUBLISHED,
        at,
        at,  # the scheduler announces it (CONTENT_PUBLISHED) then
    )
    assert scheduled.version == 2
    assert not await _anonymous_sees(content.id)
    with clock.frozen(at - MICROSECOND):
        assert not await _anonymous_sees(content.id)
        assert await _feed_ids(clock.utcnow()) == []
    with clock.frozen(at):
        assert await _anonymous_sees(content.id)
        assert await _feed_ids(clock.utcnow()) == [content.id]
    # Nothing ran in between: the rule alone made it public.
    assert (await Content.get(id=content.id)).version == 2


async def test_a_back_dated_item_sorts_into_the_feed_at_its_time(db: None) -> None:
    newer = await factories.make_article(title="Newer", published_at=NOW - timedelta(hours=1))
    older = await factories.make_article(title="Older", published_at=NOW - timedelta(hours=3))
    content = await _draft()
    at = NOW - timedelta(hours=2)

    published = await publishing.publish(id=content.id, viewer=EDITOR, at=at)

    assert published.published_at == at
    assert await _feed_ids(NOW) == [newer.id, content.id, older.id]


async def test_a_publish_time_without_a_timezone_is_refused(db: None) -> None:
    content = await _draft()

    with pytest.raises(Invalid) as refused:
        await publishing.publish(id=content.id, viewer=EDITOR, at=datetime(2026, 3, 2, 12, 0))

    assert refused.value.field == "at"
    assert await _history(content.id) == ([1], [UPDATED])


async def test_publish_with_a_stale_expected_version_is_a_conflict(db: None) -> None:
    content = await _draft()
    await editing.update(
        id=content.id,
        kind=ContentKind.ARTICLE,
        data=inputs.ContentInput(dek="Edited"),
        viewer=EDITOR,
    )

    with pytest.raises(Conflict) as conflict:
        await publishing.publish(id=content.id, viewer=EDITOR, expected_version=1)

    assert conflict.value.current_version == 2
    assert (await Content.get(id=content.id)).status == ContentStatus.DRAFT
    assert await _history(content.id) == ([1, 2], [UPDATED, UPDATED])


async def test_withdrawing_a_scheduled_item_cancels_its_announcement(db: None) -> None:
    content = await _draft()
    await publishing.publish(id=content.id, viewer=EDITOR, at=NOW + timedelta(hours=2))

    await publishing.unpublish(id=content.id, viewer=EDITOR)

    stored = await Content.get(id=content.id)
    assert (stored.status, stored.announce_at) == (ContentStatus.DRAFT, None)
    with clock.frozen(NOW + timedelta(hours=3)):
        assert not await _anonymous_sees(content.id)


async def test_an_archived_item_keeps_its_time_but_leaves_every_public_read(db: None) -> None:
    content = await factories.make_article(published_at=NOW - timedelta(hours=1))

    archived = await publishing.archive(id=content.id, viewer=EDITOR)

    assert (archived.status, archived.published_at) == (
        ContentStatus.ARCHIVED,
        NOW - timedelta(hours=1),
    )
    assert not await _anonymous_sees(content.id)
    assert await _feed_ids(NOW) == []


# --- delete and restore -------------------------------------------------------------


async def test_delete_removes_the_item_and_its_history_and_records_one_event(db: None) -> None:
    await factories.make_author(slug="iryna-zavolska")
    content = await factories.make_article(
        authors=["iryna-zavolska"], tags=["kharkiv"], published_at=NOW - timedelta(hours=1)
    )

    deleted = await publishing.delete(id=content.id, viewer=EDITOR)

    assert deleted == content.id
    assert not await Content.filter(id=content.id).exists()
    assert await Revision.filter(content_id=content.id).count() == 0
    assert await ContentAuthor.filter(content_id=content.id).count() == 0
    assert await ContentTag.filter(content_id=content.id).count() == 0
    events = await OutboxEvent.filter(content_id=content.id).order_by("id")
    assert [event.type for event in events] == [UPDATED, PUBLISHED, DELETED]
    assert (events[-1].payload["id"], events[-1].payload["version"]) == (content.id, 2)
    with pytest.raises(NotFound):
        await publishing.delete(id=content.id, viewer=EDITOR)


async def test_restore_revision_writes_a_new_version_with_the_old_fields(db: None) -> None:
    await factories.make_section(slug="war")
    await factories.make_section(slug="culture")
    await factories.make_author(slug="iryna-zavolska")
    await factories.make_author(slug="news-desk")
    content = await _draft(
        title="Original",
        dek="First dek.",
        section_slug="war",
        author_slugs=["iryna-zavolska", "news-desk"],
        tag_slugs=["kharkiv"],
    )
    await editing.update(
        id=content.id,
        kind=ContentKind.ARTICLE,
        data=inputs.ContentInput(
            title="Edited",
            dek=None,
            body="Rewritten.",
            section_slug="culture",
            author_slugs=["news-desk"],
            tag_slugs=["opinion"],
        ),
        viewer=EDITOR,
    )
    await publishing.publish(id=content.id, viewer=EDITOR)
    first = await Revision.get(content_id=content.id, version=1)

    restored = await publishing.restore_revision(revision_id=first.id, viewer=EDITOR)

    assert (restored.id, restored.version) == (content.id, 4)
    stored = await Content.get(id=content.id).prefetch_related("section")
    assert (stored.title, stored.dek, stored.body) == ("Original", "First dek.", "The *report*.")
    assert stored.section is not None and stored.section.slug == "war"
    bylines = await ContentAuthor.filter(content_id=content.id).order_by("position")
    assert [b.author_id for b in bylines] == first.snapshot["author_ids"]  # type: ignore[attr-defined]
    tags = await ContentTag.filter(content_id=content.id)
    assert [t.tag_id for t in tags] == first.snapshot["tag_ids"]  # type: ignore[attr-defined]
    # Status and publication time are not content: the item stays published.
    assert (stored.status, stored.published_at) == (ContentStatus.PUBLISHED, NOW)
    # History only grows: the old revision is still there, and a new one copies it.
    assert await _history(content.id) == ([1, 2, 3, 4], [UPDATED, UPDATED, PUBLISHED, UPDATED])
    latest = await Revision.get(content_id=content.id, version=4)
    assert {name: latest.snapshot[name] for name in ("title", "dek", "body", "section_id")} == {
        name: first.snapshot[name] for name in ("title", "dek", "body", "section_id")
    }
    assert (latest.snapshot["author_ids"], latest.snapshot["tag_ids"]) == (
        first.snapshot["author_ids"],
        first.snapshot["tag_ids"],
    )


# --- refusals -----------------------------------------------------------------------


async def test_an_author_may_not_publish_withdraw_delete_or_restore(db: None) -> None:
    _, secret = await tokens.create(name="author-one", role=Role.AUTHOR)
    author = await tokens.verify(secret=secret)
    content = await editing.create(
        kind=ContentKind.ARTICLE,
        data=inputs.ContentInput(title="Mine"),
        viewer=author,
        default_locale=factories.DEFAULT_LOCALE,
    )
    (revision,) = await Revision.filter(content_id=content.id)

    refused: list[Callable[[], Awaitable[object]]] = [
        lambda: publishing.publish(id=content.id, viewer=author),
        lambda: publishing.unpublish(id=content.id, viewer=author),
        lambda: publishing.archive(id=content.id, viewer=author),
        lambda: publishing.delete(id=content.id, viewer=author),
        lambda: publishing.restore_revision(revision_id=revision.id, viewer=author),
    ]
    for action in refused:
        with pytest.raises(Forbidden):
            await action()

    stored = await Content.get(id=content.id)
    assert (stored.status, stored.version) == (ContentStatus.DRAFT, 1)
    assert await _history(content.id) == ([1], [UPDATED])


async def test_actions_on_what_does_not_exist_are_not_found(db: None) -> None:
    missing: list[Callable[[], Awaitable[object]]] = [
        lambda: publishing.publish(id=999_999, viewer=EDITOR),
        lambda: publishing.unpublish(id=999_999, viewer=EDITOR),
        lambda: publishing.archive(id=999_999, viewer=EDITOR),
        lambda: publishing.delete(id=999_999, viewer=EDITOR),
        lambda: publishing.restore_revision(revision_id=999_999, viewer=EDITOR),
    ]
    for action in missing:
        with pytest.raises(NotFound):
            await action()

    assert await OutboxEvent.all().count() == 0
