"""Tags as editors name them: createTag keeps the name's case, updateTag renames a tag (or
changes its slug) and every item carrying it shows and is found by the new name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import ERROR_FIELDS, api_article, api_publish, global_id, gql_data

CREATE = (
    "mutation($input: TagInput!) { createTag(input: $input) "
    "{ __typename ... on Tag { id name slug } ...ErrorFields } }" + ERROR_FIELDS
)
UPDATE = (
    "mutation($id: ID!, $input: TagPatch!) { updateTag(id: $id, input: $input) "
    "{ __typename ... on Tag { id name slug } ...ErrorFields } }" + ERROR_FIELDS
)
ARTICLE = "query($slug: String!) { article(slug: $slug) { tags { name slug } } }"
SEARCH = "query($q: String!) { search(query: $q) { edges { node { slug } } } }"
TAG_PAGE = "query($slug: String!) { tag(slug: $slug) { name content { edges { node { slug } } } } }"


async def _create(client: httpx.AsyncClient, token: str, **input: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql_data(client, CREATE, {"input": input}, token))["createTag"]
    return result


async def _update(client: httpx.AsyncClient, token: str, id: str, **input: Any) -> dict[str, Any]:
    data = await gql_data(client, UPDATE, {"id": id, "input": input}, token)
    result: dict[str, Any] = data["updateTag"]
    return result


async def test_a_created_tag_keeps_the_case_of_its_name(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    tag = await _create(client, editor, name="Actor Forest")
    story = await api_article(client, editor, tagSlugs=["actor-forest"])
    await api_publish(client, editor, story["id"])
    shown = await gql_data(client, ARTICLE, {"slug": story["slug"]})

    assert (tag["__typename"], tag["name"], tag["slug"]) == ("Tag", "Actor Forest", "actor-forest")
    assert shown["article"]["tags"] == [{"name": "Actor Forest", "slug": "actor-forest"}]


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Budget", "slug": "Not a slug"}, "slug"),
        ({"name": "Budget", "slug": "budget"}, "slug"),  # taken
        ({"name": "東京"}, "slug"),  # no letter a slug can hold: the editor must give one
    ],
)
async def test_a_bad_tag_is_a_validation_error_and_saves_nothing(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    input: dict[str, Any],
    field: str,
) -> None:
    editor = tokens_by_role["editor"]
    await _create(client, editor, name="Budget")

    refused = await _create(client, editor, **input)
    listed = await gql_data(client, TAG_PAGE, {"slug": "budget"})

    assert (refused["__typename"], refused["field"]) == ("ValidationError", field)
    assert listed["tag"]["name"] == "Budget"


async def test_a_renamed_tag_is_shown_and_found_by_its_new_name(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    tag = await _create(client, editor, name="Kyiv metro")
    story = await api_article(client, editor, title="Night trains", tagSlugs=["kyiv-metro"])
    await api_publish(client, editor, story["id"])
    assert len((await gql_data(client, SEARCH, {"q": "metro"}))["search"]["edges"]) == 1

    renamed = await _update(client, editor, tag["id"], name="Underground")
    shown = await gql_data(client, ARTICLE, {"slug": story["slug"]})
    found = await gql_data(client, SEARCH, {"q": "underground"})
    gone = await gql_data(client, SEARCH, {"q": "metro"})

    assert (renamed["name"], renamed["slug"]) == ("Underground", "kyiv-metro")
    assert shown["article"]["tags"] == [{"name": "Underground", "slug": "kyiv-metro"}]
    assert [edge["node"]["slug"] for edge in found["search"]["edges"]] == [story["slug"]]
    assert gone["search"]["edges"] == []


async def test_a_new_slug_moves_the_tag_page(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    tag = await _create(client, editor, name="Budget")
    story = await api_article(client, editor, tagSlugs=["budget"])
    await api_publish(client, editor, story["id"])

    moved = await _update(client, editor, tag["id"], slug="city-budget")
    old = await gql_data(client, TAG_PAGE, {"slug": "budget"})
    new = await gql_data(client, TAG_PAGE, {"slug": "city-budget"})

    assert moved["slug"] == "city-budget"
    assert old == {"tag": None}
    assert new["tag"]["content"]["edges"] == [{"node": {"slug": story["slug"]}}]


async def test_updating_a_tag_that_is_not_there_is_not_found(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]

    missing = await _update(client, editor, global_id("Tag", 9_999), name="Nothing")
    wrong_kind = await _update(client, editor, global_id("Section", 1), name="Nothing")

    assert missing["__typename"] == "NotFoundError"
    assert wrong_kind["__typename"] == "NotFoundError"  # a section is no tag


async def test_a_taken_slug_or_a_bad_name_changes_nothing(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    budget = await _create(client, editor, name="Budget")
    await _create(client, editor, name="Transport")

    taken = await _update(client, editor, budget["id"], slug="transport")
    blank = await _update(client, editor, budget["id"], name=" ")
    listed = await gql_data(client, TAG_PAGE, {"slug": "budget"})

    assert (taken["__typename"], taken["field"]) == ("ValidationError", "slug")
    assert (blank["__typename"], blank["field"]) == ("ValidationError", "name")
    assert listed["tag"]["name"] == "Budget"


async def test_a_name_without_latin_letters_takes_the_slug_given(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    tag = await _create(client, tokens_by_role["editor"], name="東京", slug="tokyo")

    assert (tag["name"], tag["slug"]) == ("東京", "tokyo")
