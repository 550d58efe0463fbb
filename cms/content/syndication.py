"""Syndication: public content records as RSS 2.0 and JSON Feed 1.1 documents.

No HTTP here: cms.http.feeds reads the query, loads a page through cms.content.feed (the
one visibility rule) and answers; this module maps the records to entries and writes the
documents. Text is plain text and `content_html` is sanitized HTML (rendering.to_html).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree

from cms.content import ids, rendering
from cms.content.links import Links
from cms.content.records import ContentRecord, CorrectionRecord
from cms.models import Content, ContentKind, OutboxEvent, Tag

__all__ = [
    "FEED_SIZE",
    "JSON_FEED_VERSION",
    "Attachment",
    "Byline",
    "Channel",
    "Entry",
    "changed_at",
    "entry",
    "json_feed",
    "rss",
    "video_mime_type",
]

FEED_SIZE = 50
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
_ATOM = "http://www.w3.org/2005/Atom"
_DC = "http://purl.org/dc/elements/1.1/"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"

_VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mkv": "video/x-matroska",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
}
# Characters XML 1.0 cannot carry at all, not even escaped (most C0 controls, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class Channel:
    title: str
    description: str
    home_page_url: str
    feed_url: str
    language: str
    updated: datetime | None


@dataclass(frozen=True, slots=True)
class Byline:
    name: str
    email: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    url: str
    mime_type: str
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    url: str
    title: str
    summary: str | None
    content_html: str
    published: datetime
    modified: datetime  # shown: the last significant update, else the publication
    saved: datetime  # the last change of any kind: what the document's Last-Modified reads
    language: str
    authors: tuple[Byline, ...] = ()
    categories: tuple[str, ...] = ()
    image_url: str | None = None
    attachment: Attachment | None = None
    corrections: tuple[CorrectionRecord, ...] = ()


def video_mime_type(url: str) -> str:
    """The type a video URL's extension names; video/mp4 when it names none we know."""
    suffix = PurePosixPath(urlparse(url).path).suffix.lower()
    return _VIDEO_TYPES.get(suffix, "video/mp4")


def _text_html(text: str) -> str:
    """Plain text as HTML paragraphs."""
    paragraphs = (part.strip() for part in _PARAGRAPHS.split(text.strip()))
    return "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs if part)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _corrections_html(corrections: Sequence[CorrectionRecord]) -> str:
    """The item's corrections as HTML under its text: dated, oldest first."""
    if not corrections:
        return ""
    lines = "".join(
        f'<li><time datetime="{_rfc3339(correction.at)}">'
        f"{html.escape(_utc(correction.at).strftime('%d %B %Y'))}</time>: "
        f"{html.escape(correction.text)}</li>"
        for correction in corrections
    )
    return f'<aside class="corrections"><h2>Corrections</h2><ul>{lines}</ul></aside>'


def entry(
    record: ContentRecord, *, links: Links, corrections: Sequence[CorrectionRecord] = ()
) -> Entry:
    """A public record (published, with its relations loaded) as a feed entry, with its
    public corrections shown under its text."""
    assert record.published_at is not None, "only public items are syndicated"
    if record.kind == ContentKind.ARTICLE:
        content_html = rendering.to_html(record.body or "")
    else:
        content_html = _text_html(record.description or "")
    if not content_html:
        content_html = _text_html(record.dek or record.title)
    content_html += _corrections_html(corrections)
    names = ([record.section.name] if record.section else []) + [tag.name for tag in record.tags]
    attachment = None
    if record.kind == ContentKind.VIDEO_EPISODE and record.video_url:
        attachment = Attachment(
            url=record.video_url,
            mime_type=video_mime_type(record.video_url),
            duration_seconds=record.duration_seconds,
        )
    published = record.published_at
    return Entry(
        id=ids.content_id(record.kind, record.id),
        url=links.content_url(record.kind, record.slug, record.locale),
        title=record.title,
        summary=record.dek,
        content_html=content_html,
        published=_utc(published),
        # Readers see a change as an update when the editor said it was significant (a
        # typo fix is not); a back-dated publication never shows modified < published.
        modified=_utc(max(record.significantly_updated_at or published, published)),
        # A scheduled item was last saved before it went out: never saved < published.
        saved=_utc(max(record.updated_at, published)),
        language=record.locale,
        authors=tuple(
            Byline(
                name=author.name,
                email=author.email,
                avatar_url=links.media_url(author.avatar.key) if author.avatar else None,
            )
            for author in record.authors
        ),
        categories=tuple(dict.fromkeys(names)),
        image_url=links.media_url(record.hero_image.key) if record.hero_image else None,
        attachment=attachment,
        corrections=tuple(corrections),
    )


