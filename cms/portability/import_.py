"""Import: load an export file, idempotently, one transaction per batch of lines.

Each line is matched to what the database holds by its natural key: sections, tags and
authors by slug, media by key, content by external id (else by slug in its locale),
webhooks by URL. A line that matches its row exactly is skipped; one that differs brings
the row up to date; one that matches nothing creates it. A second run therefore skips
everything, and a run stopped half-way (a crash, a malformed line) is resumed by running it
again: every batch before the stop is committed, the one it stopped in rolled back.

Import records no events: partners, subscribers and webhooks hear nothing of a newsroom
being moved (its stories are not news again). A webhook line creates its webhook with a
new signing secret (the export holds none); the report hands it over, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.content import slugs, upserts
from cms.errors import CmsError
from cms.models import (
    Author,
    AuthorKind,
    Content,
    ContentKind,
    ContentStatus,
    Media,
    Section,
    Tag,
    Webhook,
)
from cms.portability import export
from cms.portability.lines import FORMAT, FORMAT_VERSION, Fields, Malformed, parse
from cms.webhooks import signing
from cms.webhooks.service import EVENT_TYPES

__all__ = ["BATCH", "LineError", "Report", "load"]

BATCH = 500
"""Lines per transaction."""

_STORED = tuple(
    status.value
    for status in ContentStatus
    if status not in (ContentStatus.SCHEDULED, ContentStatus.EXPIRED)
)
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_URL = re.compile(r"https?://\S+")


@dataclass
class Report:
    """What an import did: per line type, how many rows it created, updated and skipped;
    and the signing secret of each webhook it created (shown once)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    webhook_secrets: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: str, outcome: str) -> None:
        row = self.counts.setdefault(kind, {"created": 0, "updated": 0, "skipped": 0})
        row[outcome] += 1

    def merge(self, other: Report) -> None:
        for kind, row in other.counts.items():
            for outcome, number in row.items():
                self.counts.setdefault(kind, {"created": 0, "updated": 0, "skipped": 0})
                self.counts[kind][outcome] += number
        self.webhook_secrets += other.webhook_secrets


class LineError(CmsError):
    """A line that stops the import: "line N: why". `report` is what the committed
    batches before it did."""

    def __init__(self, number: int, reason: str, report: Report) -> None:
        super().__init__(f"line {number}: {reason}")
        self.number = number
        self.report = report


def _slug(fields: Fields, name: str, *, maximum: int = slugs.MAX_LENGTH) -> str:
    value = fields.text(name)
    if not slugs.is_slug(value, maximum=maximum):
        raise Malformed(f"field {name!r} is not a slug: {value!r}")
    return value


def _name(fields: Fields, name: str, maximum: int) -> str:
    value = fields.text(name)
    if not value.strip() or len(value) > maximum:
        raise Malformed(f"field {name!r} must be 1 to {maximum} characters")
    return value


