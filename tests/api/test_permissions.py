"""Who may do what, over GraphQL: every role and anonymous x every mutation, and how
tokens are checked on queries (a bad token is refused, never read as anonymous)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.auth import tokens
from cms.models import Author, Content, Correction, OutboxEvent, Revision, Section, Tag
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    error_code,
    global_id,
    gql,
    gql_data,
    seed_author,
    seed_published,
    seed_section,
)

U = "UNAUTHENTICATED"
F = "FORBIDDEN"

WHO = ("anonymous", "viewer", "author", "editor", "admin")

# What each caller gets: an error code, or the typename of the success member.
# "own" is an item created by the caller's token (by the admin's for anonymous and
# viewer, who cannot create); "another token's" is a draft made by a second author token.
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    #                                          anonymous viewer author editor admin
    "createArticle":                            (U, F, "Article", "Article", "Article"),
    "createVideoEpisode":                       (U, F, "VideoEpisode", "VideoEpisode", "VideoEpisode"),  # noqa: E501
    "updateArticle/own draft":                  (U, F, "Article", "Article", "Article"),
    "updateArticle/another token's draft":      (U, F, F, "Article", "Article"),
    "updateArticle/own published item":         (U, F, F, "Article", "Article"),
    "updateVideoEpisode/own draft":             (U, F, "VideoEpisode", "VideoEpisode", "VideoEpisode"),  # noqa: E501
    "updateVideoEpisode/another token's draft": (U, F, F, "VideoEpisode", "VideoEpisode"),
    "updateVideoEpisode/own published item":    (U, F, F, "VideoEpisode", "VideoEpisode"),
    "upsertArticle/new item":                   (U, F, "Article", "Article", "Article"),
    "upsertArticle/own draft":                  (U, F, "Article", "Article", "Article"),
    "upsertArticle/another token's draft":      (U, F, F, "Article", "Article"),
    "upsertArticle/own published item":         (U, F, F, "Article", "Article"),
    "upsertVideoEpisode/new item":              (U, F, "VideoEpisode", "VideoEpisode", "VideoEpisode"),  # noqa: E501
    "upsertVideoEpisode/own draft":             (U, F, "VideoEpisode", "VideoEpisode", "VideoEpisode"),  # noqa: E501
    "upsertVideoEpisode/another token's draft": (U, F, F, "VideoEpisode", "VideoEpisode"),
    "publish/own draft":                        (U, F, F, "Article", "Article"),
    "unpublish/own published item":             (U, F, F, "Article", "Article"),
    "archive/own published item":               (U, F, F, "Article", "Article"),
    "deleteContent/own draft":                  (U, F, F, "Deleted", "Deleted"),
    "createAuthor":                             (U, F, F, "Author", "Author"),
    "updateAuthor":                             (U, F, F, "Author", "Author"),
    "createSection":                            (U, F, F, "Section", "Section"),
    "createTag":                                (U, F, F, "Tag", "Tag"),
    "updateTag":                                (U, F, F, "Tag", "Tag"),
    "restoreRevision/own draft":                (U, F, F, "Article", "Article"),
    "createPreviewLink/own draft":              (U, F, "PreviewLink", "PreviewLink", "PreviewLink"),  # noqa: E501
    "createPreviewLink/another token's draft":  (U, F, F, "PreviewLink", "PreviewLink"),
    "createPreviewLink/own published item":     (U, F, "PreviewLink", "PreviewLink", "PreviewLink"),  # noqa: E501
    "submitForReview/own draft":                (U, F, "Article", "Article", "Article"),
    "submitForReview/another token's draft":    (U, F, F, "Article", "Article"),
    "requestChanges/item in review":            (U, F, F, "Article", "Article"),
    "addCorrection/own published item":         (U, F, F, "Article", "Article"),
    "kill/own published item":                  (U, F, F, "Article", "Article"),
    "pin/own published item":                   (U, F, F, "Article", "Article"),
    "unpin/pinned item":                        (U, F, F, "Article", "Article"),
    "publish/killed item":                      (U, F, F, "ConflictError", "Article"),
    "unpublish/killed item":                    (U, F, F, "ConflictError", "Article"),
    "deleteContent/killed item":                (U, F, F, F, "Deleted"),
}  # fmt: skip

CASES = [
    pytest.param(case, who, expected, id=f"{case}-{who}")
    for case, row in MATRIX.items()
    for who, expected in zip(WHO, row, strict=True)
]


def _mutation(field: str, arguments: str, variables: str) -> str:
    return (
        f"mutation M({variables}) {{ {field}({arguments}) {{ __typename ...ErrorFields }} }}"
        + ERROR_FIELDS
    )


CREATE_ARTICLE = _mutation("createArticle", "input: $input", "$input: ArticleInput!")
CREATE_VIDEO_EPISODE = _mutation(
    "createVideoEpisode", "input: $input", "$input: VideoEpisodeInput!"
)
UPDATE_ARTICLE = _mutation(
    "updateArticle", "id: $id, input: $input", "$id: ID!, $input: ArticlePatch!"
)
UPDATE_VIDEO_EPISODE = _mutation(
    "updateVideoEpisode", "id: $id, input: $input", "$id: ID!, $input: VideoEpisodePatch!"
)
UPSERT_ARTICLE = _mutation(
    "upsertArticle", 'externalId: "wire-1", input: $input', "$input: ArticleInput!"
)
UPSERT_VIDEO_EPISODE = _mutation(
    "upsertVideoEpisode", 'externalId: "wire-1", input: $input', "$input: VideoEpisodeInput!"
)
PUBLISH = _mutation("publish", "id: $id", "$id: ID!")
UNPUBLISH = _mutation("unpublish", "id: $id", "$id: ID!")
ARCHIVE = _mutation("archive", "id: $id", "$id: ID!")
DELETE_CONTENT = """
mutation M($id: ID!) { deleteContent(id: $id) { __typename ... on NotFoundError { message } } }
"""
CREATE_AUTHOR = _mutation("createAuthor", "input: $input", "$input: AuthorInput!")
UPDATE_AUTHOR = _mutation(
    "updateAuthor", "id: $id, input: $input", "$id: ID!, $input: AuthorPatch!"
)
CREATE_SECTION = _mutation("createSection", "input: $input", "$input: SectionInput!")
CREATE_TAG = _mutation("createTag", "input: $input", "$input: TagInput!")
UPDATE_TAG = _mutation("updateTag", "id: $id, input: $input", "$id: ID!, $input: TagPatch!")
RESTORE_REVISION = _mutation("restoreRevision", "id: $id", "$id: ID!")
CREATE_PREVIEW_LINK = _mutation("createPreviewLink", "id: $id", "$id: ID!")
SUBMIT_FOR_REVIEW = _mutation("submitForReview", "id: $id", "$id: ID!")
REQUEST_CHANGES = _mutation("requestChanges", 'id: $id, note: "Name the source."', "$id: ID!")
ADD_CORRECTION = _mutation("addCorrection", 'id: $id, text: "The dam is 30 m high."', "$id: ID!")
KILL = _mutation("kill", 'id: $id, reason: "Court order"', "$id: ID!")
PIN = _mutation("pin", "id: $id", "$id: ID!")
UNPIN = _mutation("unpin", "id: $id", "$id: ID!")

AUTHOR_ID = 'query { author(slug: "news-desk") { id bio } }'
VERSION = "query V($id: ID!) { node(id: $id) { ... on Content { version title status } } }"
REVISIONS = "query R($id: ID!) { node(id: $id) { ... on Content { revisions { id version } } } }"
UPDATE_TITLE = (
    'mutation U($id: ID!) { updateArticle(id: $id, input: {title: "Second title"}) { __typename } }'
)

FEED = "{ feed(first: 1) { edges { cursor } } }"
ME = "{ me { name role } }"
CONTENTS = "{ contents { edges { node { title status } } } }"
REVISIONS_BY_SLUG = """
query R($slug: String!) { article(slug: $slug) { title revisions { version createdBy } } }
"""


def _past() -> datetime:
    return clock.utcnow() - timedelta(hours=1)


@dataclass
class Setting:
    """What one case sends, and the item it acts on (to check nothing changed)."""

    document: str
    variables: dict[str, Any]
    target: str | None = None


@pytest.fixture
async def world(client: httpx.AsyncClient, tokens_by_role: dict[str, str]) -> dict[str, str]:
    """A section, an author, and a second author token ("another token")."""
    await seed_section()
    await seed_author()
    _, colleague = await tokens.create(name="colleague", role="author")
    return {**tokens_by_role, "colleague": colleague}


async def _arrange(
    case: str, who: str, client: httpx.AsyncClient, secrets: dict[str, str]
) -> Setting:
    admin = secrets["admin"]
    owner = secrets[who] if who in ("author", "editor", "admin") else admin
    mutation, _, target = case.partition("/")
    make: Callable[..., Awaitable[dict[str, Any]]]
    make = api_video_episode if mutation.endswith("VideoEpisode") else api_article

    # An upsert's target carries the external id the upsert names.
    keyed = {"externalId": "wire-1"} if mutation.startswith("upsert") else {}
    item_id: str | None = None
    if target == "own draft":
        item_id = (await make(client, owner, sectionSlug="war", **keyed))["id"]
    elif target == "another token's draft":
        item_id = (await make(client, secrets["colleague"], sectionSlug="war", **keyed))["id"]
    elif target in ("own published item", "pinned item", "killed item"):
        item_id = (await make(client, owner, sectionSlug="war", **keyed))["id"]
        await api_publish(client, admin, item_id)
        if target == "pinned item":
            await gql_data(client, PIN, {"id": item_id}, admin)
        if target == "killed item":
            await gql_data(client, KILL, {"id": item_id}, admin)
    elif target == "item in review":
        item_id = (await make(client, secrets["colleague"], sectionSlug="war"))["id"]
        await gql_data(client, SUBMIT_FOR_REVIEW, {"id": item_id}, secrets["colleague"])

    if mutation == "createArticle":
        return Setting(CREATE_ARTICLE, {"input": {"title": "New story", "sectionSlug": "war"}})
    if mutation == "createVideoEpisode":
        video = {"title": "New episode", "videoUrl": "https://video.example/new.mp4"}
        return Setting(CREATE_VIDEO_EPISODE, {"input": video})
    if mutation == "upsertArticle":
        article = {"title": "Wire story, second take", "sectionSlug": "war"}
        return Setting(UPSERT_ARTICLE, {"input": article}, item_id)
    if mutation == "upsertVideoEpisode":
        video = {"title": "Wire episode", "videoUrl": "https://video.example/wire.mp4"}
        return Setting(UPSERT_VIDEO_EPISODE, {"input": video}, item_id)
    if mutation == "updateArticle":
        return Setting(UPDATE_ARTICLE, {"id": item_id, "input": {"title": "Changed"}}, item_id)
    if mutation == "updateVideoEpisode":
        return Setting(
            UPDATE_VIDEO_EPISODE, {"id": item_id, "input": {"title": "Changed"}}, item_id
        )
    if mutation in ("publish", "unpublish", "archive", "deleteContent"):
        document = {
            "publish": PUBLISH,
            "unpublish": UNPUBLISH,
            "archive": ARCHIVE,
            "deleteContent": DELETE_CONTENT,
        }[mutation]
        return Setting(document, {"id": item_id}, item_id)
    if mutation == "createAuthor":
        return Setting(CREATE_AUTHOR, {"input": {"name": "Iryna Zavolska"}})
    if mutation == "updateAuthor":
        author_id = (await gql_data(client, AUTHOR_ID))["author"]["id"]
        return Setting(UPDATE_AUTHOR, {"id": author_id, "input": {"bio": "Around the clock."}})
    if mutation == "createSection":
        return Setting(CREATE_SECTION, {"input": {"name": "Business"}})
    if mutation == "createTag":
        return Setting(CREATE_TAG, {"input": {"name": "Actor Forest"}})
    if mutation == "updateTag":
        tag = await Tag.create(name="Budget", slug="budget")
        return Setting(UPDATE_TAG, {"id": global_id("Tag", tag.id), "input": {"name": "Budgets"}})
    if mutation == "restoreRevision":
        assert item_id is not None
        await gql_data(client, UPDATE_TITLE, {"id": item_id}, admin)
        data = await gql_data(client, REVISIONS, {"id": item_id}, admin)
        first = data["node"]["revisions"][-1]
        assert first["version"] == 1
        return Setting(RESTORE_REVISION, {"id": first["id"]}, item_id)
    if mutation == "createPreviewLink":
        return Setting(CREATE_PREVIEW_LINK, {"id": item_id}, item_id)
    desk = {
        "submitForReview": SUBMIT_FOR_REVIEW,
        "requestChanges": REQUEST_CHANGES,
        "addCorrection": ADD_CORRECTION,
        "kill": KILL,
        "pin": PIN,
        "unpin": UNPIN,
    }
    if mutation in desk:
        return Setting(desk[mutation], {"id": item_id}, item_id)
    raise AssertionError(f"no arrangement for {case}")


async def _counts() -> dict[str, object]:
    return {
        "content": await Content.all().count(),
        "revisions": await Revision.all().count(),
        "outbox": await OutboxEvent.all().count(),
        "authors": await Author.all().count(),
        "sections": await Section.all().count(),
        "tags": await Tag.all().count(),
        "tag names": sorted(await Tag.all().values_list("name", flat=True)),
        "corrections": await Correction.all().count(),
    }


@pytest.mark.parametrize(("case", "who", "expected"), CASES)
async def test_permission_matrix(
    client: httpx.AsyncClient, world: dict[str, str], case: str, who: str, expected: str
) -> None:
    setting = await _arrange(case, who, client, world)
    admin = world["admin"]
    before = await _counts()
    target_before = (
        await gql_data(client, VERSION, {"id": setting.target}, admin) if setting.target else None
    )
    author_before = await gql_data(client, AUTHOR_ID)

    token = None if who == "anonymous" else world[who]
    status, body = await gql(client, setting.document, setting.variables, token)

    assert status == 200, body
    field = case.partition("/")[0]
    if expected in (U, F):
        assert body.get("errors"), body
        assert error_code(body) == expected, body
        assert body["errors"][0]["path"] == [field], body
        assert body["data"] is None, body
        # A refused mutation changes nothing.
        assert await _counts() == before
        if setting.target:
            after = await gql_data(client, VERSION, {"id": setting.target}, admin)
            assert after == target_before
        assert await gql_data(client, AUTHOR_ID) == author_before
    else:
        assert "errors" not in body, body
        result = body["data"][field]
        assert result["__typename"] == expected, result
        if expected == "ConflictError":  # refused by the rules: nothing changes
            assert await _counts() == before
            after = await gql_data(client, VERSION, {"id": setting.target}, admin)
            assert after == target_before
        elif setting.target and expected not in ("Deleted", "PreviewLink"):
            after = await gql_data(client, VERSION, {"id": setting.target}, admin)
            assert after["node"]["version"] == target_before["node"]["version"] + 1  # type: ignore[index]
        elif expected == "PreviewLink":  # a link writes nothing to the item
            after = await gql_data(client, VERSION, {"id": setting.target}, admin)
            assert after == target_before


# --- tokens on queries -------------------------------------------------------------------


async def test_a_wrong_token_is_refused_on_a_query_not_read_as_anonymous(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    await seed_published(published_at=_past())
    status, anonymous = await gql(client, FEED)
    assert "errors" not in anonymous
    assert len(anonymous["data"]["feed"]["edges"]) == 1  # anonymous reading works

    status, body = await gql(client, FEED, token="ndk_" + "x" * 43)

    assert body.get("errors"), body
    assert error_code(body) == U
    assert status == 401
    assert body.get("data") is None


async def test_a_revoked_token_is_refused_on_a_query(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    await seed_published(published_at=_past())
    _, secret = await tokens.create(name="retired", role="editor")
    status, body = await gql(client, FEED, token=secret)
    assert "errors" not in body, body
    assert status == 200

    await tokens.revoke(name="retired")
    status, body = await gql(client, FEED, token=secret)

    assert body.get("errors"), body
    assert error_code(body) == U
    assert status == 401
    assert body.get("data") is None


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token ndk_abc"],
    ids=["basic", "bearer-without-token", "bearer-blank", "other-scheme"],
)
async def test_a_malformed_authorization_header_is_refused(
    client: httpx.AsyncClient, db: None, header: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": FEED}, headers={"Authorization": header}
    )

    body = response.json()
    assert body.get("errors"), body
    assert error_code(body) == U
    assert response.status_code == 401


async def test_a_wrong_token_is_refused_on_a_mutation(client: httpx.AsyncClient, db: None) -> None:
    status, body = await gql(
        client, CREATE_SECTION, {"input": {"name": "Business"}}, token="ndk_wrong"
    )

    assert body.get("errors"), body
    assert error_code(body) == U
    assert status == 401
    assert await Section.all().count() == 0


@pytest.mark.parametrize("role", ["viewer", "author", "editor", "admin"])
async def test_me_names_the_token_holder(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], role: str
) -> None:
    status, body = await gql(client, ME, token=tokens_by_role[role])

    assert "errors" not in body, body
    assert body["data"]["me"] == {"name": f"test-{role}", "role": role.upper()}


async def test_me_is_null_for_an_anonymous_reader(client: httpx.AsyncClient, db: None) -> None:
    status, body = await gql(client, ME)

    assert "errors" not in body, body
    assert status == 200
    assert body["data"] == {"me": None}


async def test_contents_needs_a_token(client: httpx.AsyncClient, db: None) -> None:
    await seed_published(published_at=_past())

    status, body = await gql(client, CONTENTS)

    assert body.get("errors"), body
    assert error_code(body) == U
    assert body["data"] is None


async def test_contents_lists_drafts_for_a_viewer_token(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    await seed_published(published_at=_past(), title="Out there")
    await api_article(client, tokens_by_role["author"], title="Still a draft")

    status, body = await gql(client, CONTENTS, token=tokens_by_role["viewer"])

    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["contents"]["edges"]]
    assert sorted((node["title"], node["status"]) for node in nodes) == [
        ("Out there", "PUBLISHED"),
        ("Still a draft", "DRAFT"),
    ]


async def test_revisions_are_refused_to_anonymous_readers(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    item = await seed_published(published_at=_past())

    status, body = await gql(client, REVISIONS_BY_SLUG, {"slug": item.slug})

    assert body.get("errors"), body
    assert error_code(body) == U
    assert body["errors"][0]["path"] == ["article", "revisions"]
    assert body["data"] == {"article": None}

    status, body = await gql(
        client, REVISIONS_BY_SLUG, {"slug": item.slug}, tokens_by_role["viewer"]
    )
    assert "errors" not in body, body
    assert [r["version"] for r in body["data"]["article"]["revisions"]] == [2, 1]
