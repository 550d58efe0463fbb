"""Cache tags: what a cached response depends on, and what each change invalidates.

The one vocabulary shared by the response cache, the dispatcher, webhooks (`cacheTags`)
and CDNs (`Surrogate-Key`, `Cache-Tag`). Two kinds of tag:

- what a response *shows*: `item:<id>` for each content item on it, `author:<id>` for each
  byline or author profile;
- what a response is *a page of*: `feed` (the public feed, whatever its kinds or locale),
  `section:<slug>`, `tag:<slug>` and `byline:<slug>` (the feed narrowed to one section, tag
  or author, and an author's own list of content), `search`, `sections` (the list of
  sections), `slug:<slug>` (a single-item lookup by slug, answered or not) and
  `author-slug:<slug>` (an author lookup by slug), `pinned` (the pinned items, which
  depend on the feed too: a pinned list records both), `story:<id>` (an item's
  translations: the other items of its story).

A change then invalidates only what depends on it: an edit of an item its own responses
(and search, and its authors' lists); a publication or withdrawal every list the item
enters or leaves. Sections and media are never edited once created, so showing them needs
no tag; creating a section changes `sections`. Renaming a tag changes the responses showing
its items (`item:<id>` of each), its lists and search.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from cms.content import visibility
from cms.content.records import AuthorRecord, ContentRecord
from cms.events import outbox

__all__ = [
    "FEED",
    "PINNED",
    "SEARCH",
    "SECTIONS",
    "Collector",
    "author",
    "author_slug",
    "byline",
    "for_event",
    "for_publication",
    "item",
    "public_when_recorded",
    "section",
    "slug",
    "story",
    "tag",
]

FEED = "feed"
PINNED = "pinned"
SEARCH = "search"
SECTIONS = "sections"

# What an edit may change about where an item is listed: its place in the feed, its
# section, its bylines, its tags, its kind or locale. An edit of anything else (title,
# body…) changes only the responses that show the item, and search.
_LISTING_FIELDS = frozenset(
    {
        "status", "published_at", "expires_at", "section_id", "author_ids", "tag_ids", "kind",
        "locale", "slug",
    }
)  # fmt: skip
# What a pin or unpin changes: the pinned lists.
_PIN_FIELDS = frozenset({"pinned_at", "pinned_until"})
_MAX_PART = 64


def _part(value: object) -> str:
    """A client's slug made safe for a header: no spaces, commas or control characters;
    a very long one is shortened to its hash."""
    text = quote(str(value), safe="-_.~@")
    if len(text) > _MAX_PART:
        return "h" + hashlib.sha256(text.encode()).hexdigest()[:24]
    return text


def item(id: int) -> str:
    return f"item:{int(id)}"


def slug(value: str) -> str:
    return f"slug:{_part(value)}"


def section(slug: str) -> str:
    return f"section:{_part(slug)}"


def tag(slug: str) -> str:
    return f"tag:{_part(slug)}"


def byline(slug: str) -> str:
    return f"byline:{_part(slug)}"


def story(id: int) -> str:
    """The items telling one story in several locales (a response listing translations)."""
    return f"story:{int(id)}"


def author(id: int) -> str:
    return f"author:{int(id)}"


def author_slug(slug: str) -> str:
    return f"author-slug:{_part(slug)}"


def _listed_in(record: ContentRecord) -> set[str]:
    """The lists a public item is a member of."""
    lists = {FEED, SEARCH}
    if record.section is not None:
        lists.add(section(record.section.slug))
    lists.update(tag(t.slug) for t in record.tags)
    lists.update(byline(a.slug) for a in record.authors)
    return lists


def for_publication(record: ContentRecord) -> set[str]:
    """What an item entering (or leaving) the public lists invalidates: the item, its
    slug and every list it is a member of."""
    return {item(record.id), slug(record.slug)} | _listed_in(record)


def public_when_recorded(*, type: str, payload: Mapping[str, Any], occurred_at: datetime) -> bool:
    """Whether the item was public when the event was recorded (judged from the event,
    not from the item's state now)."""
    if type == outbox.EventType.UNPUBLISHED or payload.get("withdrawn") is True:
        return True  # a public item withdrawn (unpublished, killed, expired)
    published_at = payload.get("published_at")
    expires_at = payload.get("expires_at")
    then = visibility.Snapshot(
        status=str(payload.get("status")),
        published_at=datetime.fromisoformat(published_at) if published_at else None,
        expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
    )
    return visibility.is_public(then, occurred_at)


def _relists(type: str, payload: Mapping[str, Any]) -> bool:
    """Whether the event may move the item in or out of lists, or within them."""
    if type != outbox.EventType.UPDATED:
        return True
    changed = payload.get("changed")
    if not isinstance(changed, list):
        return True  # an event that does not say what changed: assume the worst
    return not _LISTING_FIELDS.isdisjoint(changed)


def for_event(
    *,
    type: str,
    content_id: int,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    record: ContentRecord | None,
) -> list[str]:
    """The tags an outbox event invalidates, sorted. `record` is the item as it is now
    (with its section, authors and tags), None once deleted."""
    found = {item(content_id)}
    changed = payload.get("changed")
    if isinstance(changed, list) and not _PIN_FIELDS.isdisjoint(changed):
        found.add(PINNED)
    if isinstance(payload.get("slug"), str):
        found.add(slug(payload["slug"]))
    if record is not None:
        found.add(slug(record.slug))
    # The story's other items list this one among their translations (payloads recorded
    # before translations existed have no story).
    for story_id in {payload.get("story_id"), record.story_id if record else None}:
        if isinstance(story_id, int):
            found.add(story(story_id))
    if public_when_recorded(type=type, payload=payload, occurred_at=occurred_at):
        if _relists(type, payload):
            found |= {FEED, SEARCH}
            if record is not None:
                found |= _listed_in(record)
        else:  # a public item's words changed: search, and its authors' own lists
            found.add(SEARCH)
            if record is not None:
                found.update(byline(a.slug) for a in record.authors)
    return sorted(found)


class Collector:
    """What one response depends on, gathered by the resolvers while it is answered
    (both execution paths call the same resolvers), and what one write changed outside
    the outbox (author and section edits)."""

    __slots__ = ("cacheable", "changed", "tags")

    def __init__(self) -> None:
        self.tags: set[str] = set()
        self.changed: set[str] = set()
        self.cacheable = True

    def add(self, *tags: str) -> None:
        self.tags.update(tags)

    def authors(self, authors: Iterable[AuthorRecord]) -> None:
        self.tags.update(author(a.id) for a in authors)

    def shown(self, records: Iterable[ContentRecord]) -> None:
        """Content items on the response, with their bylines."""
        for record in records:
            self.tags.add(item(record.id))
            self.authors(record.authors)

    def refuse(self) -> None:
        """This response must not be cached (a mutation, or nothing to depend on)."""
        self.cacheable = False
