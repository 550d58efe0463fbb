"""The write engine, called directly: create and update (cms.content.editing) commit the
row, a Revision and an outbox event together, check versions, retry a lost race a bounded
number of times, keep authors to their own drafts and make externalId creates idempotent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from cms.auth import policy, tokens
from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.content import editing, inputs, lookups, publishing
from cms.content.records import ContentRecord
from cms.errors import Conflict, Forbidden, Invalid, Unauthenticated
from cms.events import outbox
from cms.models import Author, Content, ContentKind, ContentStatus, OutboxEvent, Revision, Tag
from tests import factories

ARTICLE = ContentKind.ARTICLE
VIDEO = ContentKind.VIDEO_EPISODE
UPDATED = outbox.EventType.UPDATED.value


async def _viewer(name: str, role: Role) -> Viewer:
    """The viewer of a real token, as a request carrying its secret would get it."""
    _, secret = await tokens.create(name=name, role=role)
    return await tokens.verify(secret=secret)


@pytest.fixture
async def editor(db: None) -> Viewer:
    return await _viewer("desk-editor", Role.EDITOR)


async def _history(content_id: int) -> tuple[list[int], list[str]]:
    """The item's revision versions and outbox event types, oldest first."""
    versions = await (
        Revision.filter(content_id=content_id).order_by("version").values_list("version", flat=True)
    )
    events = await (
        OutboxEvent.filter(content_id=content_id).order_by("id").values_list("type", flat=True)
    )
    return list(versions), list(events)


async def _article(
    viewer: Viewer,
    title: str = "Before",
    include: lookups.Include = lookups.EVERYTHING,
    **values: Any,
) -> ContentRecord:
    data = inputs.ContentInput(title=title, body="First *draft*.", **values)
    return await editing.create(
        kind=ARTICLE,
        data=data,
        viewer=viewer,
        default_locale=factories.DEFAULT_LOCALE,
        include=include,
    )


# --- create -------------------------------------------------------------------------


async def test_create_makes_a_draft_at_version_1_with_its_revision_and_event(
    editor: Viewer,
) -> None:
    await factories.make_section(slug="war")
    await factories.make_author(slug="iryna-zavolska")
    await factories.make_author(slug="news-desk")
    data = inputs.ContentInput(
        title="  Volunteers rebuild the library  ",
        dek="A district comes together.",
        body="Word " * 500,
        section_slug="war",
        author_slugs=["news-desk", "iryna-zavolska"],
        tag_slugs=["kharkiv", "culture"],
    )

    content = await editing.create(
        kind=ARTICLE, data=data, viewer=editor, default_locale=factories.DEFAULT_LOCALE
    )

    stored = await Content.get(id=content.id)
    assert (stored.kind, stored.status, stored.version) == (ARTICLE, ContentStatus.DRAFT, 1)
    assert (stored.title, stored.slug, stored.locale) == (
        "Volunteers rebuild the library",
        "volunteers-rebuild-the-library",
        "en",
    )
    assert stored.published_at is None
    assert stored.reading_time_minutes == 3  # 500 words
    assert stored.created_by_token_id == editor.token_id  # type: ignore[attr-defined]
    (revision,) = await Revision.filter(content_id=content.id)
    assert (revision.version, revision.title, revision.created_by) == (
        1,
        "Volunteers rebuild the library",
        "desk-editor",
    )
    author_ids = {a.slug: a.id for a in await Author.all()}
    tag_ids = {t.slug: t.id for t in await Tag.all()}
    assert revision.snapshot["author_ids"] == [
        author_ids["news-desk"],
        author_ids["iryna-zavolska"],
    ]
    assert revision.snapshot["tag_ids"] == [tag_ids["kharkiv"], tag_ids["culture"]]
    assert revision.snapshot["status"] == "draft"
    (event,) = await OutboxEvent.filter(content_id=content.id)
    assert event.type == UPDATED
    assert event.dispatched_at is None
    assert event.payload == {
        "id": content.id,
        "kind": "article",
        "status": "draft",
        "version": 1,
        "slug": "volunteers-rebuild-the-library",
        "title": "Volunteers rebuild the library",
        "published_at": None,
        "expires_at": None,
        "story_id": None,
        "changed": ["author_ids", "tag_ids"],  # what the write set: for the response cache
    }


