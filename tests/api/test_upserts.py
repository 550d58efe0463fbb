"""upsertArticle / upsertVideoEpisode over HTTP: create, update, a resend that changes
nothing (same version, no revision, no event), bad input, races, translations."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cms.models import Content, OutboxEvent, Revision
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    error_code,
    gql,
    gql_data,
    pk_of,
    seed_author,
    seed_section,
)

UPSERT_ARTICLE = (
    """
mutation U($externalId: String!, $input: ArticleInput!) {
  upsertArticle(externalId: $externalId, input: $input) {
    __typename
    ... on Article { id slug version status title body dek locale
                     authors { slug } tags { slug } section { slug }
                     translations { id } }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)

UPSERT_VIDEO_EPISODE = (
    """
mutation U($externalId: String!, $input: VideoEpisodeInput!) {
  upsertVideoEpisode(externalId: $externalId, input: $input) {
    __typename
    ... on VideoEpisode { id version status title videoUrl durationSeconds }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)

STORY = {
    "title": "Power restored in Kharkiv",
    "dek": "Crews worked through the night.",
    "body": "Repair crews restored power to *most* districts.",
    "sectionSlug": "war",
    "authorSlugs": ["news-desk"],
    "tagSlugs": ["kharkiv", "energy"],
}


@pytest.fixture
async def desk(tokens_by_role: dict[str, str]) -> dict[str, str]:
    await seed_section()
    await seed_author()
    return tokens_by_role


async def _upsert(
    client: httpx.AsyncClient, token: str, external_id: str, input: dict[str, Any]
) -> dict[str, Any]:
    data = await gql_data(
        client, UPSERT_ARTICLE, {"externalId": external_id, "input": input}, token
    )
    result: dict[str, Any] = data["upsertArticle"]
    return result


async def _counts() -> tuple[int, int, int]:
    return (
        await Content.all().count(),
        await Revision.all().count(),
        await OutboxEvent.all().count(),
    )


async def test_an_upsert_creates_a_draft_then_updates_it(
    client: httpx.AsyncClient, desk: dict[str, str]
) -> None:
    created = await _upsert(client, desk["editor"], "wire-1", STORY)
    assert created["__typename"] == "Article", created
    assert (created["status"], created["version"]) == ("DRAFT", 1)
    assert [a["slug"] for a in created["authors"]] == ["news-desk"]
    assert sorted(t["slug"] for t in created["tags"]) == ["energy", "kharkiv"]
    assert await _counts() == (1, 1, 1)

    updated = await _upsert(client, desk["editor"], "wire-1", {**STORY, "dek": "All power back."})

    assert updated["__typename"] == "Article", updated
    assert updated["id"] == created["id"]
    assert (updated["version"], updated["dek"]) == (2, "All power back.")
    assert await _counts() == (1, 2, 2)
    event = await OutboxEvent.all().order_by("-id").first()
    assert event is not None
    assert event.type == "CONTENT_UPDATED"
    assert event.payload["changed"] == ["dek"]


@pytest.mark.parametrize("role", ["author", "editor", "admin"])
async def test_a_resend_that_changes_nothing_writes_nothing(
    client: httpx.AsyncClient, desk: dict[str, str], role: str
) -> None:
    first = await _upsert(client, desk[role], "wire-1", STORY)
    before = await _counts()
    # The same story again, tags in another order: still nothing to change.
    again = {**STORY, "tagSlugs": ["energy", "kharkiv"]}

    for _ in range(3):
        result = await _upsert(client, desk[role], "wire-1", again)
        assert result["__typename"] == "Article", result
        assert result["version"] == first["version"] == 1

    assert await _counts() == before  # no revision, no outbox event
    row = await Content.get(id=pk_of(first["id"]))
    assert row.version == 1


async def test_a_resend_of_a_published_story_by_its_author_token_is_a_no_op(
    client: httpx.AsyncClient, desk: dict[str, str]
) -> None:
    """A wire feed (author role) resends its stories after an editor published one: the
    resend answers the item; a change would need the right to edit it."""
    created = await _upsert(client, desk["author"], "wire-1", STORY)
    await api_publish(client, desk["editor"], created["id"])
    before = await _counts()

    resent = await _upsert(client, desk["author"], "wire-1", STORY)
    assert (resent["__typename"], resent["status"], resent["version"]) == (
        "Article",
        "PUBLISHED",
        2,
    )
    assert await _counts() == before

    status, body = await gql(
        client,
        UPSERT_ARTICLE,
        {"externalId": "wire-1", "input": {**STORY, "title": "Changed"}},
        desk["author"],
    )
    assert error_code(body) == "FORBIDDEN", body
    assert await _counts() == before


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "A story", "sectionSlug": "nowhere"}, "sectionSlug"),
        ({"title": "A story", "authorSlugs": ["nobody"]}, "authorSlugs"),
        ({"title": "A story", "locale": "xx"}, "locale"),
        ({"title": "A story", "slug": "Not A Slug"}, "slug"),
        ({"title": "A story", "externalId": "wire-2"}, "externalId"),
    ],
)
async def test_bad_input_is_a_validation_error_on_create_and_on_update(
    client: httpx.AsyncClient, desk: dict[str, str], input: dict[str, Any], field: str
) -> None:
    status, body = await gql(
        client, UPSERT_ARTICLE, {"externalId": "wire-1", "input": input}, desk["editor"]
    )
    assert (
        body["data"]["upsertArticle"]["__typename"],
        body["data"]["upsertArticle"]["field"],
    ) == (
        "ValidationError",
        field,
    )
    assert await _counts() == (0, 0, 0)

    await _upsert(client, desk["editor"], "wire-1", STORY)
    before = await _counts()
    status, body = await gql(
        client, UPSERT_ARTICLE, {"externalId": "wire-1", "input": input}, desk["editor"]
    )
    assert body["data"]["upsertArticle"]["__typename"] == "ValidationError", body
    assert body["data"]["upsertArticle"]["field"] == field
    assert await _counts() == before


async def test_an_empty_external_id_is_a_validation_error(
    client: httpx.AsyncClient, desk: dict[str, str]
) -> None:
    result = await _upsert(client, desk["editor"], "  ", STORY)
    assert (result["__typename"], result["field"]) == ("ValidationError", "externalId")


async def test_an_external_id_of_another_kind_is_a_validation_error(
    client: httpx.AsyncClient, desk: dict[str, str]
) -> None:
    await _upsert(client, desk["editor"], "wire-1", STORY)
    data = await gql_data(
        client,
        UPSERT_VIDEO_EPISODE,
        {"externalId": "wire-1", "input": {"title": "E", "videoUrl": "https://v.example/e.mp4"}},
        desk["editor"],
    )
    result = data["upsertVideoEpisode"]
    assert (result["__typename"], result["field"]) == ("ValidationError", "externalId")


async def test_video_episodes_upsert_too(client: httpx.AsyncClient, desk: dict[str, str]) -> None:
    episode = {"title": "Frontline", "videoUrl": "https://v.example/1.mp4", "durationSeconds": 60}
    variables = {"externalId": "video-1", "input": episode}
    first = await gql_data(client, UPSERT_VIDEO_EPISODE, variables, desk["editor"])
    again = await gql_data(client, UPSERT_VIDEO_EPISODE, variables, desk["editor"])
    changed = await gql_data(
        client,
        UPSERT_VIDEO_EPISODE,
        {"externalId": "video-1", "input": {**episode, "durationSeconds": 61}},
        desk["editor"],
    )
    versions = [d["upsertVideoEpisode"]["version"] for d in (first, again, changed)]
    assert versions == [1, 1, 2]
    assert changed["upsertVideoEpisode"]["durationSeconds"] == 61
    assert await Revision.all().count() == 2


async def test_identical_upserts_at_once_make_one_item(
    client: httpx.AsyncClient, desk: dict[str, str]
) -> None:
    results = await asyncio.gather(
        *(_upsert(client, desk["editor"], "wire-race", STORY) for _ in range(5))
    )

    assert {result["__typename"] for result in results} == {"Article"}
    assert len({result["id"] for result in results}) == 1
    assert await Content.filter(external_id="wire-race").count() == 1
    assert await Revision.all().count() == 1


async def test_translation_of_on_create_joins_the_story_and_a_resend_keeps_it(
    client: httpx.AsyncClient, desk: dict[str, str]
) -> None:
    original = await api_article(client, desk["editor"], title="Strike", sectionSlug="war")
    translation = {"title": "Удар", "locale": "uk", "translationOf": original["id"]}

    created = await _upsert(client, desk["editor"], "wire-uk", translation)
    assert created["__typename"] == "Article", created
    assert [t["id"] for t in created["translations"]] == [original["id"]]

    again = await _upsert(client, desk["editor"], "wire-uk", translation)
    assert (again["__typename"], again["version"]) == ("Article", 1)

    other = await api_article(client, desk["editor"], title="Other", sectionSlug="war")
    moved = await _upsert(
        client, desk["editor"], "wire-uk", {**translation, "translationOf": other["id"]}
    )
    assert (moved["__typename"], moved["field"]) == ("ValidationError", "translationOf")
