"""Content mutations over GraphQL: create, update, validation as data, unknown ids,
the publishing lifecycle, revisions, optimistic concurrency and idempotent creates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.models import Content, Media, OutboxEvent, Revision, Tag
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    global_id,
    gql,
    gql_data,
    pk_of,
    seed_author,
    seed_published,
    seed_section,
)

CONTENT_FIELDS = """
fragment ContentFields on Content {
  __typename id title slug dek status version locale publishedAt
  section { slug } authors { slug } tags { slug name } heroImage { id }
  revisions { id version title createdBy }
  ... on Article { body(format: MARKDOWN) readingTimeMinutes }
  ... on VideoEpisode { videoUrl durationSeconds show episodeNumber description }
}
"""

CREATE_ARTICLE = (
    """
mutation Create($input: ArticleInput!) {
  createArticle(input: $input) { __typename ...ContentFields ...ErrorFields }
}
"""
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
UPDATE_ARTICLE = (
    """
mutation Update($id: ID!, $input: ArticlePatch!, $expectedVersion: Int) {
  updateArticle(id: $id, input: $input, expectedVersion: $expectedVersion) {
    __typename ...ContentFields ...ErrorFields
  }
}
"""
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
CREATE_VIDEO_EPISODE = (
    """
mutation Create($input: VideoEpisodeInput!) {
  createVideoEpisode(input: $input) { __typename ...ContentFields ...ErrorFields }
}
"""
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
UPDATE_VIDEO_EPISODE = (
    """
mutation Update($id: ID!, $input: VideoEpisodePatch!, $expectedVersion: Int) {
  updateVideoEpisode(id: $id, input: $input, expectedVersion: $expectedVersion) {
    __typename ...ContentFields ...ErrorFields
  }
}
"""
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
PUBLISH = (
    """
mutation Publish($id: ID!, $at: DateTime) {
  publish(id: $id, at: $at) { __typename ...ContentFields ...ErrorFields }
}
"""
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
UNPUBLISH = (
    "mutation U($id: ID!) { unpublish(id: $id) { __typename ...ContentFields ...ErrorFields } }"
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
ARCHIVE = (
    "mutation A($id: ID!) { archive(id: $id) { __typename ...ContentFields ...ErrorFields } }"
    + CONTENT_FIELDS
    + ERROR_FIELDS
)
RESTORE_REVISION = (
    "mutation R($id: ID!) { restoreRevision(id: $id) "
    "{ __typename ...ContentFields ...ErrorFields } }" + CONTENT_FIELDS + ERROR_FIELDS
)
DELETE_CONTENT = """
mutation D($id: ID!) {
  deleteContent(id: $id) { __typename ... on Deleted { id } ... on NotFoundError { message } }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { ...ContentFields } }" + CONTENT_FIELDS
FEED = "{ feed(first: 50) { edges { node { id title publishedAt } } } }"
ARTICLE_BY_SLUG = "query A($slug: String!) { article(slug: $slug) { id status } }"


@pytest.fixture
async def editor(client: httpx.AsyncClient, tokens_by_role: dict[str, str]) -> str:
    """The editor's secret, with the section "war" and the author "news-desk" in place."""
    await seed_section()
    await seed_author()
    return tokens_by_role["editor"]