async def test_a_write_answers_with_the_saved_record_and_the_parts_include_asks_for(
    editor: Viewer,
) -> None:
    await factories.make_section(slug="war")
    await factories.make_author(slug="news-desk")
    data = inputs.ContentInput(
        title="Shelling in Kharkiv",
        body="The *report*.",
        section_slug="war",
        author_slugs=["news-desk"],
        tag_slugs=["kharkiv"],
    )

    bare = await _article(editor, title="Bare", include=lookups.NOTHING)
    full = await editing.create(
        kind=ARTICLE, data=data, viewer=editor, default_locale="en", include=lookups.EVERYTHING
    )
    updated = await editing.update(
        id=full.id,
        kind=ARTICLE,
        data=inputs.ContentInput(title="Shelling in Kharkiv: the morning after"),
        viewer=editor,
        include=lookups.Include(tags=True),
    )

    assert (bare.title, bare.version, bare.body, bare.authors, bare.tags) == (
        "Bare", 1, None, [], []
    )  # fmt: skip
    assert (full.body, full.section and full.section.slug) == ("The *report*.", "war")
    assert ([a.slug for a in full.authors], [t.slug for t in full.tags]) == (
        ["news-desk"],
        ["kharkiv"],
    )
    assert (updated.title, updated.version) == ("Shelling in Kharkiv: the morning after", 2)
    assert (updated.section, updated.authors, [t.slug for t in updated.tags]) == (
        None,
        [],
        ["kharkiv"],
    )
    assert updated.section_id == full.section_id is not None


async def test_create_of_a_video_episode_keeps_its_own_fields(editor: Viewer) -> None:
    data = inputs.ContentInput(
        title="Newsroom Weekly",
        video_url="https://video.example/weekly.mp4",
        duration_seconds=600,
        show="Newsroom Weekly",
        episode_number=12,
        locale="uk-UA",
    )

    content = await editing.create(
        kind=VIDEO, data=data, viewer=editor, default_locale=factories.DEFAULT_LOCALE
    )

    stored = await Content.get(id=content.id)
    assert stored.kind == VIDEO
    assert (stored.video_url, stored.duration_seconds, stored.show, stored.episode_number) == (
        "https://video.example/weekly.mp4",
        600,
        "Newsroom Weekly",
        12,
    )
    assert (stored.locale, stored.body) == ("uk-UA", None)
    assert await _history(content.id) == ([1], [UPDATED])


async def test_create_without_a_locale_takes_the_default_locale_it_is_given(
    editor: Viewer,
) -> None:
    unset = inputs.ContentInput(title="Звіт з Харкова")
    null = inputs.ContentInput(title="Звіт з Києва", locale=None)
    given = inputs.ContentInput(title="Report from Kharkiv", locale="en")

    made = [
        await editing.create(kind=ARTICLE, data=data, viewer=editor, default_locale="uk")
        for data in (unset, null, given)
    ]

    stored = [await Content.get(id=content.id) for content in made]
    assert [content.locale for content in stored] == ["uk", "uk", "en"]


async def test_a_create_that_fails_leaves_nothing_behind(editor: Viewer) -> None:
    """Tags named by the input are created inside the write transaction: when the
    insert then fails (a chosen slug is taken), they go with it."""
    await _article(editor, title="Taken", slug="taken")

    with pytest.raises(Invalid) as refused:
        await _article(editor, title="Another", slug="taken", tag_slugs=["brand-new"])

    assert refused.value.field == "slug"
    assert await Content.all().count() == 1
    assert not await Tag.filter(slug="brand-new").exists()
    assert await Revision.all().count() == 1
    assert await OutboxEvent.all().count() == 1


# --- update -------------------------------------------------------------------------


async def test_update_with_the_expected_version_bumps_it_and_records_a_revision(
    editor: Viewer,
) -> None:
    content = await _article(editor, dek="Kept as it was.")

    updated = await editing.update(
        id=content.id,
        kind=ARTICLE,
        data=inputs.ContentInput(title="After", tag_slugs=["kharkiv"]),
        viewer=editor,
        expected_version=1,
    )

    assert (updated.id, updated.version, updated.title) == (content.id, 2, "After")
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.title, stored.dek) == (2, "After", "Kept as it was.")
    assert stored.slug == content.slug  # a new title does not move the slug
    assert await _history(content.id) == ([1, 2], [UPDATED, UPDATED])
    latest = await Revision.get(content_id=content.id, version=2)
    assert latest.title == "After"
    assert latest.snapshot["dek"] == "Kept as it was."
    assert latest.snapshot["tag_ids"] == [(await Tag.get(slug="kharkiv")).id]
    event = await OutboxEvent.filter(content_id=content.id).order_by("-id").first()
    assert event is not None
    assert (event.payload["version"], event.payload["title"]) == (2, "After")


