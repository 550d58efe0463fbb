"""The outbox: every content change records exactly one event, with the change and its
revision; a change that is refused records nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.auth import tokens
from cms.models import Content, OutboxEvent, Revision
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    error_code,
    gql,
    gql_data,
    pk_of,
)

UPDATED = "CONTENT_UPDATED"
PUBLISHED = "CONTENT_PUBLISHED"
UNPUBLISHED = "CONTENT_UNPUBLISHED"
DELETED = "CONTENT_DELETED"

RESULT = "{ __typename ... on Content { id version status } ...ErrorFields }"
CREATE_ARTICLE = (
    f"mutation M($input: ArticleInput!) {{ createArticle(input: $input) {RESULT} }}" + ERROR_FIELDS
)
CREATE_VIDEO_EPISODE = (
    f"mutation M($input: VideoEpisodeInput!) {{ createVideoEpisode(input: $input) {RESULT} }}"
    + ERROR_FIELDS
)
UPDATE_ARTICLE = (
    "mutation M($id: ID!, $input: ArticlePatch!, $expectedVersion: Int) "
    f"{{ updateArticle(id: $id, input: $input, expectedVersion: $expectedVersion) {RESULT} }}"
    + ERROR_FIELDS
)
UPDATE_VIDEO_EPISODE = (
    "mutation M($id: ID!, $input: VideoEpisodePatch!) "
    f"{{ updateVideoEpisode(id: $id, input: $input) {RESULT} }}" + ERROR_FIELDS
)
PUBLISH = f"mutation M($id: ID!, $at: DateTime) {{ publish(id: $id, at: $at) {RESULT} }}" + (
    ERROR_FIELDS
)
UNPUBLISH = f"mutation M($id: ID!) {{ unpublish(id: $id) {RESULT} }}" + ERROR_FIELDS
ARCHIVE = f"mutation M($id: ID!) {{ archive(id: $id) {RESULT} }}" + ERROR_FIELDS
RESTORE_REVISION = f"mutation M($id: ID!) {{ restoreRevision(id: $id) {RESULT} }}" + ERROR_FIELDS
DELETE_CONTENT = "mutation M($id: ID!) { deleteContent(id: $id) { __typename } }"
REVISIONS = "query R($id: ID!) { node(id: $id) { ... on Content { revisions { id version } } } }"


@dataclass
class Desk:
    client: httpx.AsyncClient
    editor: str
    author: str


@pytest.fixture
async def desk(client: httpx.AsyncClient, db: None) -> Desk:
    _, editor = await tokens.create(name="desk-editor", role="editor")
    _, author = await tokens.create(name="desk-author", role="author")
    return Desk(client, editor, author)


def _hours(hours: float) -> str:
    return (clock.utcnow() + timedelta(hours=hours)).isoformat()


async def _draft(desk: Desk) -> str:
    return str((await api_article(desk.client, desk.editor, title="A draft"))["id"])


async def _public(desk: Desk) -> str:
    id = await _draft(desk)
    await api_publish(desk.client, desk.editor, id)
    return id


async def _scheduled(desk: Desk) -> str:
    id = await _draft(desk)
    await api_publish(desk.client, desk.editor, id, _hours(24))
    return id


async def _episode(desk: Desk) -> str:
    return str((await api_video_episode(desk.client, desk.editor))["id"])


async def _edited(desk: Desk) -> str:
    id = await _draft(desk)
    await gql_data(
        desk.client, UPDATE_ARTICLE, {"id": id, "input": {"title": "Edited"}}, desk.editor
    )
    return id


Arrange = Callable[[Desk], Awaitable[str | None]]


async def _nothing(desk: Desk) -> None:
    return None


async def _first_revision(desk: Desk, id: str) -> str:
    data = await gql_data(desk.client, REVISIONS, {"id": id}, desk.editor)
    return str(data["node"]["revisions"][-1]["id"])


# (what exists first, the mutation, its variables given that item's id, the event type)
ACTIONS: dict[str, tuple[Arrange, str, Callable[[str | None], dict[str, Any]], str]] = {
    "createArticle": (
        _nothing, CREATE_ARTICLE, lambda _: {"input": {"title": "New"}}, UPDATED,
    ),
    "createVideoEpisode": (
        _nothing, CREATE_VIDEO_EPISODE,
        lambda _: {"input": {"title": "New", "videoUrl": "https://v.example/1"}}, UPDATED,
    ),
    "updateArticle of a draft": (
        _draft, UPDATE_ARTICLE, lambda id: {"id": id, "input": {"title": "Changed"}}, UPDATED,
    ),
    "updateArticle of a public item": (
        _public, UPDATE_ARTICLE, lambda id: {"id": id, "input": {"title": "Changed"}}, UPDATED,
    ),
    "updateVideoEpisode": (
        _episode, UPDATE_VIDEO_EPISODE, lambda id: {"id": id, "input": {"show": "Weekly"}},
        UPDATED,
    ),
    "publish now": (_draft, PUBLISH, lambda id: {"id": id}, PUBLISHED),
    "publish back-dated": (_draft, PUBLISH, lambda id: {"id": id, "at": _hours(-24)}, PUBLISHED),
    # A scheduled item is not public yet: its CONTENT_PUBLISHED is the scheduler's to emit
    # at its time (publishing.py), so scheduling records an update.
    "publish in the future": (_draft, PUBLISH, lambda id: {"id": id, "at": _hours(24)}, UPDATED),
    "unpublish a public item": (_public, UNPUBLISH, lambda id: {"id": id}, UNPUBLISHED),
    "archive a public item": (_public, ARCHIVE, lambda id: {"id": id}, UNPUBLISHED),
    "unpublish a scheduled item": (_scheduled, UNPUBLISH, lambda id: {"id": id}, UPDATED),
    "archive a draft": (_draft, ARCHIVE, lambda id: {"id": id}, UPDATED),
    "deleteContent": (_public, DELETE_CONTENT, lambda id: {"id": id}, DELETED),
}  # fmt: skip


@pytest.mark.parametrize(
    ("arrange", "document", "variables", "event_type"),
    [pytest.param(*row, id=name) for name, row in ACTIONS.items()],
)
async def test_each_content_mutation_records_exactly_one_event(
    desk: Desk,
    arrange: Arrange,
    document: str,
    variables: Callable[[str | None], dict[str, Any]],
    event_type: str,
) -> None:
    target = await arrange(desk)
    last = await OutboxEvent.all().order_by("-id").first()
    revisions_before = await Revision.all().count()

    data = await gql_data(desk.client, document, variables(target), desk.editor)

    (result,) = data.values()
    assert result["__typename"] in ("Article", "VideoEpisode", "Deleted"), result
    (event,) = await OutboxEvent.filter(id__gt=last.id if last else 0)
    assert event.type == event_type
    pk = pk_of(target or result["id"])
    assert event.content_id == pk
    assert event.payload["id"] == pk
    assert event.dispatched_at is None
    if event_type == DELETED:
        assert not await Content.exists(id=pk)
        assert event.payload["title"] == "A draft"  # consumers can still name what went
        return
    # The event describes the saved version, and that version has its one revision.
    content = await Content.get(id=pk)
    assert event.payload["version"] == content.version == result["version"]
    assert await Revision.all().count() == revisions_before + 1
    assert await Revision.exists(content_id=pk, version=content.version)


async def test_restore_revision_records_one_update(desk: Desk) -> None:
    id = await _edited(desk)
    revision = await _first_revision(desk, id)
    before = await OutboxEvent.all().count()

    data = await gql_data(desk.client, RESTORE_REVISION, {"id": revision}, desk.editor)

    assert data["restoreRevision"]["__typename"] == "Article", data
    (event,) = await OutboxEvent.all().order_by("-id").limit(1)
    assert await OutboxEvent.all().count() == before + 1
    assert (event.type, event.content_id, event.payload["version"]) == (UPDATED, pk_of(id), 3)


async def _counts() -> tuple[int, int, int]:
    return (
        await OutboxEvent.all().count(),
        await Revision.all().count(),
        await Content.all().count(),
    )


REFUSED = {
    "create with an empty title": (
        _nothing, CREATE_ARTICLE, lambda _: {"input": {"title": ""}}, "ValidationError",
    ),
    "create with a bad videoUrl": (
        _nothing, CREATE_VIDEO_EPISODE, lambda _: {"input": {"title": "T", "videoUrl": "ftp://x"}},
        "ValidationError",
    ),
    "update with a malformed slug": (
        _draft, UPDATE_ARTICLE, lambda id: {"id": id, "input": {"slug": "Bad Slug!"}},
        "ValidationError",
    ),
    "update with an unknown section": (
        _draft, UPDATE_ARTICLE, lambda id: {"id": id, "input": {"sectionSlug": "nowhere"}},
        "ValidationError",
    ),
    "update with a stale expectedVersion": (
        _edited, UPDATE_ARTICLE,
        lambda id: {"id": id, "input": {"title": "Late"}, "expectedVersion": 1}, "ConflictError",
    ),
    "publish at a time without a timezone": (
        _draft, PUBLISH, lambda id: {"id": id, "at": "2030-01-01T00:00:00"}, "ValidationError",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("arrange", "document", "variables", "error"),
    [pytest.param(*row, id=name) for name, row in REFUSED.items()],
)
async def test_a_refused_change_records_no_event_and_no_revision(
    desk: Desk,
    arrange: Arrange,
    document: str,
    variables: Callable[[str | None], dict[str, Any]],
    error: str,
) -> None:
    target = await arrange(desk)
    before = await _counts()

    data = await gql_data(desk.client, document, variables(target), desk.editor)

    (result,) = data.values()
    assert result["__typename"] == error, result
    assert await _counts() == before


async def test_a_forbidden_change_records_no_event(desk: Desk) -> None:
    id = await _draft(desk)  # the editor's draft: not the author's own
    before = await _counts()

    _, body = await gql(
        desk.client, UPDATE_ARTICLE, {"id": id, "input": {"title": "Mine now"}}, desk.author
    )

    assert error_code(body) == "FORBIDDEN", body
    assert await _counts() == before
