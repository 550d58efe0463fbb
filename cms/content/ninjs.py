"""Content items as IPTC ninjs 2.2 documents: the wire export (GET /ninjs/{id} and the
GraphQL field Content.ninjs), valid against shared/reference/ninjs-schema_2.2.json.

How an item maps onto ninjs:

- `uri` is `<CMS_PUBLIC_URL>/ninjs/<global ID>`. The global ID never changes (a new slug,
  title or section leaves it; a slug is unique only within a locale), so neither does the
  uri; and it is the very address that serves the document, so a partner holding it can
  fetch the item again to see an update or learn of a kill (410). A tag URI (RFC 4151)
  would be as stable but resolve nowhere. The one thing that moves every uri is moving the
  API itself: keep CMS_PUBLIC_URL as it is, or redirect the old address.
- `type` is `text` for an article and `video` for a video episode; `version` is the
  item's version and `versioncreated` when that version was saved; `firstcreated` its
  first publication (which never moves, not even when it is republished or back-dated;
  for a scheduled first publication the time it is set for; for an item never published,
  when it was created).
- `pubstatus`: `usable` for a public item, and for a scheduled one, which carries
  `embargoed` (its publication time); `withheld` for a draft, an item in review and an
  archived item; `canceled` for a killed item. An expired item stays `usable`: `expires`
  says when it stopped being so (ninjs's own meaning of expiry).
- `headlines` the title, `descriptions` the dek (role `summary`) and each public
  correction (role `correction`, oldest first), `bodies` an article's body as HTML and as
  plain text (an episode's description as plain text), with their word and character
  counts.
- `by` the bylines, persons in `people` and desks in `organisations` (rel `author`; a desk
  is no human being); `subjects` the section (rel `section`) and the tags (rel `tag`).
- `associations` the hero image, as a `picture` named `heroimage` with its URL, size,
  alt text and caption; `renditions` the item's page on the website (and an episode's
  video); `altids` the external id (role `externalId`), when there is one.

A killed item's notice (`notice`) says only that it is canceled: its uri, type, version,
when it was killed and an editorial note; never its headline or text. Translation links
are not part of the export yet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from cms.content import ids, lookups, rendering, visibility
from cms.content.links import Links
from cms.content.records import (
    AuthorRecord,
    ContentRecord,
    CorrectionRecord,
    MediaRecord,
)
from cms.models import AuthorKind, Content, ContentKind, ContentStatus

__all__ = [
    "KILL_NOTE",
    "SCHEMA_URI",
    "Extras",
    "Source",
    "document",
    "extras_for",
    "killed",
    "notice",
    "pubstatus",
    "sources",
    "uri",
]

SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"
"""The `$id` of the IPTC schema the documents follow."""
_STANDARD = {"name": "ninjs", "version": "2.2", "schema": SCHEMA_URI}
KILL_NOTE = (
    "This item has been withdrawn (killed). Do not use it, and take down any copy already "
    "published."
)
"""The editorial note of a killed item, for the staff of the partners that took it."""

_TYPES = {ContentKind.ARTICLE: "text", ContentKind.VIDEO_EPISODE: "video"}
_WITHHELD = frozenset({ContentStatus.DRAFT, ContentStatus.IN_REVIEW, ContentStatus.ARCHIVED})
_MEDIA_TYPES = {"image": "picture", "video": "video", "audio": "audio"}
_URI_CHARACTERS = ":/?#[]@!$&'()*+,;=%~"  # RFC 3986's reserved ones, and escapes already made
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")  # a % that starts no escape


@dataclass(frozen=True, slots=True)
class Extras:
    """What a document shows that the read records do not carry."""

    created_at: datetime
    external_id: str | None = None
    corrections: tuple[CorrectionRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """An item with everything its document is made of."""

    record: ContentRecord
    extras: Extras


def uri(links: Links, kind: ContentKind, id: int) -> str:
    """The item's ninjs uri: the address of its document (see the module's docstring)."""
    return f"{links.public_url}/ninjs/{quote(ids.content_id(kind, id), safe='+=')}"


def _href(url: str) -> str:
    """A URL as the schema's `uri` format wants it: spaces and other characters a URI
    cannot hold percent-encoded (a video URL is stored as the newsroom typed it)."""
    return quote(_STRAY_PERCENT.sub("%25", url), safe=_URI_CHARACTERS)


def _time(value: datetime) -> str:
    """A time as RFC 3339 in UTC, such as 2026-11-29T09:30:00Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pubstatus(record: ContentRecord, now: datetime) -> str:
    """usable, withheld or canceled (see the module's docstring)."""
    return _pubstatus(visibility.status_at(record, now))


