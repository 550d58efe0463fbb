"""Webhook bodies carry a content item exactly as the API serialises it: every key of
`payloads.content_payload` is a GraphQL field with the same value, and every field of the
GraphQL types is in the payload (the one description of an item, seen twice)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.content import corrections, items, lookups, payloads
from cms.content.links import Links
from cms.models import Content, ContentKind
from tests import factories
from tests.api.conftest import gql_data

SYSTEM = Viewer(name="test", role=Role.ADMIN)
RELATIONS = {
    "section": "{ id name slug }",
    "authors": "{ id name slug kind bio email avatar { ...M } }",
    "tags": "{ id name slug }",
    "heroImage": "{ ...M }",
    "corrections": "{ id at text }",
}
MEDIA = "fragment M on Media { id url mimeType width height altText caption credit }"
# Fields of the GraphQL types a webhook body leaves out, and why.
NOT_IN_PAYLOADS = {
    "revisions",  # token holders' history, not the item
    "ninjs",  # the wire document: GET /ninjs/{id}
    "translations",  # other items (each has its own events)
}


def _document(type_name: str, payload: dict[str, Any]) -> str:
    selections = []
    for key in payload:
        if key in RELATIONS:
            selections.append(f"{key} {RELATIONS[key]}")
        elif key == "body":
            selections.append("body(format: MARKDOWN)")  # integrations get the Markdown
        else:
            selections.append(key)
    return (
        f"query Item($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ "
        + " ".join(selections)
        + " } } }\n"
        + MEDIA
    )


async def _payload(row: Content, settings: Settings) -> dict[str, Any]:
    now = clock.utcnow()
    record = await items.by_id(id=row.id, viewer=SYSTEM, now=now)
    assert record is not None
    found = (await lookups.corrections_for([row.id])).get(row.id, [])
    return payloads.content_payload(record, Links.from_settings(settings), now, found)


async def _item(kind: ContentKind) -> Content:
    section = await factories.make_section(slug="war", name="War")
    author = await factories.make_author(slug="news-desk", bio="The desk.", avatar=True)
    published = clock.utcnow() - timedelta(hours=1)
    if kind == ContentKind.ARTICLE:
        return await factories.make_article(
            dek="A dek.", section=section, authors=[author], tags=["kyiv", "energy"],
            hero_image=True, published_at=published,
        )  # fmt: skip
    return await factories.make_video_episode(
        dek="A dek.", episode_number=12, section=section, authors=[author], tags=["kyiv"],
        hero_image=True, published_at=published,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "type_name"),
    [(ContentKind.ARTICLE, "Article"), (ContentKind.VIDEO_EPISODE, "VideoEpisode")],
)
async def test_the_payload_is_the_api_answer(
    client: httpx.AsyncClient, settings: Settings, kind: ContentKind, type_name: str
) -> None:
    row = await _item(kind)
    await corrections.add(id=row.id, viewer=SYSTEM, correction="The dam is 30 m high.")
    payload = await _payload(row, settings)

    data = await gql_data(client, _document(type_name, payload), {"id": payload["id"]})

    assert data["node"] == payload
    assert [c["text"] for c in payload["corrections"]] == ["The dam is 30 m high."]
    assert payload["firstPublishedAt"] is not None
    assert payload["authors"][0]["avatar"] is not None and payload["heroImage"] is not None


@pytest.mark.parametrize(
    ("kind", "type_name"),
    [(ContentKind.ARTICLE, "Article"), (ContentKind.VIDEO_EPISODE, "VideoEpisode")],
)
async def test_every_field_of_the_type_is_in_the_payload(
    client: httpx.AsyncClient, settings: Settings, kind: ContentKind, type_name: str
) -> None:
    payload = await _payload(await _item(kind), settings)
    query = f'{{ __type(name: "{type_name}") {{ fields {{ name }} }} }}'

    data = await gql_data(client, query)

    fields = {field["name"] for field in data["__type"]["fields"]}
    assert fields - NOT_IN_PAYLOADS == set(payload)