async def changed_at(entries: Sequence[Entry], *, now: datetime) -> datetime | None:
    """When a feed last changed: its newest entry's publication or edit, the latest content
    event, the latest tag rename or the latest expiry, whichever is later (an item
    unpublished, archived or deleted leaves the feed, and its event is the only trace of
    that), never after `now`."""
    times = [item.saved for item in entries]
    latest = await OutboxEvent.all().order_by("-id").limit(1).values_list("occurred_at")
    if latest and latest[0][0] is not None:
        times.append(_utc(latest[0][0]))
    # A renamed tag changes the categories of the entries carrying it (updateTag).
    renamed = await Tag.all().order_by("-updated_at").limit(1).values_list("updated_at")
    if renamed and renamed[0][0] is not None and entries:
        times.append(_utc(renamed[0][0]))
    # An item that expired left the feed by the rule alone, before any event said so.
    expired = (
        await Content.filter(expires_at__lte=_utc(now))
        .order_by("-expires_at")
        .limit(1)
        .values_list("expires_at")
    )
    if expired and expired[0][0] is not None:
        times.append(_utc(expired[0][0]))
    return min(max(times), _utc(now)) if times else None


# --- JSON Feed 1.1 -------------------------------------------------------------------


def _rfc3339(value: datetime) -> str:
    return _utc(value).isoformat().replace("+00:00", "Z")


def _json_item(item: Entry) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.content_html,
        "date_published": _rfc3339(item.published),
        "date_modified": _rfc3339(item.modified),
        "language": item.language,
    }
    if item.authors:  # "one or more" when present, says the spec
        document["authors"] = [
            {
                "name": author.name,
                **({"url": f"mailto:{author.email}"} if author.email else {}),
                **({"avatar": author.avatar_url} if author.avatar_url else {}),
            }
            for author in item.authors
        ]
    if item.categories:
        document["tags"] = list(item.categories)
    if item.summary:
        document["summary"] = item.summary
    if item.image_url:
        document["image"] = item.image_url
    if item.attachment:
        attachment: dict[str, Any] = {
            "url": item.attachment.url,
            "mime_type": item.attachment.mime_type,
        }
        if item.attachment.duration_seconds is not None:
            attachment["duration_in_seconds"] = item.attachment.duration_seconds
        document["attachments"] = [attachment]
    if item.corrections:  # also in content_html; here for machines (a JSON Feed extension)
        document["_corrections"] = [
            {"date": _rfc3339(correction.at), "text": correction.text}
            for correction in item.corrections
        ]
    return document


def json_feed(channel: Channel, entries: Sequence[Entry]) -> dict[str, Any]:
    """A JSON Feed 1.1 document (https://www.jsonfeed.org/version/1.1/)."""
    return {
        "version": JSON_FEED_VERSION,
        "title": channel.title,
        "home_page_url": channel.home_page_url,
        "feed_url": channel.feed_url,
        "description": channel.description,
        "language": channel.language,
        "items": [_json_item(item) for item in entries],
    }


# --- RSS 2.0 -------------------------------------------------------------------------


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _add(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> None:
    element = ElementTree.SubElement(
        parent, tag, {name: _xml_text(value) for name, value in attributes.items()}
    )
    if text is not None:
        element.text = _xml_text(text)


def _rfc822(value: datetime) -> str:
    return format_datetime(_utc(value), usegmt=True)


def _rss_item(channel: ElementTree.Element, item: Entry) -> None:
    element = ElementTree.SubElement(channel, "item")
    _add(element, "title", item.title)
    _add(element, "link", item.url)
    _add(element, "guid", item.id, isPermaLink="false")
    _add(element, "pubDate", _rfc822(item.published))
    for author in item.authors:
        _add(element, "dc:creator", author.name)
    # RSS's <author> is an email address: only for a byline that has one (the first).
    emailed = next((author for author in item.authors if author.email), None)
    if emailed is not None:
        _add(element, "author", f"{emailed.email} ({emailed.name})")
    for name in item.categories:
        _add(element, "category", name)
    _add(element, "description", html.escape(item.summary) if item.summary else item.content_html)
    _add(element, "content:encoded", item.content_html)
    if item.attachment:
        # RSS requires a length; 0 says "unknown", as is customary.
        _add(element, "enclosure", url=item.attachment.url, length="0",
             type=item.attachment.mime_type)  # fmt: skip


def rss(channel: Channel, entries: Sequence[Entry]) -> bytes:
    """An RSS 2.0 document (https://www.rssboard.org/rss-specification), UTF-8."""
    root = ElementTree.Element(
        "rss",
        {"version": "2.0", "xmlns:atom": _ATOM, "xmlns:dc": _DC, "xmlns:content": _CONTENT},
    )
    head = ElementTree.SubElement(root, "channel")
    _add(head, "title", channel.title)
    _add(head, "link", channel.home_page_url)
    _add(head, "description", channel.description)
    _add(head, "language", channel.language)
    if channel.updated is not None:
        _add(head, "lastBuildDate", _rfc822(channel.updated))
    _add(head, "generator", "Newsdesk")
    _add(head, "atom:link", href=channel.feed_url, rel="self", type="application/rss+xml")
    for item in entries:
        _rss_item(head, item)
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))