async def _result(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    """The one root field's result of a mutation that must not raise a GraphQL error."""
    data = await gql_data(client, document, variables, token)
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def _node(client: httpx.AsyncClient, id: str, token: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = (await gql_data(client, NODE, {"id": id}, token))["node"]
    return node


async def _feed_ids(client: httpx.AsyncClient) -> list[str]:
    data = await gql_data(client, FEED)
    return [edge["node"]["id"] for edge in data["feed"]["edges"]]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- create ------------------------------------------------------------------------------


async def test_create_article_makes_a_draft_at_version_1(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await _result(
        client,
        CREATE_ARTICLE,
        {
            "input": {
                "title": "Kyiv: power is back — in 3 districts",
                "dek": "Crews worked through the night.",
                "body": "Power came back at *dawn*.",
                "sectionSlug": "war",
                "authorSlugs": ["news-desk"],
                "tagSlugs": ["energy", "kyiv"],
            }
        },
        editor,
    )

    assert article["__typename"] == "Article", article
    assert article["slug"] == "kyiv-power-is-back-in-3-districts"
    assert article["status"] == "DRAFT"
    assert article["version"] == 1
    assert article["locale"] == "en"
    assert article["publishedAt"] is None
    assert article["dek"] == "Crews worked through the night."
    assert article["body"] == "Power came back at *dawn*."
    assert article["section"] == {"slug": "war"}
    assert article["authors"] == [{"slug": "news-desk"}]
    assert sorted(tag["slug"] for tag in article["tags"]) == ["energy", "kyiv"]
    assert all(tag["name"] for tag in article["tags"])
    assert sorted(await Tag.all().values_list("slug", flat=True)) == ["energy", "kyiv"]
    assert article["revisions"] == [
        {
            "id": article["revisions"][0]["id"],
            "version": 1,
            "title": "Kyiv: power is back — in 3 districts",
            "createdBy": "test-editor",
        }
    ]
    assert await _feed_ids(client) == []  # a draft is not public


async def test_a_second_article_with_the_same_title_gets_a_numbered_slug(
    client: httpx.AsyncClient, editor: str
) -> None:
    first = await api_article(client, editor, title="Storm over Odesa")
    second = await api_article(client, editor, title="Storm over Odesa")
    third = await api_article(client, editor, title="Storm over Odesa")

    assert [first["slug"], second["slug"], third["slug"]] == [
        "storm-over-odesa",
        "storm-over-odesa-2",
        "storm-over-odesa-3",
    ]
    assert len({first["id"], second["id"], third["id"]}) == 3


async def test_the_same_slug_may_exist_in_another_locale(
    client: httpx.AsyncClient, editor: str
) -> None:
    english = await api_article(client, editor, title="Kyiv", slug="kyiv")
    ukrainian = await _result(
        client, CREATE_ARTICLE, {"input": {"title": "Київ", "slug": "kyiv", "locale": "uk"}}, editor
    )

    assert ukrainian["__typename"] == "Article", ukrainian
    assert (ukrainian["slug"], ukrainian["locale"]) == ("kyiv", "uk")
    assert english["slug"] == "kyiv"


async def test_create_video_episode(client: httpx.AsyncClient, editor: str) -> None:
    episode = await _result(
        client,
        CREATE_VIDEO_EPISODE,
        {
            "input": {
                "title": "Newsroom Weekly 12",
                "videoUrl": "https://video.example/weekly-12.mp4",
                "durationSeconds": 0,
                "show": "Newsroom Weekly",
                "episodeNumber": 12,
                "description": "This week.",
                "sectionSlug": "war",
            }
        },
        editor,
    )

    assert episode["__typename"] == "VideoEpisode", episode
    assert episode["slug"] == "newsroom-weekly-12"
    assert (episode["status"], episode["version"], episode["locale"]) == ("DRAFT", 1, "en")
    assert episode["videoUrl"] == "https://video.example/weekly-12.mp4"
    assert episode["durationSeconds"] == 0
    assert (episode["show"], episode["episodeNumber"]) == ("Newsroom Weekly", 12)
    assert [r["version"] for r in episode["revisions"]] == [1]


async def test_a_hero_image_that_exists_is_accepted(client: httpx.AsyncClient, editor: str) -> None:
    media = await Media.create(key="tests/hero.png", mime_type="image/png", width=10, height=10)

    article = await _result(
        client,
        CREATE_ARTICLE,
        {"input": {"title": "With a picture", "heroImageId": global_id("Media", media.id)}},
        editor,
    )

    assert article["__typename"] == "Article", article
    assert article["heroImage"] == {"id": global_id("Media", media.id)}


# --- update ------------------------------------------------------------------------------


async def test_update_changes_the_fields_given_and_bumps_the_version(
    client: httpx.AsyncClient, editor: str
) -> None:
    created = await _result(
        client,
        CREATE_ARTICLE,
        {
            "input": {
                "title": "First title",
                "dek": "A dek",
                "body": "First body.",
                "sectionSlug": "war",
                "tagSlugs": ["one"],
            }
        },
        editor,
    )

    updated = await _result(
        client,
        UPDATE_ARTICLE,
        {"id": created["id"], "input": {"title": "Second title", "body": "Second body."}},
        editor,
    )
    assert updated["__typename"] == "Article", updated
    assert (updated["title"], updated["body"], updated["version"]) == (
        "Second title",
        "Second body.",
        2,
    )
    assert updated["dek"] == "A dek"  # not given: unchanged
    assert updated["section"] == {"slug": "war"}
    assert [tag["slug"] for tag in updated["tags"]] == ["one"]
    assert updated["slug"] == created["slug"]  # a slug does not follow the title

    again = await _result(
        client,
        UPDATE_ARTICLE,
        {"id": created["id"], "input": {"dek": None, "sectionSlug": None, "tagSlugs": ["two"]}},
        editor,
    )
    assert again["__typename"] == "Article", again
    assert again["version"] == 3
    assert (again["dek"], again["section"]) == (None, None)
    assert [tag["slug"] for tag in again["tags"]] == ["two"]
    assert [(r["version"], r["title"]) for r in again["revisions"]] == [
        (3, "Second title"),
        (2, "Second title"),
        (1, "First title"),
    ]
    assert await Revision.filter(content_id=pk_of(created["id"])).count() == 3


async def test_update_video_episode(client: httpx.AsyncClient, editor: str) -> None:
    episode = await api_video_episode(client, editor, durationSeconds=60)

    updated = await _result(
        client,
        UPDATE_VIDEO_EPISODE,
        {"id": episode["id"], "input": {"durationSeconds": 90, "videoUrl": "http://v.example/2"}},
        editor,
    )

    assert updated["__typename"] == "VideoEpisode", updated
    assert (updated["durationSeconds"], updated["videoUrl"]) == (90, "http://v.example/2")
    assert updated["version"] == 2
    assert [r["version"] for r in updated["revisions"]] == [2, 1]


# --- validation as data ------------------------------------------------------------------

TITLE_301 = "t" * 301
BODY_OVER_1_MB = "x" * 1_000_001
BODY_OVER_1_MB_IN_BYTES = "é" * 500_001  # 500,001 characters, 1,000,002 bytes

INVALID_CREATES = [
    pytest.param(CREATE_ARTICLE, {"title": ""}, "title", id="empty-title"),
    pytest.param(CREATE_ARTICLE, {"title": "   "}, "title", id="blank-title"),
    pytest.param(CREATE_ARTICLE, {"title": TITLE_301}, "title", id="title-301-characters"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "slug": "Bad Slug!"}, "slug", id="bad-slug"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "sectionSlug": "nowhere"}, "sectionSlug",
                 id="unknown-section"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "authorSlugs": ["news-desk", "nobody"]},
                 "authorSlugs", id="unknown-author"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "heroImageId": global_id("Media", 999)},
                 "heroImageId", id="unknown-hero-image"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "heroImageId": global_id("Article", 1)},
                 "heroImageId", id="hero-image-id-of-an-article"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "heroImageId": "garbage"},
                 "heroImageId", id="hero-image-id-malformed"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "body": BODY_OVER_1_MB}, "body",
                 id="body-over-1-MB"),
    pytest.param(CREATE_ARTICLE, {"title": "T", "body": BODY_OVER_1_MB_IN_BYTES}, "body",
                 id="body-over-1-MB-in-bytes"),
    pytest.param(CREATE_VIDEO_EPISODE, {"title": "T", "videoUrl": "ftp://x"}, "videoUrl",
                 id="video-url-ftp"),
    pytest.param(CREATE_VIDEO_EPISODE, {"title": "T", "videoUrl": "not a url"}, "videoUrl",
                 id="video-url-not-a-url"),
    pytest.param(CREATE_VIDEO_EPISODE,
                 {"title": "T", "videoUrl": "https://v.example/1", "durationSeconds": -1},
                 "durationSeconds", id="negative-duration"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "input", "field"), INVALID_CREATES)