class _Batch:
    """One batch's transaction, with the slug-to-id lookups its lines need (kept for the
    batch only: memory stays flat)."""

    def __init__(self, connection: BaseDBAsyncClient, report: Report) -> None:
        self.connection = connection
        self.report = report
        self._ids: dict[tuple[str, str], int] = {}

    async def id_of(self, model: type[Model], column: str, value: str, what: str) -> int:
        key = (model.__name__, value)
        if key not in self._ids:
            found = (
                await model.filter(**{column: value})
                .using_db(self.connection)
                .values_list("id", flat=True)
            )
            if not found:
                raise Malformed(f"unknown {what} {value!r} (its line must come first)")
            self._ids[key] = cast(int, found[0])
        return self._ids[key]

    async def optional_id(
        self, model: type[Model], column: str, value: str | None, what: str
    ) -> int | None:
        return None if value is None else await self.id_of(model, column, value, what)

    async def _put(
        self, kind: str, model: type[Model], key: dict[str, Any], values: dict[str, Any]
    ) -> Model:
        """Create the row matching `key`, or update it to `values`, or skip it."""
        row = await model.filter(**key).using_db(self.connection).first()
        if row is None:
            self.report.count(kind, "created")
            return await model.create(**key, **values, using_db=self.connection)
        if all(getattr(row, name) == value for name, value in values.items()):
            self.report.count(kind, "skipped")
            return row
        await model.filter(id=row.pk).using_db(self.connection).update(**values)
        self.report.count(kind, "updated")
        return row

    async def line(self, fields: Fields) -> None:
        kind = fields.text("type")
        if kind == "export":
            if fields.text("format") != FORMAT or fields.integer("version") != FORMAT_VERSION:
                raise Malformed(f"not a {FORMAT} file of version {FORMAT_VERSION}")
        elif kind == "section":
            name = _name(fields, "name", 100)
            slug = _slug(fields, "slug", maximum=slugs.MAX_TAXONOMY_LENGTH)
            await self._put(kind, Section, {"slug": slug}, {"name": name})
        elif kind == "tag":
            name = _name(fields, "name", 100)
            slug = _slug(fields, "slug", maximum=slugs.MAX_TAXONOMY_LENGTH)
            await self._put(kind, Tag, {"slug": slug}, {"name": name})
        elif kind == "media":
            await self._media(fields)
        elif kind == "author":
            await self._author(fields)
        elif kind == "content":
            await self._content(fields)
        elif kind == "webhook":
            await self._webhook(fields)

    async def _media(self, fields: Fields) -> None:
        key = _name(fields, "key", 255)
        values = {
            "mime_type": _name(fields, "mime_type", 100),
            "size_bytes": fields.optional_int("size_bytes"),
            "width": fields.optional_int("width"),
            "height": fields.optional_int("height"),
            "alt_text": fields.optional_text("alt_text"),
            "caption": fields.optional_text("caption"),
            "credit": fields.optional_text("credit"),
        }
        await self._put("media", Media, {"key": key}, values)

    async def _author(self, fields: Fields) -> None:
        slug = _slug(fields, "slug")
        values = {
            "name": _name(fields, "name", 200),
            "kind": AuthorKind(fields.choice("kind", tuple(kind.value for kind in AuthorKind))),
            "bio": fields.optional_text("bio"),
            "email": fields.optional_text("email"),
            "avatar_id": await self.optional_id(
                Media, "key", fields.optional_text("avatar"), "media"
            ),
        }
        await self._put("author", Author, {"slug": slug}, values)

    async def _webhook(self, fields: Fields) -> None:
        url = fields.text("url")
        if len(url) > 2000 or not _URL.fullmatch(url):
            raise Malformed("field 'url' must be an http(s) URL")
        events = fields.texts("events")
        unknown = [event for event in events if event not in EVENT_TYPES]
        if unknown or not events:
            raise Malformed(f"field 'events' has an unknown event type: {unknown[:1] or '[]'}")
        values = {"events": events, "created_by": fields.optional_text("created_by")}
        row = await Webhook.filter(url=url).using_db(self.connection).first()
        if row is None:
            secret = signing.new_secret()
            await Webhook.create(url=url, secret=secret, **values, using_db=self.connection)
            self.report.webhook_secrets.append((url, secret))
            self.report.count("webhook", "created")
        elif row.events == events and row.created_by == values["created_by"]:
            self.report.count("webhook", "skipped")
        else:
            await Webhook.filter(id=row.id).using_db(self.connection).update(**values)
            self.report.count("webhook", "updated")

    async def _item(self, key: str) -> Content | None:
        """The item a line's key names (external_id:… or slug:locale/slug)."""
        if key.startswith("external_id:"):
            query = Content.filter(external_id=key.removeprefix("external_id:"))
        else:
            locale, _, slug = key.removeprefix("slug:").partition("/")
            query = Content.filter(slug=slug, locale=locale)
        return await query.using_db(self.connection).first()

    async def _content(self, fields: Fields) -> None:
        kind = ContentKind(fields.choice("kind", tuple(kind.value for kind in ContentKind)))
        external_id = fields.optional_text("external_id")
        if external_id is not None and not 0 < len(external_id) <= 200:
            raise Malformed("field 'external_id' must be 1 to 200 characters")
        slug = _slug(fields, "slug")
        locale = fields.text("locale")
        if len(locale) > 16 or not _LOCALE.fullmatch(locale):
            raise Malformed(f"field 'locale' is not a language tag: {locale!r}")
        key = export.item_key(external_id=external_id, slug=slug, locale=locale)
        existing = await self._item(key)
        if existing is not None and existing.kind != kind:
            raise Malformed(f"{key} is a {existing.kind.value} here, not a {kind.value}")
        if existing is not None and (await export.content_lines([existing]))[0] == fields.data:
            self.report.count("content", "skipped")
            return
        placed = await self._placed(fields, kind, external_id, slug, locale)
        story = fields.optional_text("story")
        if story == key:
            placed.own_story = True
        elif story is not None:
            first = await self._item(story)
            if first is None:
                raise Malformed(f"unknown story {story!r} (its first item's line must come first)")
            placed.story_id = first.story_id or first.id
        try:
            async with in_transaction() as savepoint:  # a conflict is this line's fault
                await upserts.place(placed, existing, connection=savepoint)
        except IntegrityError as error:
            raise Malformed(f"conflicts with an item already here ({error})") from None
        self.report.count("content", "created" if existing is None else "updated")

    async def _placed(
        self, fields: Fields, kind: ContentKind, external_id: str | None, slug: str, locale: str
    ) -> upserts.Placed:
        version = fields.integer("version")
        if version < 1:
            raise Malformed("field 'version' must be at least 1")
        values: dict[str, Any] = {
            "external_id": external_id,
            "slug": slug,
            "locale": locale,
            "status": ContentStatus(fields.choice("status", _STORED)),
            "version": version,
            "title": _name(fields, "title", 300),
            "dek": fields.optional_text("dek"),
            "section_id": await self.optional_id(
                Section, "slug", fields.optional_text("section"), "section"
            ),
            "hero_image_id": await self.optional_id(
                Media, "key", fields.optional_text("hero_image"), "media"
            ),
        }
        for name in ("created_at", "updated_at"):
            values[name] = fields.time(name)
        for name in export.CONTENT_TIMES[2:]:
            values[name] = fields.optional_time(name)
        if kind == ContentKind.ARTICLE:
            values["body"] = fields.optional_text("body")
        else:
            values |= {
                "description": fields.optional_text("description"),
                "video_url": fields.optional_text("video_url"),
                "duration_seconds": fields.optional_int("duration_seconds"),
                "show": fields.optional_text("show"),
                "episode_number": fields.optional_int("episode_number"),
            }
        return upserts.Placed(
            kind=kind,
            values=values,
            author_ids=[
                await self.id_of(Author, "slug", slug, "author") for slug in fields.texts("authors")
            ],
            tag_ids=[await self.id_of(Tag, "slug", slug, "tag") for slug in fields.texts("tags")],
            story_id=None,
            revisions=[await self._revision(revision) for revision in fields.objects("revisions")],
            corrections=[
                {
                    "created_at": correction.time("at"),
                    "text": correction.text("text"),
                    "created_by": correction.optional_text("created_by"),
                }
                for correction in fields.objects("corrections")
            ],
        )

    async def _revision(self, fields: Fields) -> dict[str, Any]:
        snapshot = dict(fields.mapping("snapshot"))
        resolved: dict[str, Any] = {}
        # The export named rows by slug (media by key); a row gone since is left out.
        lists: tuple[tuple[str, type[Model], str, str], ...] = (
            ("authors", Author, "slug", "author_ids"),
            ("tags", Tag, "slug", "tag_ids"),
        )
        for name, model, column, target in lists:
            if name in snapshot:
                named = Fields(snapshot).texts(name)
                snapshot.pop(name)
                found = dict(
                    await model.filter(**{f"{column}__in": named})
                    .using_db(self.connection)
                    .values_list(column, "id")
                )
                resolved[target] = [found[value] for value in named if value in found]
        singles: tuple[tuple[str, type[Model], str, str], ...] = (
            ("section", Section, "slug", "section_id"),
            ("hero_image", Media, "key", "hero_image_id"),
        )
        for name, model, column, target in singles:
            if name in snapshot:
                value = Fields(snapshot).optional_text(name)
                snapshot.pop(name)
                found_ids = (
                    await model.filter(**{column: value})
                    .using_db(self.connection)
                    .values_list("id", flat=True)
                    if value is not None
                    else []
                )
                resolved[target] = found_ids[0] if found_ids else None
        return {
            "version": fields.integer("version"),
            "title": fields.text("title"),
            "created_by": fields.optional_text("created_by"),
            "created_at": fields.time("created_at"),
            "note": fields.optional_text("note"),
            "snapshot": snapshot | resolved,
        }


async def _apply(lines: list[tuple[int, bytes]], report: Report) -> None:
    """One batch in one transaction: all of it, or (on a malformed line) none of it."""
    batch_report = Report()
    async with in_transaction() as connection:
        batch = _Batch(connection, batch_report)
        for number, raw in lines:
            try:
                await batch.line(parse(raw))
            except Malformed as error:
                raise LineError(number, str(error), report) from None
            except (ValueError, TypeError) as error:
                raise LineError(number, f"invalid value ({error})", report) from None
    report.merge(batch_report)


async def load(
    lines: Iterable[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> Report:
    """Import `lines` (an export file's, newline included or not); `progress(bytes)` after
    each batch. Raises LineError at the first malformed line."""
    report = Report()
    pending: list[tuple[int, bytes]] = []
    read = 0
    for number, raw in enumerate(lines, start=1):
        read += len(raw)
        if not raw.strip():
            continue
        pending.append((number, raw))
        if len(pending) >= batch:
            await _apply(pending, report)
            pending = []
            if progress is not None:
                progress(read)
    if pending:
        await _apply(pending, report)
    if progress is not None:
        progress(read)
    return report
