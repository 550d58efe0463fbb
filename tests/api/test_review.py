"""The desk's review: an author submits its own draft (IN_REVIEW), an editor publishes it
or sends it back with a note (DRAFT, the note on the revision). contents(status:
[IN_REVIEW]) is the desk's queue, oldest submission first. Each step is a revision and an
outbox event (CONTENT_SUBMITTED, CONTENT_CHANGES_REQUESTED) that reaches webhooks and
token-holding subscribers, never anonymous ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms import clock
from cms.auth import tokens
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import InMemoryBroker
from cms.models import ContentStatus, DeliveryStatus, OutboxEvent, Revision, WebhookDelivery
from cms.webhooks import addresses, deliveries
from tests.api.conftest import (
    ERROR_FIELDS,
    api_article,
    api_publish,
    api_video_episode,
    error_code,
    gql_data,
    pk_of,
)
from tests.api.graphql_client import gql
from tests.api.test_webhooks import Receiver, receiver  # noqa: F401 (a fixture)
from tests.realtime import next_event, nothing_within, post, serve, subscribe

SUBMIT = (
    """
mutation Submit($id: ID!, $note: String) {
  submitForReview(id: $id, note: $note) {
    __typename
    ... on Content { id status version }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
REQUEST_CHANGES = (
    """
mutation Back($id: ID!, $note: String!) {
  requestChanges(id: $id, note: $note) {
    __typename
    ... on Content { id status version }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)
PUBLISH = (
    "mutation($id: ID!) { publish(id: $id) { __typename ... on Content { status } "
    "...ErrorFields } }" + ERROR_FIELDS
)
UPDATE = (
    "mutation($id: ID!, $title: String!) { updateArticle(id: $id, input: {title: $title}) "
    "{ __typename ... on Content { version } ...ErrorFields } }" + ERROR_FIELDS
)
HISTORY = """
query History($id: ID!) {
  node(id: $id) {
    ... on Content { status version revisions { version note createdBy } }
  }
}
"""
QUEUE = """
query Queue($first: Int, $after: String) {
  contents(status: [IN_REVIEW], first: $first, after: $after) {
    edges { node { id title status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_WEBHOOK = """
mutation($url: String!, $events: [WebhookEventType!]!) {
  createWebhook(url: $url, events: $events) { __typename ... on Webhook { secret } }
}
"""


async def _do(
    client: httpx.AsyncClient, document: str, token: str, **variables: Any
) -> dict[str, Any]:
    """The one mutation's result (a success member or an error member)."""
    data = await gql_data(client, document, variables, token)
    (result,) = data.values()
    assert isinstance(result, dict)
    return result


async def _history(client: httpx.AsyncClient, token: str, id: str) -> dict[str, Any]:
    node: dict[str, Any] = (await gql_data(client, HISTORY, {"id": id}, token))["node"]
    return node


async def _queue(client: httpx.AsyncClient, token: str) -> list[str]:
    data = await gql_data(client, QUEUE, {"first": 50}, token)
    return [edge["node"]["id"] for edge in data["contents"]["edges"]]


# --- the round trip --------------------------------------------------------------------


async def test_an_author_submits_its_draft_and_an_editor_publishes_it(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    draft = await api_article(client, author, title="Ferry timetable changes")

    submitted = await _do(client, SUBMIT, author, id=draft["id"], note="Ready for a look")
    queue = await _queue(client, tokens_by_role["viewer"])
    hidden = await gql_data(client, HISTORY, {"id": draft["id"]})
    published = await _do(client, PUBLISH, editor, id=draft["id"])
    queue_after = await _queue(client, tokens_by_role["viewer"])
    history = await _history(client, tokens_by_role["viewer"], draft["id"])
    public = await gql_data(
        client, "query($s: String!) { article(slug: $s) { status } }", {"s": draft["slug"]}
    )

    assert submitted == {
        "__typename": "Article", "id": draft["id"], "status": "IN_REVIEW", "version": 2,
    }  # fmt: skip
    assert queue == [draft["id"]]
    assert hidden["node"] is None  # in review is not public
    assert published == {"__typename": "Article", "status": "PUBLISHED"}
    assert queue_after == []
    assert history["status"] == "PUBLISHED"
    assert [(r["version"], r["note"], r["createdBy"]) for r in history["revisions"]] == [
        (3, None, "test-editor"),
        (2, "Ready for a look", "test-author"),
        (1, None, "test-author"),
    ]
    assert public["article"] == {"status": "PUBLISHED"}


async def test_an_editor_sends_it_back_with_a_note_and_the_author_resubmits(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    draft = await api_article(client, author, title="Bridge toll rises")
    await _do(client, SUBMIT, author, id=draft["id"])

    back = await _do(
        client, REQUEST_CHANGES, editor, id=draft["id"], note="  Name the source of the figures.  "
    )
    edited = await _do(client, UPDATE, author, id=draft["id"], title="Bridge toll rises by 10%")
    again = await _do(client, SUBMIT, author, id=draft["id"])
    history = await _history(client, editor, draft["id"])

    assert back == {"__typename": "Article", "id": draft["id"], "status": "DRAFT", "version": 3}
    assert edited == {"__typename": "Article", "version": 4}  # its own draft again
    assert again["status"] == "IN_REVIEW"
    assert [(r["version"], r["note"]) for r in history["revisions"]] == [
        (5, None),  # resubmitted without a note
        (4, None),
        (3, "Name the source of the figures."),  # kept trimmed
        (2, None),
        (1, None),
    ]
    assert await _queue(client, editor) == [draft["id"]]


async def test_a_video_episode_goes_through_review_too(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    episode = await api_video_episode(client, author)

    submitted = await _do(client, SUBMIT, author, id=episode["id"])
    back = await _do(client, REQUEST_CHANGES, editor, id=episode["id"], note="Trim the intro")

    assert (submitted["__typename"], submitted["status"]) == ("VideoEpisode", "IN_REVIEW")
    assert (back["__typename"], back["status"]) == ("VideoEpisode", "DRAFT")


async def test_an_author_cannot_edit_its_item_while_it_is_in_review(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author = tokens_by_role["author"]
    draft = await api_article(client, author, title="Council vote")
    await _do(client, SUBMIT, author, id=draft["id"])

    _, body = await gql(client, UPDATE, {"id": draft["id"], "title": "Changed"}, author)

    assert error_code(body) == "FORBIDDEN", body
    assert (await _history(client, author, draft["id"]))["version"] == 2


# --- the queue -------------------------------------------------------------------------


async def test_the_queue_is_oldest_submission_first(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """Not by last update: an editor's edit of the first item in the queue leaves it first,
    and an item sent back and resubmitted goes to the end."""
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    now = clock.utcnow()
    first, second, third = [
        await api_article(client, author, title=title) for title in ("First", "Second", "Third")
    ]
    for minutes, item in ((1, first), (2, second), (3, third)):
        with clock.frozen(now + timedelta(minutes=minutes)):
            await _do(client, SUBMIT, author, id=item["id"])
    with clock.frozen(now + timedelta(minutes=4)):
        assert (await _do(client, UPDATE, editor, id=first["id"], title="First, edited"))[
            "__typename"
        ] == "Article"
        await _do(client, REQUEST_CHANGES, editor, id=second["id"], note="Shorter")
    with clock.frozen(now + timedelta(minutes=5)):
        await _do(client, SUBMIT, author, id=second["id"])

    with clock.frozen(now + timedelta(minutes=6)):
        queue = await _queue(client, tokens_by_role["viewer"])

    assert queue == [first["id"], third["id"], second["id"]]


async def test_the_queue_pages_in_its_order(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    now = clock.utcnow()
    items = [await api_article(client, author, title=f"Story {n}") for n in range(5)]
    # Submitted in the order 3, 0, 4, 1, 2; then each edited, newest submission first.
    order = [items[3], items[0], items[4], items[1], items[2]]
    for minutes, item in enumerate(order, start=1):
        with clock.frozen(now + timedelta(minutes=minutes)):
            await _do(client, SUBMIT, author, id=item["id"])
    for seconds, item in enumerate(reversed(order), start=1):
        with clock.frozen(now + timedelta(minutes=10, seconds=seconds)):
            await _do(client, UPDATE, editor, id=item["id"], title=f"{item['slug']} edited")

    seen: list[str] = []
    after = None
    for _ in range(4):
        data = await gql_data(client, QUEUE, {"first": 2, "after": after}, editor)
        seen += [edge["node"]["id"] for edge in data["contents"]["edges"]]
        if not data["contents"]["pageInfo"]["hasNextPage"]:
            break
        after = data["contents"]["pageInfo"]["endCursor"]

    assert seen == [item["id"] for item in order]


async def test_the_queue_holds_only_items_in_review(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    waiting = await api_article(client, author, title="Waiting")
    await api_article(client, author, title="Still a draft")
    out = await api_article(client, author, title="Out already")
    back = await api_article(client, author, title="Sent back")
    for item in (waiting, out, back):
        await _do(client, SUBMIT, author, id=item["id"])
    await api_publish(client, editor, out["id"])
    await _do(client, REQUEST_CHANGES, editor, id=back["id"], note="No")

    assert await _queue(client, editor) == [waiting["id"]]


# --- who may ---------------------------------------------------------------------------

U, F, OK = "UNAUTHENTICATED", "FORBIDDEN", "Article"
WHO = ("anonymous", "viewer", "author", "editor", "admin")
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    #                                        anonymous viewer author editor admin
    "submitForReview/own draft":             (U, F, OK, OK, OK),
    "submitForReview/another token's draft": (U, F, F, OK, OK),
    "requestChanges/own item in review":     (U, F, F, OK, OK),
    "publish/own item in review":            (U, F, F, OK, OK),
}  # fmt: skip


@pytest.mark.parametrize(
    ("case", "who", "expected"),
    [
        pytest.param(case, who, expected, id=f"{case}-{who}")
        for case, row in MATRIX.items()
        for who, expected in zip(WHO, row, strict=True)
    ],
)
async def test_who_may_take_each_review_step(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    case: str,
    who: str,
    expected: str,
) -> None:
    mutation, _, target = case.partition("/")
    _, colleague = await tokens.create(name="colleague", role="author")
    # "own": made (and submitted) by the caller's token; by the admin's for those who
    # cannot create.
    owner = tokens_by_role[who] if who in ("author", "editor", "admin") else tokens_by_role["admin"]
    maker = colleague if target == "another token's draft" else owner
    item = await api_article(client, maker, title="A story")
    if target.endswith("in review"):
        await _do(client, SUBMIT, maker, id=item["id"])
    document, variables = {
        "submitForReview": (SUBMIT, {"id": item["id"]}),
        "requestChanges": (REQUEST_CHANGES, {"id": item["id"], "note": "Tighten it"}),
        "publish": (PUBLISH, {"id": item["id"]}),
    }[mutation]
    before = await _history(client, tokens_by_role["admin"], item["id"])
    events = await OutboxEvent.all().count()

    _, body = await gql(client, document, variables, tokens_by_role.get(who))

    after = await _history(client, tokens_by_role["admin"], item["id"])
    if expected in (U, F):
        assert error_code(body) == expected, body
        assert body["errors"][0]["path"] == [mutation], body
        assert after == before  # nothing changed
        assert await OutboxEvent.all().count() == events
    else:
        assert "errors" not in body, body
        assert body["data"][mutation]["__typename"] == expected, body
        assert after["version"] == before["version"] + 1


@pytest.mark.parametrize(
    ("arrange", "document", "variables", "typename", "field"),
    [
        pytest.param("published", SUBMIT, {}, "ConflictError", None, id="submit-published"),
        pytest.param("in review", SUBMIT, {}, "ConflictError", None, id="submit-twice"),
        pytest.param("draft", REQUEST_CHANGES, {"note": "x"}, "ConflictError", None,
                     id="send-back-a-draft"),
        pytest.param("published", REQUEST_CHANGES, {"note": "x"}, "ConflictError", None,
                     id="send-back-a-published-item"),
        pytest.param("in review", REQUEST_CHANGES, {"note": "   "}, "ValidationError", "note",
                     id="blank-note"),
        pytest.param("in review", REQUEST_CHANGES, {"note": "x" * 2001}, "ValidationError",
                     "note", id="note-too-long"),
        pytest.param("draft", SUBMIT, {"note": "x" * 2001}, "ValidationError", "note",
                     id="submit-note-too-long"),
    ],
)  # fmt: skip
async def test_a_step_from_the_wrong_state_or_with_a_bad_note_changes_nothing(
    client: httpx.AsyncClient,
    tokens_by_role: dict[str, str],
    arrange: str,
    document: str,
    variables: dict[str, Any],
    typename: str,
    field: str | None,
) -> None:
    editor = tokens_by_role["editor"]
    item = await api_article(client, editor, title="A story")
    if arrange == "published":
        await api_publish(client, editor, item["id"])
    elif arrange == "in review":
        await _do(client, SUBMIT, editor, id=item["id"])
    before = await _history(client, editor, item["id"])

    result = await _do(client, document, editor, id=item["id"], **variables)

    assert result["__typename"] == typename, result
    if field is not None:
        assert result["field"] == field
    assert await _history(client, editor, item["id"]) == before


async def test_request_changes_needs_a_note(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    editor = tokens_by_role["editor"]
    item = await api_article(client, editor)
    await _do(client, SUBMIT, editor, id=item["id"])
    document = "mutation($id: ID!) { requestChanges(id: $id) { __typename } }"

    _, body = await gql(client, document, {"id": item["id"]}, editor)

    assert body.get("errors"), body
    assert (await _history(client, editor, item["id"]))["status"] == "IN_REVIEW"


# --- events ----------------------------------------------------------------------------


async def test_each_step_is_an_outbox_event_with_its_note(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    draft = await api_article(client, author, title="Port strike")
    await _do(client, SUBMIT, author, id=draft["id"], note="First go")
    await _do(client, REQUEST_CHANGES, editor, id=draft["id"], note="Add a quote")

    events = await OutboxEvent.filter(content_id=pk_of(draft["id"])).order_by("id")
    notes = await Revision.filter(content_id=pk_of(draft["id"])).order_by("version")

    assert [(e.type, e.payload.get("note"), e.payload["status"]) for e in events] == [
        ("CONTENT_UPDATED", None, ContentStatus.DRAFT),
        ("CONTENT_SUBMITTED", "First go", ContentStatus.IN_REVIEW),
        ("CONTENT_CHANGES_REQUESTED", "Add a quote", ContentStatus.DRAFT),
    ]
    assert [revision.note for revision in notes] == [None, "First go", "Add a quote"]


async def _send_webhooks(settings: Settings) -> None:
    """What the dispatcher does: hand the outbox to webhooks, then send what is due."""
    await Dispatcher(settings, InMemoryBroker()).dispatch_outbox()
    async with addresses.http_client(settings) as http:
        for _ in range(50):
            if not await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists():
                return
            await deliveries.deliver_due(client=http, settings=settings)
            await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not settle")


async def test_each_step_reaches_webhooks_signed_with_its_note(
    client: httpx.AsyncClient,
    settings: Settings,
    tokens_by_role: dict[str, str],
    receiver: Receiver,  # noqa: F811
) -> None:
    author, editor, admin = (tokens_by_role[r] for r in ("author", "editor", "admin"))
    receiver.fail_first = False
    events = ["CONTENT_SUBMITTED", "CONTENT_CHANGES_REQUESTED"]
    created = await gql_data(client, CREATE_WEBHOOK, {"url": receiver.url, "events": events}, admin)
    receiver.secret = created["createWebhook"]["secret"]
    draft = await api_article(client, author, title="Tram line")

    await _do(client, SUBMIT, author, id=draft["id"], note="Over to you")
    await _do(client, REQUEST_CHANGES, editor, id=draft["id"], note="Check the dates")
    await _send_webhooks(settings)

    got = sorted(receiver.attempts, key=lambda attempt: attempt.event, reverse=True)
    assert [(a.event, a.verified, a.answered) for a in got] == [
        ("CONTENT_SUBMITTED", True, 200),
        ("CONTENT_CHANGES_REQUESTED", True, 200),
    ]
    submitted, back = (attempt.body for attempt in got)
    assert submitted["type"] == "CONTENT_SUBMITTED"
    assert submitted["data"]["note"] == "Over to you"
    assert submitted["data"]["content"]["id"] == draft["id"]
    assert back["type"] == "CONTENT_CHANGES_REQUESTED"
    assert back["data"]["note"] == "Check the dates"
    assert back["data"]["content"]["id"] == draft["id"]


CREATE_ARTICLE_DOCUMENT = (
    'mutation { createArticle(input: {title: "Heard by the desk"}) { ... on Article { id } } }'
)


@pytest.fixture
async def server(settings: Settings, db: None) -> AsyncIterator[str]:
    async with serve(settings.model_copy(update={"run_dispatcher": True})) as address:
        yield address


async def test_token_holders_hear_each_step_and_anonymous_subscribers_never_do(
    server: str, tokens_by_role: dict[str, str]
) -> None:
    author, editor = tokens_by_role["author"], tokens_by_role["editor"]
    created = await post(server, CREATE_ARTICLE_DOCUMENT, author)
    id = created["data"]["createArticle"]["id"]
    async with (
        subscribe(server) as anonymous,
        subscribe(server, tokens_by_role["viewer"]) as viewer,
    ):
        await post(server, SUBMIT, author, id=id, note="Please read")
        submitted = await next_event(viewer)
        await post(server, REQUEST_CHANGES, editor, id=id, note="Not yet")
        back = await next_event(viewer)
        assert await nothing_within(anonymous)

    assert (submitted["type"], submitted["contentId"]) == ("CONTENT_SUBMITTED", id)
    assert submitted["content"]["status"] == "IN_REVIEW"
    assert (back["type"], back["contentId"]) == ("CONTENT_CHANGES_REQUESTED", id)
    assert back["content"]["status"] == "DRAFT"