def _pubstatus(status: ContentStatus) -> str:
    if status == ContentStatus.KILLED:
        return "canceled"
    if status in _WITHHELD:
        return "withheld"
    return "usable"


def _text_parts(value: str, content_type: str, counted: str) -> dict[str, Any]:
    return {
        "contenttype": content_type,
        "value": value,
        "charcount": len(counted),
        "wordcount": len(counted.split()),
    }


def _bodies(record: ContentRecord) -> list[dict[str, Any]]:
    if record.kind == ContentKind.ARTICLE:
        if not record.body or not record.body.strip():
            return []
        text = rendering.to_text(record.body)
        return [
            _text_parts(rendering.to_html(record.body), "text/html", text),
            _text_parts(text, "text/plain", text),
        ]
    if record.description:
        return [_text_parts(record.description, "text/plain", record.description)]
    return []


def _descriptions(record: ContentRecord, extras: Extras) -> list[dict[str, str]]:
    found = []
    if record.dek:
        found.append({"role": "summary", "contenttype": "text/plain", "value": record.dek})
    found += [
        {"role": "correction", "contenttype": "text/plain", "value": correction.text}
        for correction in extras.corrections
    ]
    return found


def _party(author: AuthorRecord) -> dict[str, str]:
    return {"name": author.name, "rel": "author", "literal": author.slug}


def _subjects(record: ContentRecord) -> list[dict[str, str]]:
    found = []
    if record.section is not None:
        section = record.section
        found.append({"name": section.name, "rel": "section", "literal": section.slug})
    found += [{"name": tag.name, "rel": "tag", "literal": tag.slug} for tag in record.tags]
    return found


def _picture(media: MediaRecord, links: Links) -> dict[str, Any]:
    """The hero image as an associated ninjs object."""
    url = links.media_url(media.key)
    rendition: dict[str, Any] = {"name": "original", "href": url, "contenttype": media.mime_type}
    if media.width is not None:
        rendition["width"] = media.width
    if media.height is not None:
        rendition["height"] = media.height
    picture: dict[str, Any] = {
        "name": "heroimage",
        "uri": url,
        "type": _MEDIA_TYPES.get(media.mime_type.partition("/")[0], "component"),
        "renditions": [rendition],
    }
    descriptions = [
        {"role": role, "contenttype": "text/plain", "value": value}
        for role, value in (("alt", media.alt_text), ("caption", media.caption))
        if value
    ]
    if descriptions:
        picture["descriptions"] = descriptions
    if media.credit:
        picture["by"] = media.credit
    return picture


def _renditions(record: ContentRecord, links: Links) -> list[dict[str, Any]]:
    page = links.content_url(record.kind, record.slug, record.locale)
    found: list[dict[str, Any]] = [{"name": "web", "href": page, "contenttype": "text/html"}]
    if record.kind == ContentKind.VIDEO_EPISODE and record.video_url:
        video: dict[str, Any] = {"name": "video", "href": _href(record.video_url)}
        if record.duration_seconds is not None:
            video["duration"] = record.duration_seconds
        found.append(video)
    return found


