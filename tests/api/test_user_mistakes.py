"""A client's mistake is a clear error, never an internal one (issue item 6): IDs and
cursors with 30-40 digit ids or non-ASCII digits, times past the year 9999 or before the
year 1 once in UTC, text no database stores (a lone surrogate, a NUL) and megabyte slugs.
A mutation answers a ValidationError naming the input field; a query a GraphQL error
naming the argument (BAD_USER_INPUT), in production as in development, on SQLite and
PostgreSQL. Messages never repeat a long value whole.

Requests are sent as ASCII JSON ("\\ud800" escaped), as a client that meant to send a lone
surrogate would: httpx's own encoder would refuse to put one in UTF-8.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from cms.config import Settings
from tests.api.conftest import ERROR_FIELDS, api_article, api_publish, global_id
from tests.api.graphql_client import app_client, error_codes

ENVS = ["development", "production"]

HUGE = "a" * 1_000_000  # a megabyte slug
MESSAGE_LIMIT = 200  # no message in these answers is longer


def spelled(text: str) -> str:
    """A global ID that spells `text` ("Article:١"): base64 of its UTF-8 bytes."""
    return base64.b64encode(text.encode()).decode()


def respelled(id: str) -> str:
    """`id` with the unused low bits of its last base64 digit set: the same bytes, spelled
    another way (an ID whose bytes do not fill whole base64 digits ends in padding)."""
    assert id.endswith("="), id
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = len(id.rstrip("=")) - 1
    other = id[:last] + digits[digits.index(id[last]) + 1] + id[last + 1 :]
    assert base64.b64decode(other) == base64.b64decode(id)
    return other


def cursor(text: str) -> str:
    """A cursor that spells `text` ("2026-01-01T00:00:00+00:00|7")."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """The JSON answer of POST /graphql, the body sent as ASCII JSON; the status is 200."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text[:500]
    answer: dict[str, Any] = response.json()
    return answer


def result(answer: dict[str, Any]) -> dict[str, Any]:
    """The mutation's one result (aliased `r`): there must be no GraphQL error."""
    assert "errors" not in answer, answer
    member: dict[str, Any] = answer["data"]["r"]
    return member


def argument_error(answer: dict[str, Any]) -> tuple[str | None, str]:
    """(code, message) of a query's one GraphQL error."""
    assert len(answer["errors"]) == 1, answer
    return error_codes(answer)[0], answer["errors"][0]["message"]


@pytest.fixture
def production(settings: Settings) -> Settings:
    return settings.model_copy(update={"env": "production"})


def environment(settings: Settings, env: str) -> Settings:
    return settings.model_copy(update={"env": env})


# --- IDs -------------------------------------------------------------------------------

BIG = "1" * 35
MAX_PK = 2**31 - 1
BAD_PKS = {
    "35 digits": BIG,
    "40 digits": "9" * 40,
    "one past the largest id": str(MAX_PK + 1),
    "an Arabic-Indic digit": "\u0661",
    "a sign": "+1",
    "a space": " 1",
    "a separator": "1_000",
    "a leading zero": "01",
    "zero": "0",
    "a negative": "-1",
}

UPDATE_ARTICLE = (
    'mutation($id: ID!) { r: updateArticle(id: $id, input: {title: "T"}) { ...ErrorFields } }'
)
UPDATE_VIDEO_EPISODE = (
    'mutation($id: ID!) { r: updateVideoEpisode(id: $id, input: {title: "T"}) { ...ErrorFields } }'
)
PUBLISH = "mutation($id: ID!) { r: publish(id: $id) { ...ErrorFields } }"
RESTORE = "mutation($id: ID!) { r: restoreRevision(id: $id) { ...ErrorFields } }"
UPDATE_AUTHOR = (
    'mutation($id: ID!) { r: updateAuthor(id: $id, input: {bio: "B"}) { ...ErrorFields } }'
)
HERO_IMAGE = (
    'mutation($id: ID!) { r: createArticle(input: {title: "T", heroImageId: $id}) '
    "{ ...ErrorFields } }"
)
AVATAR = (
    'mutation($id: ID!) { r: createAuthor(input: {name: "N", avatarId: $id}) { ...ErrorFields } }'
)