async def test_a_stale_expected_version_is_a_conflict_carrying_the_current_version(
    editor: Viewer,
) -> None:
    content = await _article(editor)
    await editing.update(
        id=content.id, kind=ARTICLE, data=inputs.ContentInput(title="Second"), viewer=editor
    )

    with pytest.raises(Conflict) as conflict:
        await editing.update(
            id=content.id,
            kind=ARTICLE,
            data=inputs.ContentInput(title="From version 1"),
            viewer=editor,
            expected_version=1,
        )

    assert conflict.value.current_version == 2
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.title) == (2, "Second")
    assert await _history(content.id) == ([1, 2], [UPDATED, UPDATED])


async def test_a_failed_update_changes_nothing_not_even_new_tags(editor: Viewer) -> None:
    await _article(editor, title="Other", slug="taken")
    content = await _article(editor)

    with pytest.raises(Invalid) as refused:
        await editing.update(
            id=content.id,
            kind=ARTICLE,
            data=inputs.ContentInput(title="Renamed", slug="taken", tag_slugs=["brand-new"]),
            viewer=editor,
        )

    assert refused.value.field == "slug"
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.title) == (1, "Before")
    assert not await Tag.filter(slug="brand-new").exists()
    assert await _history(content.id) == ([1], [UPDATED])


# --- concurrency --------------------------------------------------------------------

WRITERS = 5


async def test_concurrent_updates_expecting_one_version_let_exactly_one_win(
    editor: Viewer,
) -> None:
    content = await _article(editor)

    results = await asyncio.gather(
        *(
            editing.update(
                id=content.id,
                kind=ARTICLE,
                data=inputs.ContentInput(title=f"Edit {n}"),
                viewer=editor,
                expected_version=1,
            )
            for n in range(WRITERS)
        ),
        return_exceptions=True,
    )

    winners = [result for result in results if isinstance(result, ContentRecord)]
    conflicts = [result for result in results if isinstance(result, Conflict)]
    assert (len(winners), len(conflicts)) == (1, WRITERS - 1), results
    assert [conflict.current_version for conflict in conflicts] == [2] * (WRITERS - 1)
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.title) == (2, winners[0].title)
    assert await _history(content.id) == ([1, 2], [UPDATED, UPDATED])


async def test_concurrent_updates_without_an_expected_version_are_all_saved(
    editor: Viewer,
) -> None:
    content = await _article(editor)

    results = await asyncio.gather(
        *(
            editing.update(
                id=content.id,
                kind=ARTICLE,
                data=inputs.ContentInput(dek=f"Edit {n}"),
                viewer=editor,
            )
            for n in range(WRITERS)
        )
    )

    assert sorted(result.version for result in results) == list(range(2, WRITERS + 2))
    revisions = await Revision.filter(content_id=content.id, version__gt=1)
    assert {r.version: r.snapshot["dek"] for r in revisions} == {
        result.version: result.dek for result in results
    }
    assert (await Content.get(id=content.id)).version == WRITERS + 1


def _racing_writer(*, races: int) -> tuple[list[int], Any]:
    """A change that, on its first `races` calls, moves the row's version on inside the
    transaction before the versioned UPDATE: that UPDATE then matches no row, exactly as
    when another writer commits first. Returns the list of versions each call saw."""
    seen: list[int] = []

    async def change(current: Content, connection: BaseDBAsyncClient) -> editing.Change:
        seen.append(current.version)
        if len(seen) > 100:
            raise AssertionError("save kept retrying: the retry is not bounded")
        if len(seen) <= races:
            await (
                Content.filter(id=current.id).using_db(connection).update(version=F("version") + 1)
            )
        return editing.Change({"title": f"Attempt {len(seen)}"})

    return seen, change


