"""The exported SDL is current, and the schema has every read-API name of CONTRACT.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    print_ast,
)

import schema as newsdesk_schema
from cms.config import Settings

SDL_FILE = Path(newsdesk_schema.__file__).resolve().parent / "schema.graphql"


@pytest.fixture(scope="module")
def sdl() -> str:
    return newsdesk_schema.build_schema(Settings()).as_str()


@pytest.fixture(scope="module")
def parsed(sdl: str) -> GraphQLSchema:
    return build_schema(sdl)


def test_schema_graphql_is_current(sdl: str) -> None:
    assert SDL_FILE.is_file(), f"{SDL_FILE} is missing: run make schema"
    exported = SDL_FILE.read_text(encoding="utf-8")
    assert exported.rstrip("\n") == sdl.rstrip("\n"), (
        f"{SDL_FILE} differs from the live schema: run make schema (and review the diff: "
        "a rename or removal is a breaking change)"
    )


# The read API as CONTRACT.md names it: field -> type, as printed in SDL.
NODE_FIELDS = {"id": "ID!"}
CONTENT_FIELDS = {
    "id": "ID!",
    "kind": "ContentKind!",
    "title": "String!",
    "slug": "String!",
    "dek": "String",
    "status": "ContentStatus!",
    "publishedAt": "DateTime",
    "updatedAt": "DateTime!",
    "version": "Int!",
    "locale": "String!",
    "url": "String!",
    "section": "Section",
    "authors": "[Author!]!",
    "tags": "[Tag!]!",
    "heroImage": "Media",
    "firstPublishedAt": "DateTime",
    "significantlyUpdatedAt": "DateTime",
    "expiresAt": "DateTime",
    "corrections": "[Correction!]!",
    "pinnedUntil": "DateTime",
    "ninjs": "JSON!",
}
OBJECTS = {
    "Article": {**CONTENT_FIELDS, "body": "String!", "readingTimeMinutes": "Int!"},
    "VideoEpisode": {
        **CONTENT_FIELDS,
        "description": "String",
        "videoUrl": "String!",
        "durationSeconds": "Int",
        "show": "String",
        "episodeNumber": "Int",
    },
    "Author": {
        "id": "ID!",
        "name": "String!",
        "slug": "String!",
        "kind": "AuthorKind!",
        "bio": "String",
        "email": "String",
        "avatar": "Media",
        "content": "ContentConnection!",
    },
    "Section": {"id": "ID!", "name": "String!", "slug": "String!"},
    "Tag": {"id": "ID!", "name": "String!", "slug": "String!"},
    "Media": {
        "id": "ID!",
        "url": "String!",
        "mimeType": "String!",
        "width": "Int",
        "height": "Int",
        "altText": "String",
        "caption": "String",
        "credit": "String",
    },
    "Correction": {"id": "ID!", "at": "DateTime!", "text": "String!"},
    "Revision": {"note": "String"},
    "ContentConnection": {"edges": "[ContentEdge!]!", "pageInfo": "PageInfo!"},
    "ContentEdge": {"cursor": "String!", "node": "Content!"},
    "PageInfo": {
        "hasNextPage": "Boolean!",
        "hasPreviousPage": "Boolean!",
        "startCursor": "String",
        "endCursor": "String",
    },
}
INTERFACES = {"Node": (NODE_FIELDS, set()), "Content": (CONTENT_FIELDS, {"Node"})}
IMPLEMENTS = {
    "Article": {"Node", "Content"},
    "VideoEpisode": {"Node", "Content"},
    "Author": {"Node"},
    "Section": {"Node"},
    "Tag": {"Node"},
    "Media": {"Node"},
}
ENUMS = {
    "ContentKind": {"ARTICLE", "VIDEO_EPISODE"},
    "ContentStatus": {
        "DRAFT",
        "IN_REVIEW",
        "SCHEDULED",
        "PUBLISHED",
        "ARCHIVED",
        "KILLED",
        "EXPIRED",
    },  # fmt: skip
    "AuthorKind": {"DESK", "PERSON"},
    **dict.fromkeys(
        ("WebhookEventType", "FeedEventType"),
        {
            "CONTENT_PUBLISHED",
            "CONTENT_UPDATED",
            "CONTENT_UNPUBLISHED",
            "CONTENT_DELETED",
            "CONTENT_SUBMITTED",
            "CONTENT_CHANGES_REQUESTED",
            "CONTENT_CORRECTED",
            "CONTENT_KILLED",
            "CONTENT_EXPIRED",
        },
    ),  # fmt: skip
    "BodyFormat": {"MARKDOWN", "HTML", "TEXT"},
}
# field -> (type, {argument: type})
QUERY = {
    "feed": (
        "ContentConnection!",
        {
            "first": "Int",
            "after": "String",
            "section": "String",
            "tag": "String",
            "author": "String",
            "kinds": "[ContentKind!]",
            "locale": "String",
            "fallbackLocale": "String",
        },
    ),
    "contents": (
        "ContentConnection!",
        {
            "status": "[ContentStatus!]",
            "kinds": "[ContentKind!]",
            "first": "Int",
            "after": "String",
            "query": "String",
        },
    ),
    "search": (
        "ContentConnection!",
        {
            "query": "String!",
            "first": "Int",
            "after": "String",
            "kinds": "[ContentKind!]",
            "section": "String",
            "locale": "String",
            "order": "SearchOrder!",
        },
    ),
    "article": ("Article", {"slug": "String!"}),
    "videoEpisode": ("VideoEpisode", {"slug": "String!"}),
    "author": ("Author", {"slug": "String!"}),
    "sections": ("[Section!]!", {}),
    "node": ("Node", {"id": "ID!"}),
    "me": ("Viewer", {}),
    "pinned": ("[Content!]!", {"section": "String"}),
}
FIELD_ARGUMENTS = {
    ("Article", "body"): {"format": "BodyFormat"},
    ("Author", "content"): {"first": "Int", "after": "String"},
}


def _default(argument: GraphQLArgument) -> str | None:
    """An argument's default value as SDL prints it, or None without one."""
    node = argument.ast_node
    if node is None or node.default_value is None:
        return None
    return print_ast(node.default_value)


