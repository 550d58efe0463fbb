"""Which tags an outbox event invalidates: a text edit of a public item only its own
responses, search and its authors' lists; a publication, withdrawal or move every list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cms.cache import tags
from cms.config import Settings
from cms.content.records import AuthorRecord, ContentRecord, SectionRecord, TagRecord
from cms.models import AuthorKind, ContentKind, ContentStatus
from schema import build_schema

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
PUBLIC: dict[str, Any] = {
    "slug": "bridge",
    "status": "published",
    "published_at": (NOW - timedelta(hours=1)).isoformat(),
}
LISTS = ["byline:ann", "feed", "search", "section:city", "tag:roads"]


def _record() -> ContentRecord:
    record = ContentRecord(
        id=7,
        kind=ContentKind.ARTICLE,
        title="Bridge",
        slug="bridge",
        status=ContentStatus.PUBLISHED,
        locale="en",
        version=1,
        updated_at=NOW,
        published_at=NOW - timedelta(hours=1),
    )
    record.section = SectionRecord(id=1, name="City", slug="city")
    record.authors = [AuthorRecord(id=3, name="Ann", slug="ann", kind=AuthorKind.PERSON)]
    record.tags = [TagRecord(id=4, name="Roads", slug="roads")]
    return record


def _tags(type: str, payload: dict[str, Any], record: ContentRecord | None = None) -> list[str]:
    return tags.for_event(type=type, content_id=7, payload=payload, occurred_at=NOW, record=record)


def test_a_text_edit_of_a_public_item_leaves_the_lists_alone() -> None:
    edited = _tags("CONTENT_UPDATED", PUBLIC | {"changed": ["title", "body"]}, _record())
    assert edited == ["byline:ann", "item:7", "search", "slug:bridge"]


def test_a_move_or_a_publication_invalidates_every_list() -> None:
    moved = _tags("CONTENT_UPDATED", PUBLIC | {"changed": ["section_id"]}, _record())
    published = _tags("CONTENT_PUBLISHED", PUBLIC, _record())
    unknown = _tags("CONTENT_UPDATED", PUBLIC, _record())  # an event that does not say
    assert moved == published == unknown == sorted([*LISTS, "item:7", "slug:bridge"])


def test_a_withdrawal_invalidates_its_lists_and_a_deletion_at_least_the_feed() -> None:
    draft = PUBLIC | {"status": "draft"}
    withdrawn = _tags("CONTENT_UNPUBLISHED", draft, _record())
    deleted = _tags("CONTENT_DELETED", PUBLIC, None)
    assert withdrawn == sorted([*LISTS, "item:7", "slug:bridge"])
    assert deleted == ["feed", "item:7", "search", "slug:bridge"]


def test_an_edit_of_a_draft_or_a_schedule_only_touches_the_item() -> None:
    draft = _tags("CONTENT_UPDATED", {"slug": "x", "status": "draft", "changed": ["title"]})
    later = (NOW + timedelta(hours=1)).isoformat()
    scheduled = _tags("CONTENT_UPDATED", PUBLIC | {"published_at": later}, _record())
    assert draft == ["item:7", "slug:x"]
    assert scheduled == ["item:7", "slug:bridge"]


def test_a_clients_slug_becomes_a_safe_header_value() -> None:
    assert tags.section("a b,c\n") == "section:a%20b%2Cc%0A"
    long = tags.tag("x" * 200)
    assert long.startswith("tag:h") and len(long) < 40
    assert tags.author_slug("ann") == "author-slug:ann"


def test_the_collector_gathers_items_with_their_bylines() -> None:
    collector = tags.Collector()
    collector.shown([_record()])
    collector.refuse()
    assert (collector.tags, collector.cacheable) == ({"item:7", "author:3"}, False)


# Every root a cached response may start from records its tags; a new root must too, or a
# cached answer of it would never be dropped. Token-only roots are never cached (token
# holders bypass the cache, and an anonymous caller gets an error); `me` is null for
# every anonymous reader; `preview` refuses caching (a cached answer would outlive its
# token).
TAGGED_ROOTS = {
    "feed", "search", "article", "videoEpisode", "author", "sections", "section", "tag", "node",
    "pinned",
}  # fmt: skip
UNCACHED_OR_CONSTANT_ROOTS = {"contents", "webhooks", "me", "preview"}


def test_every_query_root_records_what_it_depends_on() -> None:
    schema = build_schema(Settings())
    query = schema._schema.query_type
    assert query is not None
    roots = set(query.fields)
    assert roots - TAGGED_ROOTS - UNCACHED_OR_CONSTANT_ROOTS == set(), (
        "a new Query root: record its cache tags (cms/cache/tags.py) in its resolver, "
        "then list it here"
    )
