"""The wire export: GET /ninjs/{id} and Content.ninjs give IPTC ninjs 2.2 documents that
IPTC's own JSON Schema accepts (formats included), for both kinds of content, with every
optional part present and with none; what each status answers, to anonymous readers and
to token holders; caching headers and conditional GETs; the GraphQL field equals the HTTP
document and costs the same statements for one item or a page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from jsonschema.protocols import Validator

from cms import clock
from cms.content import corrections, ids, ninjs, publishing, review
from cms.content.links import Links
from cms.content.records import AuthorRecord, ContentRecord, MediaRecord, SectionRecord, TagRecord
from cms.models import AuthorKind, Content, ContentKind, ContentStatus
from tests import factories, ninjs_schema
from tests.api.conftest import SEED_VIEWER, global_id, gql_data
from tests.statements import counting

PUBLIC_URL = "http://testserver"  # the tests' CMS_PUBLIC_URL
BODY = "The *first* paragraph.\n\nThe second, with a [link](https://example.org)."
OPTIONAL = ("descriptions", "bodies", "by", "people", "organisations", "subjects",
            "associations", "altids", "expires", "embargoed", "ednote")  # fmt: skip
NODE_NINJS = "query N($id: ID!) { node(id: $id) { ... on Content { ninjs } } }"
FEED_NINJS = "query F($first: Int!) { feed(first: $first) { edges { node { id ninjs } } } }"
KILL = """
mutation K($id: ID!, $reason: String!) {
  kill(id: $id, reason: $reason) { __typename ... on Content { status } }
}
"""


@pytest.fixture(scope="module")
def validator() -> Validator:
    return ninjs_schema.validator()


_valid = ninjs_schema.valid


def _gid(item: Content) -> str:
    return ids.content_id(item.kind, item.id)


def _uri(item: Content) -> str:
    return f"{PUBLIC_URL}/ninjs/{_gid(item)}"


def _rfc3339(value: datetime | None) -> str:
    assert value is not None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _get(
    client: httpx.AsyncClient, id: str, token: str | None = None, **headers: str
) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.get(f"/ninjs/{id}", headers=headers)


async def _document(client: httpx.AsyncClient, item: Content, token: str | None = None) -> Any:
    response = await _get(client, _gid(item), token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def _full_article() -> Content:
    """An article with every optional part: dek, body, section, tags, a person's and a
    desk's byline, a hero image with size, alt text, caption and credit, an external id,
    an expiry and a correction."""
    section = await factories.make_section(slug="war", name="War")
    person = await factories.make_author(slug="iryna-zavolska", name="Iryna Zavolska")
    desk = await factories.make_author(slug="news-desk", name="News desk", kind=AuthorKind.DESK)
    hero = await factories.make_media(
        key="photos/library.jpg", mime_type="image/jpeg", width=1600, height=900,
        alt_text="Volunteers carry boxes of books", caption="The reading room", credit="AP",
    )  # fmt: skip
    item = await factories.make_article(
        title="Volunteers rebuild the district library", slug="library",
        dek="Two hundred volunteers, one summer.", body=BODY, section=section,
        authors=[person, desk], tags=["kyiv", "libraries"], hero_image=hero,
        external_id="wire-4711",
    )  # fmt: skip
    now = clock.utcnow()
    await publishing.publish(
        id=item.id, viewer=SEED_VIEWER, at=now - timedelta(hours=1), until=now + timedelta(days=2)
    )
    await corrections.add(id=item.id, viewer=SEED_VIEWER, correction="The library has 3 floors.")
    return await Content.get(id=item.id)


async def test_the_schema_refuses_what_ninjs_does_not_allow(validator: Validator) -> None:
    """The checks below are only worth something if the validator really refuses."""
    uri = f"{PUBLIC_URL}/ninjs/x"

    assert validator.is_valid({"uri": uri, "pubstatus": "canceled"})
    assert not validator.is_valid({"uri": uri, "pubstatus": "published"})
    assert not validator.is_valid({"uri": uri, "headline": "A made-up property"})
    assert not validator.is_valid({"uri": uri, "versioncreated": "yesterday"})
    assert not validator.is_valid({"uri": "not a uri"})
    assert not validator.is_valid({"uri": uri, "associations": [{"uri": uri}]})  # no name


async def test_an_article_with_every_part(client: httpx.AsyncClient, validator: Validator) -> None:
    item = await _full_article()

    doc = _valid(validator, await _document(client, item))

    assert doc["uri"] == _uri(item)
    assert doc["type"] == "text"
    assert doc["standard"] == {"name": "ninjs", "version": "2.2", "schema": ninjs.SCHEMA_URI}
    assert doc["version"] == str(item.version)
    assert doc["firstcreated"] == _rfc3339(item.first_published_at)
    assert doc["versioncreated"] == _rfc3339(item.updated_at)
    assert doc["pubstatus"] == "usable"
    assert doc["expires"] == _rfc3339(item.expires_at)
    assert "embargoed" not in doc and "ednote" not in doc
    assert doc["language"] == "en"
    assert doc["slugline"] == "library"
    assert doc["headlines"] == [{"role": "main", "value": item.title}]
    html, text = doc["bodies"]
    assert html["contenttype"] == "text/html"
    assert html["value"].startswith("<p>The <em>first</em> paragraph.</p>")
    assert text["contenttype"] == "text/plain"
    assert text["value"] == "The first paragraph.\n\nThe second, with a link."
    assert html["wordcount"] == text["wordcount"] == 8
    assert [(part["role"], part["value"]) for part in doc["descriptions"]] == [
        ("summary", "Two hundred volunteers, one summer."),
        ("correction", "The library has 3 floors."),
    ]
    assert {part["contenttype"] for part in doc["descriptions"]} == {"text/plain"}
    assert doc["by"] == "Iryna Zavolska, News desk"
    assert doc["people"] == [
        {"name": "Iryna Zavolska", "rel": "author", "literal": "iryna-zavolska"}
    ]
    assert doc["organisations"] == [{"name": "News desk", "rel": "author", "literal": "news-desk"}]
    assert doc["subjects"] == [
        {"name": "War", "rel": "section", "literal": "war"},
        {"name": "Kyiv", "rel": "tag", "literal": "kyiv"},
        {"name": "Libraries", "rel": "tag", "literal": "libraries"},
    ]
    media_url = f"{PUBLIC_URL}/media/photos/library.jpg"
    assert doc["associations"] == [
        {
            "name": "heroimage",
            "uri": media_url,
            "type": "picture",
            "renditions": [
                {
                    "name": "original",
                    "href": media_url,
                    "contenttype": "image/jpeg",
                    "width": 1600,
                    "height": 900,
                },
            ],
            "descriptions": [
                {
                    "role": "alt",
                    "contenttype": "text/plain",
                    "value": "Volunteers carry boxes of books",
                },
                {"role": "caption", "contenttype": "text/plain", "value": "The reading room"},
            ],
            "by": "AP",
        }
    ]
    assert doc["renditions"] == [
        {"name": "web", "href": "https://news.example/news/library", "contenttype": "text/html"}
    ]
    assert doc["altids"] == [{"role": "externalId", "value": "wire-4711"}]


async def test_a_video_episode_with_every_part(
    client: httpx.AsyncClient, validator: Validator, tokens_by_role: dict[str, str]
) -> None:
    """A person's and a desk's byline, a section, a tag, a hero image, an external id, an
    expiry and a correction; `embargoed` while it is scheduled (a token holder's read) and
    `ednote` once it is killed (a token holder's 410)."""
    viewer = tokens_by_role["viewer"]
    person = await factories.make_author(slug="olena-marchenko", name="Olena Marchenko")
    desk = await factories.make_author(slug="video-desk", name="Video desk", kind=AuthorKind.DESK)
    await factories.make_section(slug="culture", name="Culture")
    item = await factories.make_video_episode(
        title="Newsroom Weekly 12", slug="weekly-12", dek="The week, in twelve minutes.",
        description="This week in the newsroom.", video_url="https://video.example/12.webm",
        duration_seconds=754, section="culture", authors=[person, desk], tags=["weekly"],
        hero_image=True, external_id="video-12",
    )  # fmt: skip
    now = clock.utcnow()
    at, until = now + timedelta(hours=1), now + timedelta(days=2)
    await publishing.publish(id=item.id, viewer=SEED_VIEWER, at=at, until=until)

    scheduled = _valid(validator, await _document(client, item, viewer))
    with clock.frozen(at + timedelta(minutes=5)):
        await corrections.add(id=item.id, viewer=SEED_VIEWER, correction="It runs 12:34.")
        doc = _valid(validator, await _document(client, item))
        await publishing.kill(id=item.id, viewer=SEED_VIEWER, reason="Legal")
        killed = await _get(client, _gid(item), viewer)

    assert scheduled["pubstatus"] == "usable"
    assert scheduled["embargoed"] == _rfc3339(at)
    assert scheduled["expires"] == _rfc3339(until)
    assert [name for name in OPTIONAL if name not in doc] == ["embargoed", "ednote"]
    assert doc["type"] == "video"
    assert doc["uri"] == _uri(item)
    assert doc["pubstatus"] == "usable"
    assert doc["expires"] == _rfc3339(until)
    assert doc["bodies"] == [
        {"contenttype": "text/plain", "value": "This week in the newsroom.",
         "charcount": 26, "wordcount": 5},
    ]  # fmt: skip
    assert [(part["role"], part["value"]) for part in doc["descriptions"]] == [
        ("summary", "The week, in twelve minutes."),
        ("correction", "It runs 12:34."),
    ]
    assert doc["by"] == "Olena Marchenko, Video desk"
    assert doc["people"] == [
        {"name": "Olena Marchenko", "rel": "author", "literal": "olena-marchenko"}
    ]
    assert doc["organisations"] == [
        {"name": "Video desk", "rel": "author", "literal": "video-desk"}
    ]
    assert [subject["rel"] for subject in doc["subjects"]] == ["section", "tag"]
    assert doc["associations"][0]["type"] == "picture"
    assert doc["renditions"][1] == {
        "name": "video",
        "href": "https://video.example/12.webm",
        "duration": 754,
    }
    assert doc["altids"] == [{"role": "externalId", "value": "video-12"}]
    assert killed.status_code == 410, killed.text
    canceled = _valid(validator, killed.json())
    assert canceled["pubstatus"] == "canceled"
    assert canceled["ednote"] == ninjs.KILL_NOTE
    assert canceled["people"] == doc["people"]  # a token holder's: the whole document


@pytest.mark.parametrize("kind", [ContentKind.ARTICLE, ContentKind.VIDEO_EPISODE])
async def test_a_minimal_item_leaves_every_optional_part_out(
    client: httpx.AsyncClient, validator: Validator, kind: ContentKind
) -> None:
    published_at = clock.utcnow() - timedelta(minutes=1)
    if kind == ContentKind.ARTICLE:
        item = await factories.make_article(title="Bare", body="", published_at=published_at)
    else:
        item = await factories.make_video_episode(
            title="Bare", description=None, duration_seconds=None, show=None,
            published_at=published_at,
        )  # fmt: skip

    doc = _valid(validator, await _document(client, item))

    assert [name for name in OPTIONAL if name in doc] == []
    assert doc["headlines"] == [{"role": "main", "value": "Bare"}]
    assert doc["pubstatus"] == "usable"
    assert doc["renditions"][0]["name"] == "web"
    if kind == ContentKind.VIDEO_EPISODE:  # no duration: none claimed
        assert doc["renditions"][1] == {"name": "video", "href": "https://video.example/weekly.mp4"}


async def test_graphql_ninjs_equals_the_http_document(
    client: httpx.AsyncClient, validator: Validator
) -> None:
    item = await _full_article()

    http = await _document(client, item)
    data = await gql_data(client, NODE_NINJS, {"id": _gid(item)})

    assert data["node"]["ninjs"] == _valid(validator, http)


async def test_a_page_of_ninjs_costs_the_same_statements_for_1_and_12_items(
    client: httpx.AsyncClient, validator: Validator
) -> None:
    desk = await factories.make_author(slug="news-desk", name="News desk", kind=AuthorKind.DESK)
    start = clock.utcnow() - timedelta(hours=1)
    for number in range(12):
        maker = factories.make_video_episode if number % 3 == 0 else factories.make_article
        await maker(
            title=f"Story {number}", authors=[desk], tags=[f"tag-{number % 4}"],
            hero_image=number % 2 == 0, published_at=start - timedelta(minutes=number),
        )  # fmt: skip

    counts = {}
    for first in (1, 12):
        with counting() as statements:
            data = await gql_data(client, FEED_NINJS, {"first": first})
        counts[first] = len(statements)
        for edge in data["feed"]["edges"]:
            document = _valid(validator, edge["node"]["ninjs"])
            assert document["uri"] == f"{PUBLIC_URL}/ninjs/{edge['node']['id']}"
            assert document["by"] == "News desk"

    assert len(data["feed"]["edges"]) == 12
    assert counts[1] == counts[12], counts


# --- what each status answers -----------------------------------------------------------


async def _in_state(state: str, now: datetime) -> Content:
    """An article in `state` ("public", "draft", "in_review", "scheduled", "expired",
    "archived", "killed"), as of `now`."""
    title = f"Secret {state} story"
    if state == "expired":
        with clock.frozen(now - timedelta(hours=3)):
            item = await factories.make_article(title=title, body="Secret words.")
            await publishing.publish(
                id=item.id, viewer=SEED_VIEWER,
                at=now - timedelta(hours=2), until=now - timedelta(hours=1),
            )  # fmt: skip
        return await Content.get(id=item.id)
    published_at = {
        "public": now - timedelta(hours=1),
        "scheduled": now + timedelta(days=1),
        "archived": now - timedelta(hours=1),
        "killed": now - timedelta(hours=1),
    }.get(state)
    item = await factories.make_article(
        title=title, body="Secret words.", published_at=published_at
    )
    if state == "in_review":
        await review.submit(id=item.id, viewer=SEED_VIEWER)
    elif state == "archived":
        await publishing.archive(id=item.id, viewer=SEED_VIEWER)
    elif state == "killed":
        await publishing.kill(id=item.id, viewer=SEED_VIEWER, reason="Legal: do not repeat")
    return await Content.get(id=item.id)


def _not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "Secret" not in response.text


@pytest.mark.parametrize("state", ["draft", "in_review", "scheduled", "expired", "archived"])
async def test_anonymous_readers_get_404_for_an_item_that_is_not_public(
    client: httpx.AsyncClient, state: str
) -> None:
    item = await _in_state(state, clock.utcnow())

    _not_found(await _get(client, _gid(item)))
    data = await gql_data(client, NODE_NINJS, {"id": _gid(item)})

    assert data["node"] is None


async def test_unknown_deleted_and_malformed_ids_are_404(client: httpx.AsyncClient) -> None:
    item = await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))
    deleted = await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))
    await publishing.delete(id=deleted.id, viewer=SEED_VIEWER)
    section = await factories.make_section(slug="culture")
    wrong = [
        global_id("Article", 999_999),
        _gid(deleted),
        global_id("VideoEpisode", item.id),  # the right number, the wrong kind
        global_id("Section", section.id),
        global_id("Article", 2**40),
        "QXJ0aWNsZTowNDI=",  # Article:042, not the spelling an ID has
        str(item.id),
        "not an id",
        "%FF%FE",
        "%00",
        "%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
        "é",
        "QXJ0aWNsZTox%0A",
        "a/b/c",
        "x" * 5000,
        "",
    ]

    for id in wrong:
        _not_found(await _get(client, id))
    assert (await _get(client, _gid(item))).status_code == 200


