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
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.content import raw_sql, slugs, upserts
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
_SIMPLE: dict[str, tuple[type[Model], str]] = {
    "section": (Section, "slug"),
    "tag": (Tag, "slug"),
    "media": (Media, "key"),
    "author": (Author, "slug"),
}


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


def _holds(here: dict[str, Any] | None, line: dict[str, Any]) -> bool:
    """Whether the item here (its export line) already holds the file's line: the same
    fields, and every revision and correction of the line among its own (it may have
    more: a correction added here since, which an import never takes away)."""
    if here is None:
        return False
    history = ("revisions", "corrections")
    if any(here.get(name) != value for name, value in line.items() if name not in history):
        return False
    return all(entry in here.get(name, ()) for name in history for entry in line.get(name) or ())


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
        self._ids: dict[tuple[str, str], int | None] = {}
        self._queued: list[tuple[int, Fields]] = []
        self._simple: list[tuple[int, str, Fields]] = []

    async def warm(self, model: type[Model], column: str, values: Iterable[str]) -> None:
        """Look up the ids of many slugs (or keys) at once; unknown ones are remembered."""
        wanted = sorted({value for value in values if (model.__name__, value) not in self._ids})
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            found = dict(
                await model.filter(**{f"{column}__in": chunk})
                .using_db(self.connection)
                .values_list(column, "id")
            )
            for value in chunk:
                self._ids[(model.__name__, value)] = found.get(value)

    async def known(self, model: type[Model], column: str, value: str) -> int | None:
        """The id of the row whose `column` is `value`, or None."""
        key = (model.__name__, value)
        if key not in self._ids:
            await self.warm(model, column, [value])
        return self._ids[key]

    async def id_of(self, model: type[Model], column: str, value: str, what: str) -> int:
        found = await self.known(model, column, value)
        if found is None:
            raise Malformed(f"unknown {what} {value!r} (its line must come first)")
        return found

    async def optional_id(
        self, model: type[Model], column: str, value: str | None, what: str
    ) -> int | None:
        return None if value is None else await self.id_of(model, column, value, what)

    async def line(self, number: int, fields: Fields) -> None:
        kind = fields.text("type")
        if kind == "content":  # written a batch at a time (_flush_contents)
            await self._flush_simple()
            self._queued.append((number, fields))
            return
        if kind in _SIMPLE:  # likewise, a run of one type at a time
            await self._flush_contents()
            if self._simple and self._simple[0][1] != kind:
                await self._flush_simple()
            self._simple.append((number, kind, fields))
            return
        await self.flush()
        if kind == "export":
            if fields.text("format") != FORMAT or fields.integer("version") != FORMAT_VERSION:
                raise Malformed(f"not a {FORMAT} file of version {FORMAT_VERSION}")
        elif kind == "webhook":
            await self._webhook(fields)

    async def flush(self) -> None:
        """Write what is queued (the end of a batch, or a line of another kind)."""
        await self._flush_simple()
        await self._flush_contents()

    async def _flush_simple(self) -> None:
        """Sections, tags, media or authors (a run of one type): matched in one query,
        the new ones created in one statement, changed ones updated one by one."""
        queued, self._simple = self._simple, []
        if not queued:
            return
        kind = queued[0][1]
        model, column = _SIMPLE[kind]
        if kind == "author":
            avatars = [fields.data.get("avatar") for _, _, fields in queued]
            await self.warm(Media, "key", [key for key in avatars if isinstance(key, str)])
        parsed = []
        for number, _, fields in queued:
            try:
                parsed.append((number, *await self._values(kind, fields)))
            except Malformed as error:
                error.number = number
                raise
        keys = [key for _, key, _ in parsed]
        existing = {
            getattr(row, column): row
            for row in await model.filter(**{f"{column}__in": keys}).using_db(self.connection)
        }
        new: list[Model] = []
        seen: set[str] = set()
        for number, key, values in parsed:
            if key in seen:
                raise Malformed(f"{kind} {key!r} is on an earlier line already", number=number)
            seen.add(key)
            row = existing.get(key)
            if row is None:
                new.append(model(**{column: key}, **values))
                self.report.count(kind, "created")
            elif all(getattr(row, name) == value for name, value in values.items()):
                self.report.count(kind, "skipped")
            else:
                await model.filter(id=row.pk).using_db(self.connection).update(**values)
                self.report.count(kind, "updated")
        await model.bulk_create(new, using_db=self.connection)
        self._ids.clear()  # a miss remembered before these rows existed is one no more

    async def _values(self, kind: str, fields: Fields) -> tuple[str, dict[str, Any]]:
        """A section's, tag's, media's or author's key and other values, checked."""
        if kind in ("section", "tag"):
            name = _name(fields, "name", 100)
            return _slug(fields, "slug", maximum=slugs.MAX_TAXONOMY_LENGTH), {"name": name}
        if kind == "media":
            return _name(fields, "key", 255), {
                "mime_type": _name(fields, "mime_type", 100),
                "size_bytes": fields.optional_int("size_bytes"),
                "width": fields.optional_int("width"),
                "height": fields.optional_int("height"),
                "alt_text": fields.optional_text("alt_text", 500),
                "caption": fields.optional_text("caption"),
                "credit": fields.optional_text("credit", 255),
            }
        return _slug(fields, "slug"), {
            "name": _name(fields, "name", 200),
            "kind": AuthorKind(fields.choice("kind", tuple(kind.value for kind in AuthorKind))),
            "bio": fields.optional_text("bio"),
            "email": fields.optional_text("email", 254),
            "avatar_id": await self.optional_id(
                Media, "key", fields.optional_text("avatar"), "media"
            ),
        }

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

    async def _flush_contents(self) -> None:
        """Write the content lines queued so far: items new here in a few statements for
        all of them (upserts.place_new), changed ones one by one (upserts.place)."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        rows = [_Row.numbered(number, fields) for number, fields in queued]
        await self._warm_references(rows)
        existing = await self._existing(rows)
        lines = await export.content_lines(
            list({row.id: row for row in existing.values()}.values())
        )
        exported = {line_key(line): line for line in lines}
        new: list[upserts.Placed] = []
        new_rows: list[_Row] = []
        new_index: dict[str, int] = {}
        for row in rows:
            try:
                await self._content(row, existing, exported, new, new_rows, new_index)
            except Malformed as error:
                error.number = row.number
                raise
        try:
            async with in_transaction() as savepoint:
                await upserts.place_new(new, connection=savepoint)
        except IntegrityError as error:
            first, last = new_rows[0].number, new_rows[-1].number
            raise Malformed(
                f"an item of lines {first} to {last} conflicts with one already here ({error})",
                number=first,
            ) from None

    async def _warm_references(self, rows: list[_Row]) -> None:
        """Every section, media, author and tag the rows name, in four queries."""
        sections: set[str] = set()
        media: set[str] = set()
        authors: set[str] = set()
        tags: set[str] = set()
        for row in rows:
            fields = row.fields
            for name, into in (("section", sections), ("hero_image", media)):
                value = fields.data.get(name)
                if isinstance(value, str):
                    into.add(value)
            for name, into in (("authors", authors), ("tags", tags)):
                value = fields.data.get(name)
                if isinstance(value, list):
                    into.update(item for item in value if isinstance(item, str))
            for revision in fields.data.get("revisions") or ():
                snapshot = revision.get("snapshot") if isinstance(revision, dict) else None
                if not isinstance(snapshot, dict):
                    continue
                for name, into in (("section", sections), ("hero_image", media)):
                    if isinstance(snapshot.get(name), str):
                        into.add(snapshot[name])
                for name, into in (("authors", authors), ("tags", tags)):
                    if isinstance(snapshot.get(name), list):
                        into.update(item for item in snapshot[name] if isinstance(item, str))
        await self.warm(Section, "slug", sections)
        await self.warm(Media, "key", media)
        await self.warm(Author, "slug", authors)
        await self.warm(Tag, "slug", tags)

    async def _existing(self, rows: list[_Row]) -> dict[str, Content]:
        """The items here that the rows' keys, and the stories they join, name; and any
        item holding a row's slug in its locale (a conflict unless it is that item)."""
        external = {row.external_id for row in rows if row.external_id}
        stories = {row.story for row in rows if row.story}
        external |= {
            key.removeprefix("external_id:") for key in stories if key.startswith("external_id:")
        }
        slugs_wanted = {row.slug for row in rows}
        slugs_wanted |= {key.partition("/")[2] for key in stories if key.startswith("slug:")}
        found: dict[str, Content] = {}
        for query in (
            Content.filter(external_id__in=sorted(external)) if external else None,
            Content.filter(slug__in=sorted(slugs_wanted)),
        ):
            if query is None:
                continue
            for item in await query.using_db(self.connection):
                found[
                    export.item_key(
                        external_id=item.external_id, slug=item.slug, locale=item.locale
                    )
                ] = item
                found[f"slug:{item.locale}/{item.slug}"] = item
        return found

    async def _content(
        self,
        row: _Row,
        existing: dict[str, Content],
        exported: dict[str, dict[str, Any]],
        new: list[upserts.Placed],
        new_rows: list[_Row],
        new_index: dict[str, int],
    ) -> None:
        here = existing.get(row.key)
        if here is not None and here.kind != row.kind:
            raise Malformed(f"{row.key} is a {here.kind.value} here, not a {row.kind.value}")
        if here is not None and (
            # Edited here since the export (a later version): what is here is newer, and
            # putting the file's version back would clash with the revisions made since.
            here.version > row.fields.integer("version")
            or _holds(exported.get(row.key), row.fields.data)
        ):
            self.report.count("content", "skipped")
            return
        holder = existing.get(f"slug:{row.locale}/{row.slug}")
        if holder is not None and holder is not here:
            raise Malformed(f"the slug {row.slug!r} is taken in {row.locale!r} by another item")
        if row.key in new_index:
            raise Malformed(f"{row.key} is on an earlier line already")
        placed = await self._placed(row)
        if row.story == row.key:
            placed.own_story = True
        elif row.story in new_index:
            placed.joins = new_index[row.story]
        elif row.story is not None:
            first = existing.get(row.story)
            if first is None:
                raise Malformed(
                    f"unknown story {row.story!r} (its first item's line must come first)"
                )
            placed.story_id = first.story_id or first.id
        if here is None:
            new_index[row.key] = len(new)
            new.append(placed)
            new_rows.append(row)
            self.report.count("content", "created")
            return
        try:
            async with in_transaction() as savepoint:
                await upserts.place(placed, here, connection=savepoint)
        except IntegrityError as error:
            raise Malformed(f"conflicts with an item already here ({error})") from None
        self.report.count("content", "updated")

    async def _placed(self, row: _Row) -> upserts.Placed:
        fields, kind = row.fields, row.kind
        version = fields.integer("version")
        if version < 1:
            raise Malformed("field 'version' must be at least 1")
        values: dict[str, Any] = {
            "external_id": row.external_id,
            "slug": row.slug,
            "locale": row.locale,
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
                "video_url": fields.optional_text("video_url", 2000),
                "duration_seconds": fields.optional_int("duration_seconds"),
                "show": fields.optional_text("show", 200),
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
        named = Fields(snapshot)
        resolved: dict[str, Any] = {}
        # The export named rows by slug (media by key); a row gone since is left out.
        lists: tuple[tuple[str, type[Model], str, str], ...] = (
            ("authors", Author, "slug", "author_ids"),
            ("tags", Tag, "slug", "tag_ids"),
        )
        for name, model, column, target in lists:
            if name in snapshot:
                ids = [await self.known(model, column, value) for value in named.texts(name)]
                resolved[target] = [id for id in ids if id is not None]
                del snapshot[name]
        singles: tuple[tuple[str, type[Model], str, str], ...] = (
            ("section", Section, "slug", "section_id"),
            ("hero_image", Media, "key", "hero_image_id"),
        )
        for name, model, column, target in singles:
            if name in snapshot:
                value = named.optional_text(name)
                resolved[target] = None if value is None else await self.known(model, column, value)
                del snapshot[name]
        return {
            "version": fields.integer("version"),
            "title": _name(fields, "title", 300),
            "created_by": fields.optional_text("created_by", 100),
            "created_at": fields.time("created_at"),
            "note": fields.optional_text("note"),
            "snapshot": snapshot | resolved,
        }


def line_key(line: dict[str, Any]) -> str:
    """The key of an exported content line."""
    return export.item_key(
        external_id=line["external_id"], slug=line["slug"], locale=line["locale"]
    )


@dataclass
class _Row:
    """A content line's identity, checked: what matching it needs before anything else."""

    number: int
    fields: Fields
    kind: ContentKind
    external_id: str | None
    slug: str
    locale: str
    key: str
    story: str | None

    @classmethod
    def of(cls, fields: Fields, number: int = 0) -> _Row:
        kind = ContentKind(fields.choice("kind", tuple(kind.value for kind in ContentKind)))
        external_id = fields.optional_text("external_id")
        if external_id is not None and not 0 < len(external_id) <= 200:
            raise Malformed("field 'external_id' must be 1 to 200 characters")
        slug = _slug(fields, "slug")
        locale = fields.text("locale")
        if len(locale) > 16 or not _LOCALE.fullmatch(locale):
            raise Malformed(f"field 'locale' is not a language tag: {locale!r}")
        key = export.item_key(external_id=external_id, slug=slug, locale=locale)
        story = fields.optional_text("story")
        return cls(number, fields, kind, external_id, slug, locale, key, story)

    @classmethod
    def numbered(cls, number: int, fields: Fields) -> _Row:
        """`of`, with a Malformed naming line `number`."""
        try:
            return cls.of(fields, number)
        except Malformed as error:
            error.number = number
            raise


async def _apply(lines: list[tuple[int, bytes]], report: Report) -> None:
    """One batch in one transaction: all of it, or (on a malformed line) none of it."""
    batch_report = Report()
    async with in_transaction() as connection:
        if raw_sql.dialect(connection) == "postgres":
            # The batch's statements bind hundreds of keys (`slug IN (...)`); a generic plan,
            # made once for all values, cannot hash such a list and scans the table with it.
            await connection.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")
        batch = _Batch(connection, batch_report)
        number = 0
        try:
            for number, raw in lines:
                await batch.line(number, parse(raw))
            await batch.flush()
        except Malformed as error:
            raise LineError(error.number or number, str(error), report) from None
        except (ValueError, TypeError) as error:
            raise LineError(number, f"invalid value ({error})", report) from None
        except Exception as error:  # the database refused the batch: stop as for a bad line
            raise LineError(
                number,
                f"the batch ending here could not be written ({type(error).__name__}: {error})",
                report,
            ) from None
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
    statistics = _Statistics()
    pending: list[tuple[int, bytes]] = []
    read = 0
    for number, raw in enumerate(lines, start=1):
        read += len(raw)
        if not raw.strip():
            continue
        pending.append((number, raw))
        if len(pending) >= batch:
            await _apply(pending, report)
            await statistics.after(len(pending))
            pending = []
            if progress is not None:
                progress(read)
    if pending:
        await _apply(pending, report)
    await statistics.after(len(pending), last=True)
    if progress is not None:
        progress(read)
    return report


_ANALYZED = (
    "section",
    "tag",
    "media",
    "author",
    "content",
    "content_author",
    "content_tag",
    "revision",
    "correction",
    "content_search",
)
ANALYZE_FIRST = 2_000
"""Lines imported before PostgreSQL's statistics are first brought up to date."""


class _Statistics:
    """Keeps PostgreSQL's planner statistics of the tables an import fills up to date as
    they grow: whenever the lines imported since the last ANALYZE are as many as before it
    (so about log2(lines / ANALYZE_FIRST) times), and once at the end.

    A planner that has never seen statistics for a table (a new database; autovacuum off,
    or behind an import) cannot tell that `slug IN (500 slugs)` finds 500 rows: it scans
    the whole table for each batch, and the import slows down as the table grows
    (about 1 s per 500 media lines at 30,000 media rows, measured). SQLite needs none of it: its
    planner uses an index for such a lookup whatever it knows of the table."""

    def __init__(self) -> None:
        self.lines = 0
        self.analyzed = 0

    async def after(self, lines: int, *, last: bool = False) -> None:
        self.lines += lines
        due = self.lines - self.analyzed >= max(ANALYZE_FIRST, self.analyzed)
        if not (due or (last and self.lines > self.analyzed)):
            return
        connection = connections.get("default")
        if raw_sql.dialect(connection) != "postgres":
            return
        await connection.execute_script(f"ANALYZE {', '.join(_ANALYZED)}")
        self.analyzed = self.lines