async def test_invalid_create_is_a_validation_error_naming_the_field(
    client: httpx.AsyncClient, editor: str, document: str, input: dict[str, Any], field: str
) -> None:
    result = await _result(client, document, {"input": input}, editor)

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert result["message"]
    assert await Content.all().count() == 0
    assert await Revision.all().count() == 0
    assert await OutboxEvent.all().count() == 0


async def test_limits_are_inclusive(client: httpx.AsyncClient, editor: str) -> None:
    article = await _result(
        client, CREATE_ARTICLE, {"input": {"title": "t" * 300, "body": "x" * 1_000_000}}, editor
    )

    assert article["__typename"] == "Article", article
    assert len(article["title"]) == 300
    assert len(article["body"]) == 1_000_000


@pytest.mark.parametrize(
    ("input", "field"),
    [
        pytest.param({"title": ""}, "title", id="empty-title"),
        pytest.param({"title": None}, "title", id="null-title"),
        pytest.param({"title": TITLE_301}, "title", id="title-301-characters"),
        pytest.param({"slug": "Bad Slug!"}, "slug", id="bad-slug"),
        pytest.param({"sectionSlug": "nowhere"}, "sectionSlug", id="unknown-section"),
        pytest.param({"authorSlugs": ["nobody"]}, "authorSlugs", id="unknown-author"),
        pytest.param({"heroImageId": global_id("Media", 999)}, "heroImageId", id="unknown-media"),
        pytest.param({"body": BODY_OVER_1_MB}, "body", id="body-over-1-MB"),
    ],
)
async def test_invalid_update_is_a_validation_error_and_changes_nothing(
    client: httpx.AsyncClient, editor: str, input: dict[str, Any], field: str
) -> None:
    article = await api_article(client, editor, title="Unchanged", sectionSlug="war")
    before = await _node(client, article["id"], editor)

    result = await _result(client, UPDATE_ARTICLE, {"id": article["id"], "input": input}, editor)

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await _node(client, article["id"], editor) == before


