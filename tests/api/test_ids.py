"""Every mutation that takes an ID answers a malformed one, and the ID of something of
another type, the same way: as its result union's error type, with the same message (the
union without ValidationError says NotFoundError). An ID in an input field that points at
something else is invalid input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import ERROR_FIELDS, global_id, gql_data

MALFORMED = "not-an-id"
A_TAG = global_id("Tag", 1)

# name: (document, variables with the ID, role, the error for a malformed ID, for a Tag's ID)
CASES: dict[str, tuple[str, dict[str, Any], str, dict[str, Any], dict[str, Any]]] = {
    "updateArticle": (
        'mutation M($id: ID!) { r: updateArticle(id: $id, input: {title: "T"}) '
        "{ ...ErrorFields } }",
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no article has that id"},
    ),
    "updateVideoEpisode": (
        'mutation M($id: ID!) { r: updateVideoEpisode(id: $id, input: {title: "T"}) '
        "{ ...ErrorFields } }",
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no video episode has that id"},
    ),
    "publish": (
        "mutation M($id: ID!) { r: publish(id: $id) { ...ErrorFields } }",
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no content has that id"},
    ),
    "unpublish": (
        "mutation M($id: ID!) { r: unpublish(id: $id) { ...ErrorFields } }",
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no content has that id"},
    ),
    "archive": (
        "mutation M($id: ID!) { r: archive(id: $id) { ...ErrorFields } }",
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no content has that id"},
    ),
    "deleteContent": (
        "mutation M($id: ID!) { r: deleteContent(id: $id) { ... on Error { ...ErrorFields } } }",
        {},
        "editor",
        {"__typename": "NotFoundError", "message": "id is not a valid ID"},
        {"__typename": "NotFoundError", "message": "no content has that id"},
    ),
    "restoreRevision": (
        "mutation M($id: ID!) { r: restoreRevision(id: $id) { ...ErrorFields } }",
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no revision has that id"},
    ),
    "updateAuthor": (
        'mutation M($id: ID!) { r: updateAuthor(id: $id, input: {bio: "B"}) { ...ErrorFields } }',
        {},
        "editor",
        {"__typename": "ValidationError", "message": "id is not a valid ID", "field": "id"},
        {"__typename": "NotFoundError", "message": "no author has that id"},
    ),
    "deleteWebhook": (
        "mutation M($id: ID!) { r: deleteWebhook(id: $id) { ... on Error { ...ErrorFields } } }",
        {},
        "admin",
        {"__typename": "NotFoundError", "message": "id is not a valid ID"},
        {"__typename": "NotFoundError", "message": "no webhook has that id"},
    ),
    "redeliver": (
        "mutation M($id: ID!) { r: redeliver(deliveryId: $id) "
        "{ ... on Error { ...ErrorFields } } }",
        {},
        "admin",
        {"__typename": "NotFoundError", "message": "id is not a valid ID"},
        {"__typename": "NotFoundError", "message": "no webhook delivery has that id"},
    ),
    "createArticle heroImageId": (
        'mutation M($id: ID!) { r: createArticle(input: {title: "T", heroImageId: $id}) '
        "{ ...ErrorFields } }",
        {},
        "editor",
        {
            "__typename": "ValidationError",
            "message": "heroImageId is not a valid ID",
            "field": "heroImageId",
        },
        {
            "__typename": "ValidationError",
            "message": "heroImageId must be the ID of a Media",
            "field": "heroImageId",
        },
    ),
    "createAuthor avatarId": (
        'mutation M($id: ID!) { r: createAuthor(input: {name: "N", avatarId: $id}) '
        "{ ...ErrorFields } }",
        {},
        "editor",
        {
            "__typename": "ValidationError",
            "message": "avatarId is not a valid ID",
            "field": "avatarId",
        },
        {
            "__typename": "ValidationError",
            "message": "avatarId must be the ID of a Media",
            "field": "avatarId",
        },
    ),
}


@pytest.mark.parametrize(
    ("document", "variables", "role", "malformed", "another_type"),
    list(CASES.values()),
    ids=list(CASES),
)
async def test_a_malformed_id_and_an_id_of_another_type(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    document: str,
    variables: dict[str, Any],
    role: str,
    malformed: dict[str, Any],
    another_type: dict[str, Any],
) -> None:
    query = document + ERROR_FIELDS
    token = tokens_by_role[role]

    answers = [
        (await gql_data(client, query, variables | {"id": id}, token))["r"]
        for id in (MALFORMED, A_TAG)
    ]

    assert answers == [malformed, another_type]