# name: (document, the type the ID names, the input field)
ID_MUTATIONS = {
    "updateArticle": (UPDATE_ARTICLE, "Article", "id"),
    "updateVideoEpisode": (UPDATE_VIDEO_EPISODE, "VideoEpisode", "id"),
    "publish": (PUBLISH, "Article", "id"),
    "restoreRevision": (RESTORE, "Revision", "id"),
    "updateAuthor": (UPDATE_AUTHOR, "Author", "id"),
    "heroImageId": (HERO_IMAGE, "Media", "heroImageId"),
    "avatarId": (AVATAR, "Media", "avatarId"),
}


@pytest.mark.parametrize(
    ("document", "type_name", "field"), ID_MUTATIONS.values(), ids=list(ID_MUTATIONS)
)
async def test_an_id_no_row_can_have_is_a_validation_error_on_its_field(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    document: str,
    type_name: str,
    field: str,
) -> None:
    answers = {
        name: result(
            await post(
                client,
                document + ERROR_FIELDS,
                {"id": spelled(f"{type_name}:{pk}")},
                tokens_by_role["editor"],
            )
        )
        for name, pk in BAD_PKS.items()
    }

    expected = {
        "__typename": "ValidationError",
        "message": f"{field} is not a valid ID",
        "field": field,
    }
    assert answers == dict.fromkeys(BAD_PKS, expected)