def document(
    record: ContentRecord, links: Links, now: datetime, *, extras: Extras
) -> dict[str, Any]:
    """The item's ninjs document as seen at `now`. `record` must carry its body and its
    relations (section, hero image, bylines, tags): `sources` reads them all."""
    persons = [a for a in record.authors if a.kind != AuthorKind.DESK]
    desks = [a for a in record.authors if a.kind == AuthorKind.DESK]
    status = visibility.status_at(record, now)
    first = record.first_published_at or extras.created_at
    found: dict[str, Any] = {
        "uri": uri(links, record.kind, record.id),
        "standard": dict(_STANDARD),
        "type": _TYPES[record.kind],
        "representationtype": "full",
        "version": str(record.version),
        "firstcreated": _time(first),
        "versioncreated": _time(record.updated_at),
        "pubstatus": _pubstatus(status),
        "language": record.locale,
        "slugline": record.slug,
        "headlines": [{"role": "main", "value": record.title}],
    }
    if status == ContentStatus.SCHEDULED and record.published_at is not None:
        found["embargoed"] = _time(record.published_at)
    if record.expires_at is not None:
        found["expires"] = _time(record.expires_at)
    if status == ContentStatus.KILLED:
        found["ednote"] = KILL_NOTE
    optional: dict[str, Any] = {
        "descriptions": _descriptions(record, extras),
        "bodies": _bodies(record),
        "by": ", ".join(author.name for author in record.authors),
        "people": [_party(author) for author in persons],
        "organisations": [_party(author) for author in desks],
        "subjects": _subjects(record),
        "associations": [_picture(record.hero_image, links)] if record.hero_image else [],
        "renditions": _renditions(record, links),
        "altids": (
            [{"role": "externalId", "value": extras.external_id}] if extras.external_id else []
        ),
    }
    return found | {name: value for name, value in optional.items() if value}


def notice(record: ContentRecord, links: Links) -> dict[str, Any]:
    """What anyone may learn of a killed item: that it is canceled, and when; never what
    it said (no headline, no text, no bylines)."""
    return {
        "uri": uri(links, record.kind, record.id),
        "standard": dict(_STANDARD),
        "type": _TYPES[record.kind],
        "representationtype": "partial",
        "version": str(record.version),
        "versioncreated": _time(record.updated_at),
        "pubstatus": "canceled",
        "ednote": KILL_NOTE,
    }


async def extras_for(ids: Sequence[int]) -> dict[int, Extras]:
    """The extras of items `ids` that exist: two queries (the items, their corrections)."""
    if not ids:
        return {}
    rows = await Content.filter(id__in=list(ids)).values("id", "created_at", "external_id")
    corrections = await lookups.corrections_for([row["id"] for row in rows])
    return {
        row["id"]: Extras(
            created_at=row["created_at"],
            external_id=row["external_id"],
            corrections=tuple(corrections.get(row["id"], ())),
        )
        for row in rows
    }


async def sources(ids: Sequence[int]) -> dict[int, Source]:
    """Items `ids`, in any status, with all their document needs, by id (a missing item is
    left out): five queries however many items."""
    records = await lookups.records_by_ids(ids, lookups.EVERYTHING)
    await lookups.attach_relations(records, lookups.EVERYTHING)
    extras = await extras_for([record.id for record in records])
    return {
        record.id: Source(record, extras[record.id]) for record in records if record.id in extras
    }


async def killed(*, id: int, kind: ContentKind) -> ContentRecord | None:
    """The item `id` of `kind` when it was public once and is killed now, else None (a
    story killed before it ever ran is nobody's business: 404, like any draft). Its body
    and relations are not even read: a killed item's notice shows none of them."""
    found = await lookups.records_by_ids([id], lookups.NOTHING)
    return next(
        (
            r
            for r in found
            if r.kind == kind
            and r.status == ContentStatus.KILLED
            and r.first_published_at is not None
        ),
        None,
    )