async def test_a_lost_race_is_retried_and_then_saved(editor: Viewer) -> None:
    content = await _article(editor)
    seen, change = _racing_writer(races=1)

    saved = await editing.save(
        id=content.id,
        viewer=editor,
        action=policy.Action.EDIT_CONTENT,
        expected_version=None,
        change=change,
    )

    assert seen == [1, 1]  # the lost attempt rolled back; the retry read version 1 again
    assert (saved.version, saved.title) == (2, "Attempt 2")
    assert await _history(content.id) == ([1, 2], [UPDATED, UPDATED])


async def test_a_race_lost_on_every_attempt_ends_in_a_conflict_and_changes_nothing(
    editor: Viewer,
) -> None:
    content = await _article(editor)
    seen, change = _racing_writer(races=1_000)

    with pytest.raises(Conflict) as conflict:
        await editing.save(
            id=content.id,
            viewer=editor,
            action=policy.Action.EDIT_CONTENT,
            expected_version=None,
            change=change,
        )

    assert len(seen) > 1  # it retried, and gave up on its own
    assert conflict.value.current_version is None
    assert "too fast" in conflict.value.message
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.title) == (1, "Before")
    assert await _history(content.id) == ([1], [UPDATED])


async def test_with_an_expected_version_a_lost_race_is_a_conflict_without_a_retry(
    editor: Viewer,
) -> None:
    content = await _article(editor)
    seen, change = _racing_writer(races=1)

    with pytest.raises(Conflict) as conflict:
        await editing.save(
            id=content.id,
            viewer=editor,
            action=policy.Action.EDIT_CONTENT,
            expected_version=1,
            change=change,
        )

    assert seen == [1]
    assert conflict.value.current_version == 2  # what the losing writer found
    assert (await Content.get(id=content.id)).version == 1
    assert await _history(content.id) == ([1], [UPDATED])


# --- who may write ------------------------------------------------------------------


async def test_an_author_edits_its_own_drafts_only(db: None) -> None:
    mine = await _viewer("author-one", Role.AUTHOR)
    theirs = await _viewer("author-two", Role.AUTHOR)
    content = await _article(mine)
    patch = inputs.ContentInput(title="Rewritten")

    with pytest.raises(Forbidden):
        await editing.update(id=content.id, kind=ARTICLE, data=patch, viewer=theirs)
    own = await editing.update(id=content.id, kind=ARTICLE, data=patch, viewer=mine)
    await publishing.publish(id=content.id, viewer=factories.ADMIN_VIEWER)
    with pytest.raises(Forbidden):
        await editing.update(
            id=content.id, kind=ARTICLE, data=inputs.ContentInput(title="Late"), viewer=mine
        )

    assert own.version == 2
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.title) == (3, "Rewritten")
    assert await _history(content.id) == (
        [1, 2, 3],
        [UPDATED, UPDATED, outbox.EventType.PUBLISHED.value],
    )


async def test_readers_may_not_create(db: None) -> None:
    reader = await _viewer("reader", Role.VIEWER)

    with pytest.raises(Forbidden):
        await _article(reader)
    with pytest.raises(Unauthenticated):
        await _article(ANONYMOUS)

    assert await Content.all().count() == 0


# --- externalId ---------------------------------------------------------------------


async def test_a_second_create_with_the_same_external_id_returns_the_first(
    editor: Viewer,
) -> None:
    first = await _article(editor, title="From the wire", external_id="wire-1")

    again = await _article(editor, title="From the wire, retried", external_id="wire-1")

    assert again.id == first.id
    assert (again.title, again.version) == ("From the wire", 1)
    assert await Content.filter(external_id="wire-1").count() == 1
    assert await _history(first.id) == ([1], [UPDATED])


@pytest.mark.parametrize("padded", ["wire-1 ", " wire-1", "\twire-1\n"])
async def test_a_retry_with_a_padded_external_id_finds_the_item(
    editor: Viewer, padded: str
) -> None:
    """The externalId is stored trimmed, and looked up as it is stored: a padded retry is
    the same item (it crashed on the unique constraint before)."""
    first = await _article(editor, title="From the wire", external_id=padded)

    again = await _article(editor, title="From the wire", external_id=padded)
    plain = await _article(editor, title="From the wire", external_id="wire-1")

    assert again.id == first.id == plain.id
    assert await Content.filter(external_id="wire-1").count() == 1