async def test_a_story_killed_before_it_ran_is_a_404_like_any_draft(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """Walking ids must not list the stories killed before publication."""
    draft = await factories.make_article(title="Never ran")
    scheduled = await factories.make_article(
        title="Was to run", published_at=clock.utcnow() + timedelta(days=1)
    )
    for item in (draft, scheduled):
        killed = await gql_data(
            client, KILL, {"id": _gid(item), "reason": "Legal"}, tokens_by_role["editor"]
        )
        assert killed["kill"]["status"] == "KILLED"

    answers = [(await _get(client, _gid(item))).status_code for item in (draft, scheduled)]

    assert answers == [404, 404]
    assert (await Content.get(id=scheduled.id)).first_published_at is None


async def test_a_killed_item_answers_410_with_a_notice_and_nothing_of_the_story(
    client: httpx.AsyncClient, validator: Validator, tokens_by_role: dict[str, str]
) -> None:
    item = await _full_article()
    before = await _document(client, item)
    killed = await gql_data(
        client, KILL, {"id": _gid(item), "reason": "Legal: do not repeat"}, tokens_by_role["editor"]
    )
    assert killed["kill"] == {"__typename": "Article", "status": "KILLED"}
    row = await Content.get(id=item.id)

    response = await _get(client, _gid(item))

    assert response.status_code == 410
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=60"
    notice = _valid(validator, response.json())
    assert notice == {
        "uri": before["uri"],
        "standard": before["standard"],
        "type": "text",
        "representationtype": "partial",
        "version": str(row.version),
        "versioncreated": _rfc3339(row.updated_at),
        "pubstatus": "canceled",
        "ednote": ninjs.KILL_NOTE,
    }
    for words in ("Volunteers", "paragraph", "Iryna", "Legal", "library", "wire-4711"):
        assert words not in response.text, words
    data = await gql_data(client, NODE_NINJS, {"id": _gid(item)})
    assert data["node"] is None


async def test_token_holders_read_every_status(
    client: httpx.AsyncClient, validator: Validator, tokens_by_role: dict[str, str]
) -> None:
    now = clock.utcnow()
    viewer = tokens_by_role["viewer"]
    expected = {
        "public": (200, "usable"),
        "draft": (200, "withheld"),
        "in_review": (200, "withheld"),
        "scheduled": (200, "usable"),
        "expired": (200, "usable"),
        "archived": (200, "withheld"),
        "killed": (410, "canceled"),
    }
    items = {state: await _in_state(state, now) for state in expected}

    for state, (status, pubstatus) in expected.items():
        response = await _get(client, _gid(items[state]), viewer)
        assert response.status_code == status, (state, response.text)
        assert response.headers["cache-control"] == "private, no-store", state
        doc = _valid(validator, response.json())
        assert doc["pubstatus"] == pubstatus, state
        assert doc["headlines"][0]["value"] == f"Secret {state} story"  # the whole document
        assert ("embargoed" in doc) == (state == "scheduled"), state
        assert ("ednote" in doc) == (state == "killed"), state
        data = await gql_data(client, NODE_NINJS, {"id": _gid(items[state])}, viewer)
        assert data["node"]["ninjs"]["pubstatus"] == pubstatus, state
    scheduled = await _document(client, items["scheduled"], viewer)
    assert scheduled["embargoed"] == _rfc3339(items["scheduled"].published_at)
    expired = await _document(client, items["expired"], viewer)
    assert expired["expires"] == _rfc3339(items["expired"].expires_at)
    assert (await _get(client, _gid(items["killed"]))).json()["representationtype"] == "partial"


async def test_a_scheduled_item_becomes_public_at_its_time(
    client: httpx.AsyncClient, validator: Validator
) -> None:
    at = clock.utcnow() + timedelta(hours=1)
    item = await factories.make_article(title="Secret plan", published_at=at)

    _not_found(await _get(client, _gid(item)))
    with clock.frozen(at):
        doc = _valid(validator, await _document(client, item))

    assert doc["pubstatus"] == "usable" and "embargoed" not in doc
    assert doc["firstcreated"] == _rfc3339(at)


async def test_a_bad_token_is_401_never_an_anonymous_read(client: httpx.AsyncClient) -> None:
    item = await factories.make_article(published_at=clock.utcnow() - timedelta(minutes=1))

    for authorization in ("Bearer ndk_made-up", "Basic abc", "Bearer "):
        response = await client.get(
            f"/ninjs/{_gid(item)}", headers={"Authorization": authorization}
        )
        assert response.status_code == 401, authorization
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- caching ----------------------------------------------------------------------------


async def test_a_public_document_is_cacheable_with_an_etag_and_cache_tags(
    client: httpx.AsyncClient,
) -> None:
    desk = await factories.make_author(slug="news-desk", kind=AuthorKind.DESK)
    item = await factories.make_article(
        authors=[desk], published_at=clock.utcnow() - timedelta(minutes=1)
    )

    response = await _get(client, _gid(item))
    again = await _get(client, _gid(item), **{"If-None-Match": response.headers["etag"]})
    other = await _get(client, _gid(item), **{"If-None-Match": '"something-else"'})
    head = await client.head(f"/ninjs/{_gid(item)}")

    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["vary"] == "Authorization"
    assert response.headers["surrogate-key"] == f"author:{desk.id} item:{item.id}"
    assert response.headers["cache-tag"] == f"author:{desk.id},item:{item.id}"
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == response.headers["etag"]
    assert other.status_code == 200 and other.content == response.content
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == response.headers["etag"]


async def test_a_document_is_not_kept_past_its_expiry(client: httpx.AsyncClient) -> None:
    now = clock.utcnow()
    item = await factories.make_article(published_at=now - timedelta(minutes=1))
    await publishing.publish(
        id=item.id,
        viewer=SEED_VIEWER,
        at=now - timedelta(minutes=1),
        until=now + timedelta(hours=1),
    )

    with clock.frozen(now + timedelta(minutes=59, seconds=30)):
        response = await _get(client, _gid(item))
    with clock.frozen(now + timedelta(hours=1)):
        gone = await _get(client, _gid(item))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=30"
    _not_found(gone)


# --- the document itself, without a database --------------------------------------------

LINKS = Links(
    site_url="https://news.example",
    public_url="https://api.news.example",
    article_path="/news/{slug}",
    video_episode_path="/video/{slug}",
)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _record(**fields: Any) -> ContentRecord:
    values: dict[str, Any] = {
        "id": 7,
        "kind": ContentKind.ARTICLE,
        "status": ContentStatus.PUBLISHED,
        "title": "A story",
        "slug": "a-story",
        "locale": "uk",
        "version": 3,
        "updated_at": NOW - timedelta(hours=1),
        "published_at": NOW - timedelta(hours=2),
        "first_published_at": NOW - timedelta(hours=2),
    }
    return ContentRecord(**(values | fields))


STATUSES = [
    pytest.param({}, "usable", None, id="published"),
    pytest.param({"published_at": NOW + timedelta(hours=1)}, "usable", "embargoed", id="scheduled"),
    pytest.param({"expires_at": NOW - timedelta(minutes=1)}, "usable", "expires", id="expired"),
    pytest.param(
        {"status": ContentStatus.DRAFT, "published_at": None, "first_published_at": None},
        "withheld",
        None,
        id="draft",
    ),
    pytest.param({"status": ContentStatus.IN_REVIEW}, "withheld", None, id="in-review"),
    pytest.param({"status": ContentStatus.ARCHIVED}, "withheld", None, id="archived"),
    pytest.param({"status": ContentStatus.KILLED}, "canceled", "ednote", id="killed"),
]


@pytest.mark.parametrize(("fields", "pubstatus", "extra"), STATUSES)
def test_each_status_has_its_pubstatus(
    validator: Validator, fields: dict[str, Any], pubstatus: str, extra: str | None
) -> None:
    record = _record(**fields)
    extras = ninjs.Extras(created_at=NOW - timedelta(days=1))

    doc = _valid(validator, ninjs.document(record, LINKS, NOW, extras=extras))

    assert doc["pubstatus"] == ninjs.pubstatus(record, NOW) == pubstatus
    assert [name for name in ("embargoed", "expires", "ednote") if name in doc] == (
        [extra] if extra else []
    )
    assert doc["uri"] == "https://api.news.example/ninjs/" + ids.content_id(ContentKind.ARTICLE, 7)
    assert doc["language"] == "uk"
    assert doc["firstcreated"] == (
        "2026-11-29T10:00:00Z" if record.first_published_at else "2026-11-28T12:00:00Z"
    )


def test_a_document_of_every_part_is_pure_and_valid(validator: Validator) -> None:
    """Odd but allowed values: a body of markup only, a non-image hero, no sizes, a tag
    named with quotes, times at the ends of the range."""
    record = _record(
        kind=ContentKind.VIDEO_EPISODE,
        description="Line one\nline two",
        video_url="https://video.example/a b%zz%20é.mp4",
        duration_seconds=0,
        dek='"Quoted" dek',
        published_at=datetime(1, 1, 1, tzinfo=UTC),
        first_published_at=datetime(1, 1, 1, tzinfo=UTC),
        expires_at=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        section=SectionRecord(1, "Війна", "viina"),
        tags=[TagRecord(1, 'The "tag"', "the-tag")],
        authors=[AuthorRecord(1, "Іван", "ivan", AuthorKind.PERSON)],
        hero_image=MediaRecord(1, "clips/a.mp4", "video/mp4"),
    )
    extras = ninjs.Extras(created_at=NOW, external_id=" x ")

    doc = _valid(validator, ninjs.document(record, LINKS, NOW, extras=extras))

    assert doc["associations"][0]["type"] == "video"
    assert doc["associations"][0]["renditions"] == [
        {"name": "original", "href": "https://api.news.example/media/clips/a.mp4",
         "contenttype": "video/mp4"},
    ]  # fmt: skip
    assert doc["firstcreated"] == "0001-01-01T00:00:00Z"
    assert doc["expires"] == "9999-12-31T23:59:59.999999Z"
    assert doc["renditions"][1] == {
        "name": "video",
        "href": "https://video.example/a%20b%25zz%20%C3%A9.mp4",
        "duration": 0,
    }
    assert doc["by"] == "Іван"
    assert ninjs.document(record, LINKS, NOW, extras=extras) == doc  # the same every time
