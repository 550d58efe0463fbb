"""`firstPublishedAt`: set by the first publication, never moved by a republish or a later
back-dating; a scheduled first publication withdrawn before its time never happened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from cms import clock
from tests.api.conftest import api_article, api_publish, gql_data

ITEM = """
query Item($id: ID!) { node(id: $id) { ... on Content { status publishedAt firstPublishedAt } } }
"""
UNPUBLISH = "mutation U($id: ID!) { unpublish(id: $id) { __typename } }"


def _iso(value: datetime) -> str:
    return value.isoformat()


async def _item(client: httpx.AsyncClient, token: str, id: str) -> dict[str, Any]:
    data = await gql_data(client, ITEM, {"id": id}, token)
    node: dict[str, Any] = data["node"]
    return node


async def test_a_draft_has_none(client: httpx.AsyncClient, tokens_by_role: dict[str, str]) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor)

    assert (await _item(client, editor, article["id"]))["firstPublishedAt"] is None


async def test_republishing_and_back_dating_never_move_it(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor)
    first = (clock.utcnow() - timedelta(hours=2)).replace(microsecond=0)

    await api_publish(client, editor, article["id"], at=_iso(first))
    await gql_data(client, UNPUBLISH, {"id": article["id"]}, editor)
    await api_publish(client, editor, article["id"])  # republished now
    after_republish = await _item(client, editor, article["id"])
    await api_publish(client, editor, article["id"], at=_iso(first - timedelta(days=1)))
    after_back_dating = await _item(client, editor, article["id"])

    assert after_republish["firstPublishedAt"] == _iso(first)
    assert after_republish["publishedAt"] != _iso(first)
    assert after_back_dating["publishedAt"] == _iso(first - timedelta(days=1))
    assert after_back_dating["firstPublishedAt"] == _iso(first)


async def test_a_withdrawn_schedule_leaves_no_first_publication(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor)
    planned = (clock.utcnow() + timedelta(days=1)).replace(microsecond=0)

    await api_publish(client, editor, article["id"], at=_iso(planned))
    scheduled = await _item(client, editor, article["id"])
    await gql_data(client, UNPUBLISH, {"id": article["id"]}, editor)
    withdrawn = await _item(client, editor, article["id"])

    assert scheduled["status"] == "SCHEDULED"
    assert scheduled["firstPublishedAt"] == _iso(planned)
    assert withdrawn["firstPublishedAt"] is None


async def test_a_schedule_that_came_true_stays_the_first_publication(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor)
    planned = (clock.utcnow() + timedelta(days=1)).replace(microsecond=0)
    await api_publish(client, editor, article["id"], at=_iso(planned))

    with clock.frozen(planned + timedelta(hours=1)):
        await gql_data(client, UNPUBLISH, {"id": article["id"]}, editor)
        await api_publish(client, editor, article["id"])
        item = await _item(client, editor, article["id"])

    assert item["firstPublishedAt"] == _iso(planned)