async def test_concurrent_creates_with_one_external_id_make_one_row(editor: Viewer) -> None:
    results = await asyncio.gather(
        *(_article(editor, title=f"Try {n}", external_id="wire-2") for n in range(WRITERS))
    )

    assert len({result.id for result in results}) == 1
    assert await Content.all().count() == 1
    assert await Revision.all().count() == 1
    assert await OutboxEvent.all().count() == 1


async def test_an_external_id_belongs_to_one_kind_and_never_changes(editor: Viewer) -> None:
    article = await _article(editor, external_id="wire-3")

    with pytest.raises(Invalid) as other_kind:
        await editing.create(
            kind=VIDEO,
            data=inputs.ContentInput(
                title="Clip", video_url="https://video.example/a.mp4", external_id="wire-3"
            ),
            viewer=editor,
            default_locale=factories.DEFAULT_LOCALE,
        )
    with pytest.raises(Invalid) as changed:
        await editing.update(
            id=article.id,
            kind=ARTICLE,
            data=inputs.ContentInput(external_id="wire-4"),
            viewer=editor,
        )

    assert (other_kind.value.field, changed.value.field) == ("externalId", "externalId")
    assert await Content.all().count() == 1
    assert (await Content.get(id=article.id)).external_id == "wire-3"


# --- invalid input ------------------------------------------------------------------

INVALID_ARTICLES = {
    "empty title": ({"title": "   "}, "title"),
    "long title": ({"title": "x" * 301}, "title"),
    "bad slug": ({"slug": "Not A Slug"}, "slug"),
    "bad locale": ({"locale": "English"}, "locale"),
    "unknown section": ({"section_slug": "nowhere"}, "sectionSlug"),
    "unknown author": ({"author_slugs": ["nobody"]}, "authorSlugs"),
    "bad tag": ({"tag_slugs": ["Bad Tag"]}, "tagSlugs"),
    "unknown hero image": ({"hero_image_id": 999_999}, "heroImageId"),
    "empty external id": ({"external_id": "  "}, "externalId"),
    "long dek": ({"dek": "x" * 1_001}, "dek"),
}
INVALID_VIDEO_EPISODES = {
    "no video url": ({"video_url": None}, "videoUrl"),
    "ftp video url": ({"video_url": "ftp://video.example/a.mp4"}, "videoUrl"),
    "negative duration": ({"duration_seconds": -1}, "durationSeconds"),
    "negative episode": ({"episode_number": -1}, "episodeNumber"),
}


@pytest.mark.parametrize(
    ("values", "field"), list(INVALID_ARTICLES.values()), ids=list(INVALID_ARTICLES)
)
async def test_invalid_article_input_names_the_field(
    editor: Viewer, values: dict[str, Any], field: str
) -> None:
    data = inputs.ContentInput(**({"title": "A title"} | values))

    with pytest.raises(Invalid) as refused:
        await editing.create(
            kind=ARTICLE, data=data, viewer=editor, default_locale=factories.DEFAULT_LOCALE
        )

    assert refused.value.field == field
    assert await Content.all().count() == 0
    assert await OutboxEvent.all().count() == 0


@pytest.mark.parametrize(
    ("values", "field"), list(INVALID_VIDEO_EPISODES.values()), ids=list(INVALID_VIDEO_EPISODES)
)
async def test_invalid_video_episode_input_names_the_field(
    editor: Viewer, values: dict[str, Any], field: str
) -> None:
    data = inputs.ContentInput(
        **({"title": "A clip", "video_url": "https://video.example/a.mp4"} | values)
    )

    with pytest.raises(Invalid) as refused:
        await editing.create(
            kind=VIDEO, data=data, viewer=editor, default_locale=factories.DEFAULT_LOCALE
        )

    assert refused.value.field == field
    assert await Content.all().count() == 0


async def test_an_invalid_update_names_the_field_and_changes_nothing(editor: Viewer) -> None:
    content = await _article(editor)

    with pytest.raises(Invalid) as refused:
        await editing.update(
            id=content.id,
            kind=ARTICLE,
            data=inputs.ContentInput(dek="Fine", section_slug="nowhere"),
            viewer=editor,
        )

    assert refused.value.field == "sectionSlug"
    stored = await Content.get(id=content.id)
    assert (stored.version, stored.dek) == (1, None)
    assert await _history(content.id) == ([1], [UPDATED])
