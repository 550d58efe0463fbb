"""Bylines and sections through the API: what createAuthor, updateAuthor and createSection
accept, and what they refuse as a ValidationError naming the input field (or a
NotFoundError), saving nothing, on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cms.models import Author, Section
from tests.api.conftest import ERROR_FIELDS, global_id, gql_data, seed_author, seed_section

AUTHOR_FIELDS = "... on Author { id name slug kind bio email avatar { id } }"
CREATE_AUTHOR = (
    "mutation C($input: AuthorInput!) { r: createAuthor(input: $input) { __typename "
    + AUTHOR_FIELDS
    + " ...ErrorFields } }"
    + ERROR_FIELDS
)
UPDATE_AUTHOR = (
    "mutation U($id: ID!, $input: AuthorPatch!) { r: updateAuthor(id: $id, input: $input) { "
    "__typename " + AUTHOR_FIELDS + " ...ErrorFields } }" + ERROR_FIELDS
)
CREATE_SECTION = (
    "mutation S($input: SectionInput!) { r: createSection(input: $input) { __typename "
    "... on Section { name slug } ...ErrorFields } }" + ERROR_FIELDS
)


@pytest.fixture
async def editor(tokens_by_role: dict[str, str]) -> str:
    """The editor's secret, with the section "war" and the author "news-desk" in place."""
    await seed_section()
    await seed_author()
    return tokens_by_role["editor"]


async def _result(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    result: dict[str, Any] = (await gql_data(client, document, variables, token))["r"]
    return result


async def _authors() -> list[tuple[Any, ...]]:
    return list(
        await Author.all().order_by("id").values_list("name", "slug", "kind", "bio", "email")
    )


@pytest.mark.parametrize(
    ("input", "field", "message"),
    [
        pytest.param({"name": "  "}, "name", "name must not be empty", id="blank-name"),
        pytest.param(
            {"name": "n" * 201}, "name", "name must be at most 200 characters", id="name-201"
        ),
        pytest.param(
            {"name": "A", "bio": "b" * 5_001},
            "bio",
            "bio must be at most 5000 characters",
            id="bio-5001",
        ),
        pytest.param(
            {"name": "A", "email": "e" * 243 + "@example.org"},
            "email",
            "email must be at most 254 characters",
            id="email-255",
        ),
        pytest.param(
            {"name": "A", "email": "reporter at example.org"},
            "email",
            "email is not an email address",
            id="email-without-at",
        ),
        pytest.param(
            {"name": "A", "email": "a@b\u0000.org"},
            "email",
            "email must be text without NUL characters",
            id="email-with-nul",
        ),
        pytest.param(
            {"name": "A", "avatarId": global_id("Media", 999)},
            "avatarId",
            "no media has that avatarId",
            id="unknown-avatar",
        ),
        pytest.param(
            {"name": "Another desk", "slug": "news-desk"},
            "slug",
            "an author with that slug exists",
            id="slug-taken",
        ),
    ],
)
async def test_an_invalid_author_is_a_validation_error_and_saves_nothing(
    client: httpx.AsyncClient, editor: str, input: dict[str, Any], field: str, message: str
) -> None:
    before = await _authors()

    result = await _result(client, CREATE_AUTHOR, {"input": input}, editor)

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert result["message"].startswith(message)
    assert await _authors() == before


async def test_author_limits_are_inclusive_and_blank_optional_text_is_null(
    client: httpx.AsyncClient, editor: str
) -> None:
    email = "e" * 242 + "@example.org"  # 254 characters
    result = await _result(
        client,
        CREATE_AUTHOR,
        {"input": {"name": " " + "n" * 200 + " ", "bio": "b" * 5_000, "email": f" {email} "}},
        editor,
    )

    assert result["__typename"] == "Author", result
    assert (result["name"], result["bio"], result["email"]) == ("n" * 200, "b" * 5_000, email)

    blank = await _result(
        client, CREATE_AUTHOR, {"input": {"name": "Desk", "bio": "  ", "email": ""}}, editor
    )

    assert blank["__typename"] == "Author", blank
    assert (blank["slug"], blank["bio"], blank["email"]) == ("desk", None, None)


async def test_updating_a_missing_author_is_not_found(
    client: httpx.AsyncClient, editor: str
) -> None:
    result = await _result(
        client, UPDATE_AUTHOR, {"id": global_id("Author", 999), "input": {"bio": "B"}}, editor
    )

    assert result["__typename"] == "NotFoundError", result
    assert result["message"] == "no author has that id"


async def test_an_empty_author_patch_changes_nothing_and_answers_the_author(
    client: httpx.AsyncClient, editor: str
) -> None:
    created = await _result(
        client, CREATE_AUTHOR, {"input": {"name": "Jo Reporter", "bio": "Covers courts"}}, editor
    )
    before = await _authors()

    result = await _result(client, UPDATE_AUTHOR, {"id": created["id"], "input": {}}, editor)

    assert result == created
    assert await _authors() == before


async def test_an_author_patch_changes_the_fields_given(
    client: httpx.AsyncClient, editor: str
) -> None:
    created = await _result(
        client, CREATE_AUTHOR, {"input": {"name": "Jo", "email": "jo@example.org"}}, editor
    )

    result = await _result(
        client,
        UPDATE_AUTHOR,
        {"id": created["id"], "input": {"slug": "jo-r", "bio": "Courts", "email": None}},
        editor,
    )

    assert result["__typename"] == "Author", result
    assert (result["name"], result["slug"], result["bio"], result["email"]) == (
        "Jo",
        "jo-r",
        "Courts",
        None,
    )


@pytest.mark.parametrize(
    ("input", "field"),
    [
        pytest.param({"slug": "news-desk"}, "slug", id="slug-taken"),
        pytest.param({"email": "not an email"}, "email", id="bad-email"),
        pytest.param({"name": ""}, "name", id="empty-name"),
    ],
)
async def test_an_invalid_author_patch_is_a_validation_error_and_changes_nothing(
    client: httpx.AsyncClient, editor: str, input: dict[str, Any], field: str
) -> None:
    created = await _result(client, CREATE_AUTHOR, {"input": {"name": "Jo"}}, editor)
    before = await _authors()

    result = await _result(client, UPDATE_AUTHOR, {"id": created["id"], "input": input}, editor)

    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await _authors() == before


@pytest.mark.parametrize(
    ("input", "field", "message"),
    [
        pytest.param(
            {"name": "Another war", "slug": "war"},
            "slug",
            "a section with that slug exists",
            id="slug-taken",
        ),
        pytest.param({"name": " "}, "name", "name must not be empty", id="blank-name"),
        pytest.param(
            {"name": "s" * 101}, "name", "name must be at most 100 characters", id="name-101"
        ),
    ],
)
async def test_an_invalid_section_is_a_validation_error_and_saves_nothing(
    client: httpx.AsyncClient, editor: str, input: dict[str, Any], field: str, message: str
) -> None:
    result = await _result(client, CREATE_SECTION, {"input": input}, editor)

    assert result["__typename"] == "ValidationError", result
    assert (result["field"], result["message"]) == (field, message)
    assert await Section.all().values_list("slug", flat=True) == ["war"]


async def test_a_section_name_of_100_characters_is_accepted(
    client: httpx.AsyncClient, editor: str
) -> None:
    result = await _result(client, CREATE_SECTION, {"input": {"name": "s" * 100}}, editor)

    assert result["__typename"] == "Section", result
    assert result["name"] == "s" * 100