def _fields(type_: GraphQLObjectType | GraphQLInterfaceType) -> dict[str, str]:
    return {name: str(field.type) for name, field in type_.fields.items()}


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_object_types_have_the_contract_fields(parsed: GraphQLSchema, name: str) -> None:
    type_ = parsed.get_type(name)
    assert isinstance(type_, GraphQLObjectType), f"type {name} is missing"
    fields = _fields(type_)
    expected = OBJECTS[name]
    assert {field: fields.get(field) for field in expected} == expected
    implemented = {interface.name for interface in type_.interfaces}
    assert IMPLEMENTS.get(name, set()) <= implemented


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_interfaces_have_the_contract_fields(parsed: GraphQLSchema, name: str) -> None:
    type_ = parsed.get_type(name)
    assert isinstance(type_, GraphQLInterfaceType), f"interface {name} is missing"
    expected, parents = INTERFACES[name]
    fields = _fields(type_)
    assert {field: fields.get(field) for field in expected} == expected
    assert parents <= {interface.name for interface in type_.interfaces}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enums_have_the_contract_values(parsed: GraphQLSchema, name: str) -> None:
    type_ = parsed.get_type(name)
    assert isinstance(type_, GraphQLEnumType), f"enum {name} is missing"
    assert set(type_.values) == ENUMS[name]


@pytest.mark.parametrize("name", sorted(QUERY))
def test_query_fields_and_arguments(parsed: GraphQLSchema, name: str) -> None:
    assert parsed.query_type is not None
    field = parsed.query_type.fields.get(name)
    assert field is not None, f"Query.{name} is missing"
    expected_type, expected_arguments = QUERY[name]
    assert str(field.type) == expected_type
    assert {arg: str(value.type) for arg, value in field.args.items()} == expected_arguments


def test_feed_pages_at_20_by_default(parsed: GraphQLSchema) -> None:
    assert parsed.query_type is not None
    assert _default(parsed.query_type.fields["feed"].args["first"]) == "20"


@pytest.mark.parametrize(("type_name", "field_name"), sorted(FIELD_ARGUMENTS))
def test_field_arguments(parsed: GraphQLSchema, type_name: str, field_name: str) -> None:
    type_ = parsed.get_type(type_name)
    assert isinstance(type_, GraphQLObjectType)
    arguments = {arg: str(value.type) for arg, value in type_.fields[field_name].args.items()}
    assert arguments == FIELD_ARGUMENTS[(type_name, field_name)]


def test_body_format_defaults_to_html(parsed: GraphQLSchema) -> None:
    article = parsed.get_type("Article")
    assert isinstance(article, GraphQLObjectType)
    assert _default(article.fields["body"].args["format"]) == "HTML"


def test_viewer_is_name_and_role(parsed: GraphQLSchema) -> None:
    viewer = parsed.get_type("Viewer")
    assert isinstance(viewer, GraphQLObjectType)
    assert {"name", "role"} <= set(viewer.fields)


def test_the_sdl_is_the_same_whatever_the_settings(sdl: str) -> None:
    other = Settings(max_page_size=10, env="production", site_url="https://elsewhere.example")
    assert newsdesk_schema.build_schema(other).as_str() == sdl


@pytest.mark.parametrize("name", ["updateArticle", "updateVideoEpisode"])
def test_significant_is_a_nullable_boolean_defaulting_to_false(
    parsed: GraphQLSchema, name: str
) -> None:
    """CONTRACT.md: `significant: Boolean = false` (a client may send null)."""
    assert parsed.mutation_type is not None
    argument = parsed.mutation_type.fields[name].args["significant"]
    assert str(argument.type) == "Boolean"
    assert _default(argument) == "false"