@pytest.mark.parametrize(
    ("input", "field"),
    [
        pytest.param({"videoUrl": "ftp://x"}, "videoUrl", id="video-url-ftp"),
        pytest.param({"videoUrl": "not a url"}, "videoUrl", id="video-url-not-a-url"),
        pytest.param({"durationSeconds": -5}, "durationSeconds", id="negative-duration"),
    ],
)
async def test_invalid_video_episode_update_is_a_validation_error(
    client: httpx.AsyncClient, editor: str, input: dict[str, Any], field: str
) -> None:
    episode = await api_video_episode(client, editor)
    before = await _node(client, episode["id"], editor)

    result = await _result(
        client, UPDATE_VIDEO_EPISODE, {"id": episode["id"], "input": input}, editor
    )

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await _node(client, episode["id"], editor) == before


async def test_a_duplicate_slug_is_a_validation_error_on_create(
    client: httpx.AsyncClient, editor: str
) -> None:
    await api_article(client, editor, title="One", slug="the-slug")

    result = await _result(
        client, CREATE_ARTICLE, {"input": {"title": "Two", "slug": "the-slug"}}, editor
    )

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == "slug"
    assert await Content.all().count() == 1


async def test_a_duplicate_slug_is_a_validation_error_on_update(
    client: httpx.AsyncClient, editor: str
) -> None:
    await api_article(client, editor, title="One", slug="taken")
    other = await api_article(client, editor, title="Two", slug="free")

    result = await _result(
        client, UPDATE_ARTICLE, {"id": other["id"], "input": {"slug": "taken"}}, editor
    )

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == "slug"
    node = await _node(client, other["id"], editor)
    assert node is not None
    assert (node["slug"], node["version"], len(node["revisions"])) == ("free", 1, 1)


