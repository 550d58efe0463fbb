"""Safe concurrent writes over GraphQL, on SQLite and on PostgreSQL: optimistic
concurrency, no lost updates, and idempotent creates when retries race."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from cms.models import Content, OutboxEvent, Revision, Tag
from tests.api.conftest import api_article, gql, pk_of

CALLS = 20

UPDATE_ARTICLE = """
mutation Update($id: ID!, $title: String!, $expectedVersion: Int) {
  updateArticle(id: $id, input: {title: $title}, expectedVersion: $expectedVersion) {
    __typename
    ... on Article { id title version }
    ... on ConflictError { message currentVersion }
    ... on Error { message }
  }
}
"""
CREATE_ARTICLE = """
mutation Create($input: ArticleInput!) {
  createArticle(input: $input) {
    __typename
    ... on Article { id slug title version tags { slug } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}
"""


async def _results(
    client: httpx.AsyncClient, document: str, variables: list[dict[str, Any]], token: str
) -> list[dict[str, Any]]:
    """Send every request at once; the one root field's result of each (no GraphQL errors)."""
    answers = await asyncio.gather(*(gql(client, document, v, token) for v in variables))
    results = []
    for status, body in answers:
        assert "errors" not in body, body
        assert status == 200, body
        (result,) = body["data"].values()
        results.append(result)
    return results


async def test_concurrent_updates_with_the_same_expected_version_let_exactly_one_win(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor, title="Before")
    pk = pk_of(article["id"])
    outbox_before = await OutboxEvent.all().count()

    results = await _results(
        client,
        UPDATE_ARTICLE,
        [{"id": article["id"], "title": f"Edit {n}", "expectedVersion": 1} for n in range(CALLS)],
        editor,
    )

    kinds = Counter(result["__typename"] for result in results)
    assert kinds == {"Article": 1, "ConflictError": CALLS - 1}, results
    (winner,) = [result for result in results if result["__typename"] == "Article"]
    assert winner["version"] == 2
    assert all(
        result["currentVersion"] == 2
        for result in results
        if result["__typename"] == "ConflictError"
    ), results
    content = await Content.get(id=pk)
    assert (content.version, content.title) == (2, winner["title"])
    revisions = await Revision.filter(content_id=pk).order_by("version")
    assert [(r.version, r.title) for r in revisions] == [(1, "Before"), (2, winner["title"])]
    assert await OutboxEvent.all().count() == outbox_before + 1


async def test_concurrent_updates_without_expected_version_are_never_lost(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor, title="Before")
    pk = pk_of(article["id"])

    results = await _results(
        client,
        UPDATE_ARTICLE,
        [{"id": article["id"], "title": f"Edit {n}"} for n in range(CALLS)],
        editor,
    )

    assert [result["__typename"] for result in results] == ["Article"] * CALLS, results
    content = await Content.get(id=pk)
    assert content.version == CALLS + 1
    revisions = await Revision.filter(content_id=pk).order_by("version")
    assert [r.version for r in revisions] == list(range(1, CALLS + 2))
    # Every edit was saved once, as its own revision: none overwrote another.
    assert sorted(r.title for r in revisions[1:]) == sorted(f"Edit {n}" for n in range(CALLS))
    assert content.title == revisions[-1].title


async def test_each_concurrent_update_answers_with_the_version_it_saved(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """The Article a mutation returns is the item as that mutation saved it, not as a
    later writer left it: its version and title match its own revision."""
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor, title="Before")
    pk = pk_of(article["id"])

    results = await _results(
        client,
        UPDATE_ARTICLE,
        [{"id": article["id"], "title": f"Edit {n}"} for n in range(CALLS)],
        editor,
    )

    assert [result["__typename"] for result in results] == ["Article"] * CALLS, results
    assert sorted(result["version"] for result in results) == list(range(2, CALLS + 2))
    revisions = await Revision.filter(content_id=pk, version__gt=1)
    assert {r.version: r.title for r in revisions} == {
        result["version"]: result["title"] for result in results
    }


async def test_concurrent_creates_with_one_external_id_give_one_article(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    results = await _results(
        client,
        CREATE_ARTICLE,
        [
            {"input": {"title": "From the wire", "externalId": "wire-1", "body": f"Try {n}"}}
            for n in range(CALLS)
        ],
        editor,
    )

    assert [result["__typename"] for result in results] == ["Article"] * CALLS, results
    assert len({result["id"] for result in results}) == 1
    assert {(result["slug"], result["version"]) for result in results} == {("from-the-wire", 1)}
    assert await Content.filter(external_id="wire-1").count() == 1
    assert await Content.all().count() == 1
    assert await Revision.all().count() == 1
    assert await OutboxEvent.all().count() == 1


async def test_concurrent_creates_with_one_title_get_distinct_slugs(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    results = await _results(
        client, CREATE_ARTICLE, [{"input": {"title": "Same title"}}] * CALLS, editor
    )

    assert [result["__typename"] for result in results] == ["Article"] * CALLS, results
    expected = ["same-title"] + [f"same-title-{n}" for n in range(2, CALLS + 1)]
    assert sorted(result["slug"] for result in results) == sorted(expected)
    assert await Content.all().count() == CALLS


async def test_concurrent_creates_with_one_new_tag_create_it_once(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    results = await _results(
        client,
        CREATE_ARTICLE,
        [{"input": {"title": f"Story {n}", "tagSlugs": ["breaking"]}} for n in range(CALLS)],
        editor,
    )

    assert [result["__typename"] for result in results] == ["Article"] * CALLS, results
    assert all(result["tags"] == [{"slug": "breaking"}] for result in results)
    assert await Tag.filter(slug="breaking").count() == 1
    assert await Content.all().count() == CALLS
