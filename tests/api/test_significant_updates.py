"""Significant updates: `significant: true` on an update of a public item sets
significantlyUpdatedAt (frontends show "Updated"; feeds use it for date_modified); a typo
fix, and any change of an item readers cannot see yet, leave it as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.api.conftest import api_article, api_publish, api_video_episode, gql_data

UPDATE = """
mutation($id: ID!, $title: String!, $significant: Boolean!) {
  updateArticle(id: $id, input: {title: $title}, significant: $significant) {
    __typename
    ... on Article { significantlyUpdatedAt firstPublishedAt publishedAt updatedAt }
  }
}
"""
UPDATE_EPISODE = """
mutation($id: ID!) {
  updateVideoEpisode(id: $id, input: {show: "Evening"}, significant: true) {
    __typename ... on VideoEpisode { significantlyUpdatedAt }
  }
}
"""
TYPENAMES = {"article": "Article", "videoEpisode": "VideoEpisode"}
READ = "query($id: ID!) { node(id: $id) { ... on Content { significantlyUpdatedAt } } }"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _update(
    client: httpx.AsyncClient, token: str, id: str, title: str, *, significant: bool
) -> dict[str, Any]:
    variables = {"id": id, "title": title, "significant": significant}
    result: dict[str, Any] = (await gql_data(client, UPDATE, variables, token))["updateArticle"]
    assert result["__typename"] == "Article", result
    return result


async def test_a_significant_update_of_a_public_item_is_marked_and_a_typo_fix_is_not(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await api_article(client, editor, title="Dam breached")
    await api_publish(client, editor, story["id"])

    typo = await _update(client, editor, story["id"], "Dam breeched", significant=False)
    marked = await _update(client, editor, story["id"], "Dam breached", significant=True)
    fixed = await _update(client, editor, story["id"], "Dam breached.", significant=False)
    read = await gql_data(client, READ, {"id": story["id"]})

    assert typo["significantlyUpdatedAt"] is None
    saved = _time(marked["updatedAt"]) - _time(marked["significantlyUpdatedAt"])
    assert abs(saved.total_seconds()) < 1  # the time of that update
    assert _time(marked["significantlyUpdatedAt"]) >= _time(marked["firstPublishedAt"])
    assert fixed["significantlyUpdatedAt"] == marked["significantlyUpdatedAt"]
    assert fixed["firstPublishedAt"] == typo["firstPublishedAt"]
    assert read["node"]["significantlyUpdatedAt"] == marked["significantlyUpdatedAt"]


async def test_a_change_before_publication_is_not_an_update_readers_see(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    draft = await api_article(client, editor, title="Draft")

    result = await _update(client, editor, draft["id"], "Draft, revised", significant=True)

    assert result["significantlyUpdatedAt"] is None


async def test_a_video_episode_takes_a_significant_update_too(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    episode = await api_video_episode(client, editor)
    await api_publish(client, editor, episode["id"])

    result = (await gql_data(client, UPDATE_EPISODE, {"id": episode["id"]}, editor))[
        "updateVideoEpisode"
    ]

    assert result["significantlyUpdatedAt"] is not None


async def test_json_feed_dates_an_item_by_its_last_significant_update(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    quiet = await api_article(client, editor, title="Quiet")
    loud = await api_article(client, editor, title="Loud")
    for story in (quiet, loud):
        await api_publish(client, editor, story["id"])
    await _update(client, editor, quiet["id"], "Quiet.", significant=False)
    marked = await _update(client, editor, loud["id"], "Loud!", significant=True)

    document = (await client.get("/feed.json")).json()
    items = {item["title"]: item for item in document["items"]}

    assert items["Quiet."]["date_modified"] == items["Quiet."]["date_published"]
    assert _time(items["Loud!"]["date_modified"].replace("Z", "+00:00")) == _time(
        marked["significantlyUpdatedAt"]
    )


async def test_a_new_publication_leaves_the_updates_of_the_last_one_behind(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    story = await api_article(client, editor, title="Flood warning")
    await api_publish(client, editor, story["id"])
    await _update(client, editor, story["id"], "Flood warning lifted", significant=True)
    unpublish = "mutation($id: ID!) { unpublish(id: $id) { __typename } }"
    await gql_data(client, unpublish, {"id": story["id"]}, editor)

    again = await api_publish(client, editor, story["id"])
    read = await gql_data(client, READ, {"id": story["id"]})

    assert again["__typename"] == "Article"
    assert read["node"]["significantlyUpdatedAt"] is None


NULL_UPDATE = """
mutation($id: ID!, $title: String!{declared}) {{
  {mutation}(id: $id, input: {{title: $title}}, significant: {argument}) {{
    __typename ... on Content {{ title significantlyUpdatedAt }}
  }}
}}
"""


@pytest.mark.parametrize("given", ["literal", "variable"])
@pytest.mark.parametrize("field", ["article", "videoEpisode"])
async def test_significant_null_is_accepted_and_is_a_typo_fix(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], field: str, given: str
) -> None:
    """CONTRACT.md: `significant: Boolean = false`. An explicit null, written in the
    document or sent as a variable, is taken as false: the change is saved, unmarked, and
    the mark of an earlier significant update stays as it was."""
    mutation = "updateArticle" if field == "article" else "updateVideoEpisode"
    document = NULL_UPDATE.format(
        mutation=mutation,
        declared=", $significant: Boolean" if given == "variable" else "",
        argument="$significant" if given == "variable" else "null",
    )
    marking = NULL_UPDATE.format(mutation=mutation, declared="", argument="true")
    editor = tokens_by_role["editor"]
    make = api_article if field == "article" else api_video_episode
    item = await make(client, editor, title="Dam breached")
    await api_publish(client, editor, item["id"])
    variables: dict[str, Any] = {"id": item["id"]}
    if given == "variable":
        variables["significant"] = None

    typo = await gql_data(client, document, variables | {"title": "Dam breeched"}, editor)
    marked = await gql_data(client, marking, variables | {"title": "Dam breached"}, editor)
    fixed = await gql_data(client, document, variables | {"title": "Dam breached."}, editor)
    read = await gql_data(client, READ, {"id": item["id"]})

    assert typo[mutation] == {
        "__typename": TYPENAMES[field],
        "title": "Dam breeched",
        "significantlyUpdatedAt": None,
    }
    when = marked[mutation]["significantlyUpdatedAt"]
    assert when is not None
    assert fixed[mutation]["title"] == "Dam breached."
    assert fixed[mutation]["significantlyUpdatedAt"] == when
    assert read["node"]["significantlyUpdatedAt"] == when