async def test_a_publish_time_without_a_timezone_is_a_validation_error(
    client: httpx.AsyncClient, editor: str
) -> None:
    """A naive DateTime literal parses as a DateTime; the service refuses it as data."""
    article = await api_article(client, editor)

    status, body = await gql(
        client, PUBLISH, {"id": article["id"], "at": "2030-01-01T00:00:00"}, editor
    )

    assert "errors" not in body, body
    assert status == 200
    result = body["data"]["publish"]
    assert result["__typename"] == "ValidationError", result
    assert result["field"] == "at"
    node = await _node(client, article["id"], editor)
    assert node is not None
    assert (node["status"], node["version"], node["publishedAt"]) == ("DRAFT", 1, None)


async def test_a_publish_time_that_is_not_a_datetime_is_a_graphql_error_not_a_500(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await api_article(client, editor)

    status, body = await gql(client, PUBLISH, {"id": article["id"], "at": "next tuesday"}, editor)

    assert body.get("errors"), body
    assert status in (200, 400)
    assert body.get("data") is None


# --- unknown ids -------------------------------------------------------------------------


async def test_update_of_a_missing_article_is_not_found(
    client: httpx.AsyncClient, editor: str
) -> None:
    result = await _result(
        client,
        UPDATE_ARTICLE,
        {"id": global_id("Article", 999), "input": {"title": "Ghost"}},
        editor,
    )

    assert result["__typename"] == "NotFoundError", result
    assert result["message"]


async def test_an_article_id_is_not_found_by_update_video_episode(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await api_article(client, editor, title="An article")

    result = await _result(
        client, UPDATE_VIDEO_EPISODE, {"id": article["id"], "input": {"title": "Oops"}}, editor
    )

    assert result["__typename"] == "NotFoundError", result
    node = await _node(client, article["id"], editor)
    assert node is not None
    assert (node["title"], node["version"]) == ("An article", 1)


async def test_a_video_episode_id_is_not_found_by_update_article(
    client: httpx.AsyncClient, editor: str
) -> None:
    episode = await api_video_episode(client, editor, title="An episode")

    result = await _result(
        client, UPDATE_ARTICLE, {"id": episode["id"], "input": {"title": "Oops"}}, editor
    )

    assert result["__typename"] == "NotFoundError", result


@pytest.mark.parametrize(
    "document",
    [PUBLISH, UNPUBLISH, ARCHIVE, RESTORE_REVISION],
    ids=["publish", "unpublish", "archive", "restoreRevision"],
)
async def test_actions_on_a_missing_id_are_not_found(
    client: httpx.AsyncClient, editor: str, document: str
) -> None:
    missing = global_id("Revision" if document is RESTORE_REVISION else "Article", 999)

    result = await _result(client, document, {"id": missing}, editor)

    assert result["__typename"] == "NotFoundError", result


async def test_delete_of_a_missing_id_is_not_found(client: httpx.AsyncClient, editor: str) -> None:
    result = await _result(client, DELETE_CONTENT, {"id": global_id("Article", 999)}, editor)

    assert result["__typename"] == "NotFoundError", result


# --- the publishing lifecycle ------------------------------------------------------------


async def test_publish_now_makes_the_item_public(client: httpx.AsyncClient, editor: str) -> None:
    article = await api_article(client, editor, title="Breaking")
    before = clock.utcnow()

    published = await _result(client, PUBLISH, {"id": article["id"]}, editor)

    assert published["__typename"] == "Article", published
    assert published["status"] == "PUBLISHED"
    assert published["version"] == 2
    assert before <= _when(published["publishedAt"]) <= clock.utcnow()
    assert await _feed_ids(client) == [article["id"]]
    data = await gql_data(client, ARTICLE_BY_SLUG, {"slug": article["slug"]})
    assert data["article"] == {"id": article["id"], "status": "PUBLISHED"}


async def test_publish_in_the_future_schedules_and_the_time_alone_makes_it_public(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await api_article(client, editor, title="Embargoed")
    at = (clock.utcnow() + timedelta(days=1)).replace(microsecond=0)

    scheduled = await _result(client, PUBLISH, {"id": article["id"], "at": at.isoformat()}, editor)

    assert scheduled["__typename"] == "Article", scheduled
    assert scheduled["status"] == "SCHEDULED"
    assert _when(scheduled["publishedAt"]) == at
    assert await _feed_ids(client) == []
    assert (await gql_data(client, ARTICLE_BY_SLUG, {"slug": article["slug"]}))["article"] is None

    with clock.frozen(at - timedelta(seconds=1)):
        assert await _feed_ids(client) == []
    with clock.frozen(at + timedelta(minutes=1)):
        assert await _feed_ids(client) == [article["id"]]
        data = await gql_data(client, ARTICLE_BY_SLUG, {"slug": article["slug"]})
        assert data["article"] == {"id": article["id"], "status": "PUBLISHED"}
        node = await _node(client, article["id"], editor)
        assert node is not None
        assert (node["status"], node["version"]) == ("PUBLISHED", 2)  # no job ran


async def test_publish_in_the_past_back_dates_and_sorts_into_the_feed(
    client: httpx.AsyncClient, editor: str
) -> None:
    now = clock.utcnow().replace(microsecond=0)
    newer = await seed_published(title="An hour ago", published_at=now - timedelta(hours=1))
    older = await seed_published(title="Three hours ago", published_at=now - timedelta(hours=3))
    article = await api_article(client, editor, title="Correction of the record")
    at = now - timedelta(hours=2)

    published = await _result(client, PUBLISH, {"id": article["id"], "at": at.isoformat()}, editor)

    assert published["__typename"] == "Article", published
    assert published["status"] == "PUBLISHED"
    assert _when(published["publishedAt"]) == at
    assert await _feed_ids(client) == [
        global_id("Article", newer.id),
        article["id"],
        global_id("Article", older.id),
    ]


async def test_unpublish_returns_to_draft_and_leaves_the_feed(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await api_article(client, editor)
    await api_publish(client, editor, article["id"])
    assert await _feed_ids(client) == [article["id"]]

    result = await _result(client, UNPUBLISH, {"id": article["id"]}, editor)

    assert result["__typename"] == "Article", result
    assert (result["status"], result["version"]) == ("DRAFT", 3)
    assert await _feed_ids(client) == []
    assert (await gql_data(client, ARTICLE_BY_SLUG, {"slug": article["slug"]}))["article"] is None


async def test_archive_takes_the_item_off_the_feed(client: httpx.AsyncClient, editor: str) -> None:
    article = await api_article(client, editor)
    await api_publish(client, editor, article["id"])

    result = await _result(client, ARCHIVE, {"id": article["id"]}, editor)

    assert result["__typename"] == "Article", result
    assert (result["status"], result["version"]) == ("ARCHIVED", 3)
    assert await _feed_ids(client) == []
    assert (await gql_data(client, ARTICLE_BY_SLUG, {"slug": article["slug"]}))["article"] is None


async def test_delete_content_then_the_id_is_not_found(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await api_article(client, editor)
    await api_publish(client, editor, article["id"])

    deleted = await _result(client, DELETE_CONTENT, {"id": article["id"]}, editor)

    assert deleted == {"__typename": "Deleted", "id": article["id"]}
    assert await _feed_ids(client) == []
    assert await _node(client, article["id"], editor) is None
    again = await _result(client, DELETE_CONTENT, {"id": article["id"]}, editor)
    assert again["__typename"] == "NotFoundError", again
    update = await _result(
        client, UPDATE_ARTICLE, {"id": article["id"], "input": {"title": "Back?"}}, editor
    )
    assert update["__typename"] == "NotFoundError", update
    assert await Content.all().count() == 0
    assert await Revision.all().count() == 0


# --- revisions ---------------------------------------------------------------------------


async def test_restore_revision_writes_a_new_version_with_the_old_fields(
    client: httpx.AsyncClient, editor: str
) -> None:
    original = await _result(
        client,
        CREATE_ARTICLE,
        {"input": {"title": "Original", "body": "Original body.", "tagSlugs": ["first"]}},
        editor,
    )
    edited = await _result(
        client,
        UPDATE_ARTICLE,
        {
            "id": original["id"],
            "input": {"title": "Edited", "body": "Edited body.", "tagSlugs": ["second"]},
        },
        editor,
    )
    assert [r["version"] for r in edited["revisions"]] == [2, 1]
    first_revision = edited["revisions"][-1]

    restored = await _result(client, RESTORE_REVISION, {"id": first_revision["id"]}, editor)

    assert restored["__typename"] == "Article", restored
    assert restored["id"] == original["id"]
    assert restored["version"] == 3
    assert (restored["title"], restored["body"]) == ("Original", "Original body.")
    assert [tag["slug"] for tag in restored["tags"]] == ["first"]
    assert restored["status"] == "DRAFT"
    assert [(r["version"], r["title"]) for r in restored["revisions"]] == [
        (3, "Original"),
        (2, "Edited"),
        (1, "Original"),
    ]
    assert restored["revisions"][2]["id"] == first_revision["id"]  # history only grows


# --- optimistic concurrency --------------------------------------------------------------


async def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(
    client: httpx.AsyncClient, editor: str
) -> None:
    article = await api_article(client, editor, title="Version one")
    second = await _result(
        client,
        UPDATE_ARTICLE,
        {"id": article["id"], "input": {"title": "Version two"}, "expectedVersion": 1},
        editor,
    )
    assert (second["__typename"], second["version"]) == ("Article", 2), second
    before = await _node(client, article["id"], editor)
    outbox_before = await OutboxEvent.all().count()

    stale = await _result(
        client,
        UPDATE_ARTICLE,
        {"id": article["id"], "input": {"title": "Lost edit"}, "expectedVersion": 1},
        editor,
    )

    assert stale["__typename"] == "ConflictError", stale
    assert stale["currentVersion"] == 2
    assert stale["message"]
    after = await _node(client, article["id"], editor)
    assert after == before
    assert after is not None
    assert (after["title"], after["version"], len(after["revisions"])) == ("Version two", 2, 2)
    assert await OutboxEvent.all().count() == outbox_before

    current = await _result(
        client,
        UPDATE_ARTICLE,
        {"id": article["id"], "input": {"title": "Version three"}, "expectedVersion": 2},
        editor,
    )
    assert (current["__typename"], current["version"]) == ("Article", 3), current


# --- idempotent integrations -------------------------------------------------------------


async def test_create_with_a_known_external_id_returns_the_item_unchanged(
    client: httpx.AsyncClient, editor: str
) -> None:
    first = await _result(
        client,
        CREATE_ARTICLE,
        {"input": {"title": "From the wire", "body": "First.", "externalId": "wire-42"}},
        editor,
    )
    assert first["__typename"] == "Article", first

    retry = await _result(
        client,
        CREATE_ARTICLE,
        {"input": {"title": "A different title", "body": "Other.", "externalId": "wire-42"}},
        editor,
    )

    assert retry["__typename"] == "Article", retry
    assert retry["id"] == first["id"]
    assert (retry["title"], retry["body"], retry["version"]) == ("From the wire", "First.", 1)
    assert len(retry["revisions"]) == 1
    assert await Content.all().count() == 1
    assert await OutboxEvent.all().count() == 1


async def test_an_external_id_of_an_article_is_refused_for_a_video_episode(
    client: httpx.AsyncClient, editor: str
) -> None:
    await api_article(client, editor, externalId="wire-7")

    result = await _result(
        client,
        CREATE_VIDEO_EPISODE,
        {"input": {"title": "T", "videoUrl": "https://v.example/1", "externalId": "wire-7"}},
        editor,
    )

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == "externalId"
    assert await Content.all().count() == 1


async def test_a_video_episode_patch_may_clear_its_duration_and_episode_number(
    client: httpx.AsyncClient, editor: str
) -> None:
    episode = await api_video_episode(client, editor, durationSeconds=60, episodeNumber=3)

    updated = await _result(
        client,
        UPDATE_VIDEO_EPISODE,
        {"id": episode["id"], "input": {"durationSeconds": None, "episodeNumber": None}},
        editor,
    )

    assert updated["__typename"] == "VideoEpisode", updated
    assert (updated["durationSeconds"], updated["episodeNumber"]) == (None, None)
    assert updated["version"] == 2