async def test_the_largest_id_is_a_valid_id_of_nothing(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    node = await post(client, NODE, {"id": global_id("Article", MAX_PK)})
    update = result(
        await post(
            client,
            UPDATE_ARTICLE + ERROR_FIELDS,
            {"id": global_id("Article", MAX_PK)},
            tokens_by_role["editor"],
        )
    )

    assert node["data"] == {"node": None}
    assert update == {"__typename": "NotFoundError", "message": "no content has that id"}


NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.mark.parametrize("env", ENVS)
async def test_node_names_its_argument_for_an_id_no_row_can_have(
    settings: Settings, tokens_by_role: dict[str, str], env: str
) -> None:
    ids = {
        f"{type_name} with {name}": spelled(f"{type_name}:{pk}")
        for type_name in ("Article", "VideoEpisode", "Author", "Section", "Tag", "Media")
        for name, pk in BAD_PKS.items()
    }
    ids |= {
        "a lone surrogate": "\ud800",
        "a megabyte": HUGE,
        "another spelling of Article:10": respelled(global_id("Article", 10)),
        "not base64": "Article:1",
    }

    async with app_client(environment(settings, env)) as client:
        answers = {
            name: argument_error(await post(client, NODE, {"id": id})) for name, id in ids.items()
        }

    assert answers == dict.fromkeys(ids, ("BAD_USER_INPUT", "id is not a valid ID"))


async def test_one_item_has_one_id(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """A leading zero or non-ASCII digits never reach the item (another base64 spelling of
    its bytes neither: see the test above)."""
    article = await api_article(client, tokens_by_role["editor"])
    pk = base64.b64decode(article["id"]).decode().partition(":")[2]
    found = await post(client, NODE, {"id": article["id"]}, tokens_by_role["editor"])
    others = [
        spelled(f"Article:0{pk}"),
        spelled(f"Article:{pk}".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
    ]

    answers = [await post(client, NODE, {"id": id}, tokens_by_role["editor"]) for id in others]

    assert found["data"] == {"node": {"id": article["id"]}}
    assert [answer["data"]["node"] for answer in answers] == [None, None]
    assert [argument_error(answer)[1] for answer in answers] == ["id is not a valid ID"] * 2


# --- cursors ---------------------------------------------------------------------------

BAD_CURSORS = {
    "year 1 at +14:00": cursor("0001-01-01T00:00:00+14:00|5"),
    "year 9999 at -14:00": cursor("9999-12-31T23:59:59-14:00|5"),
    "a 40-digit id": cursor("2026-01-01T00:00:00+00:00|" + "9" * 40),
    "an id past int32": cursor(f"2026-01-01T00:00:00+00:00|{MAX_PK + 1}"),
    "an Arabic-Indic id": cursor("2026-01-01T00:00:00+00:00|\u0661"),
    "no timezone": cursor("2026-01-01T00:00:00|5"),
    "a lone surrogate": "\ud800",
    "a megabyte": HUGE,
}
CURSOR_QUERIES = {
    "feed": ("query($a: String) { feed(after: $a) { edges { cursor } } }", "viewer"),
    "search": ('query($a: String) { search(query: "war", after: $a) { edges { cursor } } }', None),
    "contents": ("query($a: String) { contents(after: $a) { edges { cursor } } }", "viewer"),
}


@pytest.mark.parametrize("env", ENVS)
async def test_a_cursor_no_page_can_have_is_an_error_naming_after(
    settings: Settings, tokens_by_role: dict[str, str], env: str
) -> None:
    async with app_client(environment(settings, env)) as client:
        answers = {
            (query_name, name): argument_error(
                await post(client, query, {"a": value}, tokens_by_role[role] if role else None)
            )
            for query_name, (query, role) in CURSOR_QUERIES.items()
            for name, value in BAD_CURSORS.items()
        }

    expected = ("BAD_USER_INPUT", "invalid cursor: pass an endCursor from a previous page")
    assert answers == dict.fromkeys(answers, expected)
    assert len(answers) == len(CURSOR_QUERIES) * len(BAD_CURSORS)


async def test_a_cursor_at_the_ends_of_time_is_a_page_of_what_lies_beyond(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    article = await api_article(client, tokens_by_role["editor"])
    await api_publish(client, tokens_by_role["editor"], article["id"])
    query = "query($a: String) { feed(after: $a) { edges { node { id } } } }"

    before_everything = await post(client, query, {"a": cursor("0001-01-01T00:00:00+00:00|1")})
    after_everything = await post(client, query, {"a": cursor("9999-12-31T23:59:59+00:00|1")})

    assert before_everything["data"] == {"feed": {"edges": []}}
    assert after_everything["data"] == {"feed": {"edges": [{"node": {"id": article["id"]}}]}}


# --- text ------------------------------------------------------------------------------

UNSTORABLE = {"a lone surrogate": "war \ud800 news", "a NUL": "war \x00 news"}

CREATE_ARTICLE = (
    "mutation($input: ArticleInput!) { r: createArticle(input: $input) "
    "{ __typename ...ErrorFields } }" + ERROR_FIELDS
)
CREATE_AUTHOR = (
    "mutation($input: AuthorInput!) { r: createAuthor(input: $input) "
    "{ __typename ...ErrorFields } }" + ERROR_FIELDS
)
CREATE_SECTION = (
    "mutation($input: SectionInput!) { r: createSection(input: $input) "
    "{ __typename ...ErrorFields } }" + ERROR_FIELDS
)


def _article_input(field: str, value: str) -> dict[str, Any]:
    listed = field in ("tagSlugs", "authorSlugs")
    return {"title": "A story", field: [value] if listed else value}


@pytest.mark.parametrize("text", UNSTORABLE.values(), ids=list(UNSTORABLE))
@pytest.mark.parametrize(
    "field", ["title", "slug", "dek", "body", "externalId", "locale", "sectionSlug", "tagSlugs"]
)
async def test_text_no_database_stores_is_a_validation_error_on_its_field(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], field: str, text: str
) -> None:
    answer = result(
        await post(
            client,
            CREATE_ARTICLE,
            {"input": _article_input(field, text)},
            tokens_by_role["editor"],
        )
    )

    assert (answer["__typename"], answer["field"]) == ("ValidationError", field), answer


@pytest.mark.parametrize("text", UNSTORABLE.values(), ids=list(UNSTORABLE))
async def test_unstorable_text_in_authors_and_sections_names_its_field(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], text: str
) -> None:
    editor = tokens_by_role["editor"]
    cases = {
        "author name": (CREATE_AUTHOR, {"name": text}, "name"),
        "author bio": (CREATE_AUTHOR, {"name": "N", "bio": text}, "bio"),
        "author email": (CREATE_AUTHOR, {"name": "N", "email": text}, "email"),
        "author slug": (CREATE_AUTHOR, {"name": "N", "slug": text}, "slug"),
        "section name": (CREATE_SECTION, {"name": text}, "name"),
        "section slug": (CREATE_SECTION, {"name": "N", "slug": text}, "slug"),
        "authorSlugs": (CREATE_ARTICLE, _article_input("authorSlugs", text), "authorSlugs"),
    }

    answers = {
        name: result(await post(client, document, {"input": input}, editor))
        for name, (document, input, _) in cases.items()
    }

    assert {name: (a["__typename"], a["field"]) for name, a in answers.items()} == {
        name: ("ValidationError", field) for name, (_, _, field) in cases.items()
    }
    assert all(len(a["message"]) < MESSAGE_LIMIT for a in answers.values()), answers


TEXT_QUERIES = {
    "search query": ("query($t: String!) { search(query: $t) { edges { cursor } } }", "query"),
    "feed section": ("query($t: String!) { feed(section: $t) { edges { cursor } } }", "section"),
    "feed tag": ("query($t: String!) { feed(tag: $t) { edges { cursor } } }", "tag"),
    "feed author": ("query($t: String!) { feed(author: $t) { edges { cursor } } }", "author"),
    "feed locale": ("query($t: String!) { feed(locale: $t) { edges { cursor } } }", "locale"),
    "feed fallbackLocale": (
        'query($t: String!) { feed(locale: "uk", fallbackLocale: $t) { edges { cursor } } }',
        "fallbackLocale",
    ),
    "article slug": ("query($t: String!) { article(slug: $t) { id } }", "slug"),
    "videoEpisode slug": ("query($t: String!) { videoEpisode(slug: $t) { id } }", "slug"),
    "author slug": ("query($t: String!) { author(slug: $t) { id } }", "slug"),
    "tag slug": ("query($t: String!) { tag(slug: $t) { id } }", "slug"),
    "section slug": ("query($t: String!) { section(slug: $t) { id } }", "slug"),
}


@pytest.mark.parametrize("env", ENVS)
async def test_unstorable_text_in_a_query_argument_is_an_error_naming_it(
    settings: Settings, db: None, env: str
) -> None:
    async with app_client(environment(settings, env)) as client:
        answers = {
            (query_name, text_name): argument_error(await post(client, query, {"t": text}))
            for query_name, (query, _) in TEXT_QUERIES.items()
            for text_name, text in UNSTORABLE.items()
        }

    assert answers == {
        (query_name, text_name): (
            "BAD_USER_INPUT",
            f"{argument} must be text without NUL characters or unpaired surrogates "
            "(send it as valid UTF-8)",
        )
        for query_name, (_, argument) in TEXT_QUERIES.items()
        for text_name in UNSTORABLE
    }


# --- lengths ---------------------------------------------------------------------------


async def test_a_megabyte_slug_is_refused_without_being_echoed(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    cases = {
        "slug": (CREATE_ARTICLE, _article_input("slug", HUGE), "slug"),
        "sectionSlug": (CREATE_ARTICLE, _article_input("sectionSlug", HUGE), "sectionSlug"),
        "authorSlugs": (CREATE_ARTICLE, _article_input("authorSlugs", HUGE), "authorSlugs"),
        "tagSlugs": (CREATE_ARTICLE, _article_input("tagSlugs", HUGE), "tagSlugs"),
        "externalId": (CREATE_ARTICLE, _article_input("externalId", HUGE), "externalId"),
        "author slug": (CREATE_AUTHOR, {"name": "N", "slug": HUGE}, "slug"),
        "section slug": (CREATE_SECTION, {"name": "N", "slug": HUGE}, "slug"),
    }

    answers = {
        name: result(await post(client, document, {"input": input}, editor))
        for name, (document, input, _) in cases.items()
    }

    assert {name: (a["__typename"], a["field"]) for name, a in answers.items()} == {
        name: ("ValidationError", field) for name, (_, _, field) in cases.items()
    }
    assert all(len(a["message"]) < MESSAGE_LIMIT for a in answers.values()), answers


async def test_slug_and_external_id_limits_are_inclusive(
    settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    # A newsroom whose CMS_LOCALES holds a locale as long as the column takes.
    longest = settings.model_copy(update={"locales": ("en", "uk", "en-abcdefgh-abcd")})
    inputs = {
        "slug 200": ({"slug": "s" * 200}, "Article"),
        "slug 201": ({"slug": "s" * 201}, "ValidationError"),
        "externalId 200": ({"externalId": "e" * 200}, "Article"),
        "externalId 201": ({"externalId": "f" * 201}, "ValidationError"),
        "externalId 256": ({"externalId": "g" * 256}, "ValidationError"),
        "tagSlugs 100": ({"tagSlugs": ["t" * 100]}, "Article"),
        "tagSlugs 101": ({"tagSlugs": ["u" * 101]}, "ValidationError"),
        "locale 16": ({"locale": "en-abcdefgh-abcd"}, "Article"),
        "locale 17": ({"locale": "en-abcdefgh-abcde"}, "ValidationError"),
    }

    async with app_client(longest) as client:
        answers = {
            name: result(
                await post(client, CREATE_ARTICLE, {"input": {"title": name, **input}}, editor)
            )["__typename"]
            for name, (input, _) in inputs.items()
        }

    assert answers == {name: typename for name, (_, typename) in inputs.items()}


async def test_a_section_named_in_cyrillic_gets_a_slug_its_column_holds(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    answer = result(
        await post(
            client,
            "mutation($input: SectionInput!) { r: createSection(input: $input) "
            "{ __typename ... on Section { slug } ...ErrorFields } }" + ERROR_FIELDS,
            {"input": {"name": "щ" * 100}},  # "shch" each: 400 characters transliterated
            tokens_by_role["editor"],
        )
    )

    assert answer["__typename"] == "Section", answer
    assert answer["slug"] == "shch" * 25


# --- times -----------------------------------------------------------------------------

PUBLISH_AT = (
    "mutation($id: ID!, $at: DateTime) { r: publish(id: $id, at: $at) "
    "{ __typename ... on Content { publishedAt } ...ErrorFields } }" + ERROR_FIELDS
)


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-01:00"]
)
async def test_a_publication_time_outside_the_years_1_to_9999_in_utc_is_a_validation_error(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], at: str
) -> None:
    article = await api_article(client, tokens_by_role["editor"])

    answer = result(
        await post(client, PUBLISH_AT, {"id": article["id"], "at": at}, tokens_by_role["editor"])
    )

    assert answer == {
        "__typename": "ValidationError",
        "message": "at must lie between the years 1 and 9999 in UTC",
        "field": "at",
    }


READS = """
query($after: String) {
  feed(first: 5) { edges { cursor node { id publishedAt } } }
  next: feed(first: 5, after: $after) { edges { node { id } } }
  contents(first: 5) { edges { cursor node { id status publishedAt } } }
}
"""


@pytest.mark.parametrize(
    ("at", "status"),
    [("0001-01-01T00:00:00Z", "PUBLISHED"), ("9999-12-31T23:59:59.999999Z", "SCHEDULED")],
)
async def test_the_first_and_last_moments_can_be_published_and_read_back(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], at: str, status: str
) -> None:
    editor = tokens_by_role["editor"]
    article = await api_article(client, editor)

    published = result(await post(client, PUBLISH_AT, {"id": article["id"], "at": at}, editor))
    node = await post(
        client,
        "query($id: ID!) { node(id: $id) { ... on Content { status } } }",
        {"id": article["id"]},
        editor,
    )
    first = await post(client, READS, {}, editor)
    after = first["data"]["contents"]["edges"][0]["cursor"]
    reads = await post(client, READS, {"after": after}, editor)
    feeds = [await client.get(path) for path in ("/feed.xml", "/feed.json")]

    assert published["__typename"] == "Article", published
    assert published["publishedAt"].startswith(at[:19])
    assert node["data"] == {"node": {"status": status}}
    assert "errors" not in first and "errors" not in reads, (first, reads)
    public = [edge["node"]["id"] for edge in first["data"]["feed"]["edges"]]
    assert public == ([article["id"]] if status == "PUBLISHED" else [])
    assert [response.status_code for response in feeds] == [200, 200]
