"""Helpers for GraphQL-over-HTTP tests: `gql`, a token per role, and seed data.

Seed data is written through the services (never raw content rows) as an admin viewer,
or through the API when a test needs an item that a given token created.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx
import pytest

from cms.auth import tokens
from cms.models import Author, AuthorKind, Content, ContentKind, Section
from tests import factories
from tests.api.graphql_client import gql

ROLES = ("viewer", "author", "editor", "admin")
SEED_VIEWER = factories.ADMIN_VIEWER

ERROR_FIELDS = """
fragment ErrorFields on Error {
  __typename
  message
  ... on ValidationError { field }
  ... on ConflictError { currentVersion }
}
"""


async def gql_data(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """`data` of a request that must succeed: HTTP 200 and no `errors`."""
    status, body = await gql(client, query, variables, token)
    assert "errors" not in body, body
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def error_code(body: dict[str, Any]) -> str | None:
    """`errors[0].extensions.code` of a response (None when there is no error)."""
    errors = body.get("errors") or []
    return (errors[0].get("extensions") or {}).get("code") if errors else None


def global_id(type_name: str, pk: int) -> str:
    """A well-formed Relay global ID (for rows that may not exist)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def pk_of(id: str) -> int:
    """The primary key inside a global ID (to look rows up in the database)."""
    type_name, _, pk = base64.b64decode(id).decode().partition(":")
    assert type_name and pk.isdigit(), id
    return int(pk)


@pytest.fixture
async def tokens_by_role(db: None) -> dict[str, str]:
    """A fresh secret per role: viewer, author, editor, admin."""
    secrets: dict[str, str] = {}
    for role in ROLES:
        _, secrets[role] = await tokens.create(name=f"test-{role}", role=role)
    return secrets


# --- seed data through the services -----------------------------------------------------


async def seed_section(*, slug: str = "war", name: str = "War") -> Section:
    return await factories.make_section(slug=slug, name=name)


async def seed_author(*, slug: str = "news-desk", name: str = "News desk") -> Author:
    return await factories.make_author(slug=slug, name=name, kind=AuthorKind.DESK)


async def seed_content(
    *,
    kind: ContentKind = ContentKind.ARTICLE,
    title: str = "Volunteers rebuild the district library",
    published_at: datetime | None = None,
    section: str | None = None,
    authors: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
) -> Content:
    """A draft (or, with `published_at`, published at that time) article or episode."""
    make = factories.make_article if kind == ContentKind.ARTICLE else factories.make_video_episode
    return await make(
        title=title, published_at=published_at, section=section, authors=authors, tags=tags
    )


async def seed_draft(**options: Any) -> Content:
    return await seed_content(**options)


async def seed_published(*, published_at: datetime, **options: Any) -> Content:
    return await seed_content(published_at=published_at, **options)


# --- the same through the API, as a given token -----------------------------------------

CREATE_ARTICLE = (
    """
mutation Create($input: ArticleInput!) {
  createArticle(input: $input) {
    __typename
    ... on Article { id slug version status }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)

CREATE_VIDEO_EPISODE = (
    """
mutation Create($input: VideoEpisodeInput!) {
  createVideoEpisode(input: $input) {
    __typename
    ... on VideoEpisode { id slug version status }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)

PUBLISH = (
    """
mutation Publish($id: ID!, $at: DateTime) {
  publish(id: $id, at: $at) {
    __typename
    ... on Content { id status publishedAt version }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)


async def api_article(client: httpx.AsyncClient, token: str, **input: Any) -> dict[str, Any]:
    """createArticle as `token`'s holder; the Article's {id slug version status}."""
    data = await gql_data(client, CREATE_ARTICLE, {"input": {"title": "A story", **input}}, token)
    result: dict[str, Any] = data["createArticle"]
    assert result["__typename"] == "Article", result
    return result


async def api_video_episode(client: httpx.AsyncClient, token: str, **input: Any) -> dict[str, Any]:
    data = await gql_data(
        client,
        CREATE_VIDEO_EPISODE,
        {"input": {"title": "An episode", "videoUrl": "https://video.example/e.mp4", **input}},
        token,
    )
    result: dict[str, Any] = data["createVideoEpisode"]
    assert result["__typename"] == "VideoEpisode", result
    return result


async def api_publish(
    client: httpx.AsyncClient, token: str, id: str, at: str | None = None
) -> dict[str, Any]:
    data = await gql_data(client, PUBLISH, {"id": id, "at": at}, token)
    result: dict[str, Any] = data["publish"]
    assert result["__typename"] in ("Article", "VideoEpisode"), result
    return result
