"""Full-text search: the index every write keeps, and ranked pages read from it.

The index is one row per item in `content_search` (title, dek, body text, and the item's
tags and byline names), written by the write engine in the same transaction as the item
itself (`store`), so a search never sees a change its item does not show. Each database
searches it its own way:

- SQLite: an FTS5 table over `content_search` (external content, kept by triggers),
  tokenized by `porter unicode61 remove_diacritics 2`: English stemming ("strikes" finds
  "strike"), case folded in every script ("Покровськ" finds "покровськ"), whole words only
  ("war" never finds "warm"). Ranked by the terms found in the title, dek and names,
  weighed (`_COLUMN_WEIGHTS`), within the window of newest matches (`ranked`).
- PostgreSQL: a weighted `tsvector` (title A, dek B, body and names C) in a generated
  column with a GIN index, built with the text search configuration of the item's locale
  (LOCALE_CONFIGS: English stemming for `en`; `simple`, which only folds case, for every
  other locale, Ukrainian included, since PostgreSQL ships no Ukrainian dictionary).
  Ranked by `ts_rank_cd`.

User text is never query syntax (`terms`): it is cut into words of letters and digits and
phrases in double quotes, and each is passed to the database as a quoted phrase (FTS5) or
through `plainto_tsquery` / `phraseto_tsquery` (PostgreSQL). Visibility is applied when
searching, by the same rule as every read (cms.content.visibility), never by removing
index rows late: an item unpublished a moment ago is not found.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from cms import sqlite
from cms.content import raw_sql, rendering, text
from cms.errors import Invalid
from cms.postgres import NewsdeskPostgresClient

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_DEPTH",
    "LOCALE_CONFIGS",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "Hit",
    "Term",
    "create_index",
    "drop_index",
    "highlight",
    "ranked",
    "refresh",
    "reindex",
    "snippets",
    "store",
    "terms",
]

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
# How many of the newest matches relevance ranks (CMS_SEARCH_DEPTH's default).
DEFAULT_DEPTH = 300

# PostgreSQL text search configuration by locale; any other locale uses "simple".
LOCALE_CONFIGS = {"en": "english"}
DEFAULT_CONFIG = "simple"

# SQLite's relevance: each word or phrase found in the title counts 10, in the dek 4, in
# the tags and bylines 2; found in the body alone, 0 (every row of the window matches
# somewhere); ties newest first. Each (column, term) is one column-filtered FTS5 query over
# the window's rowid range, so only the postings of that range are read. (FTS5's bm25
# would read every match of each word for its document frequency: 70 ms for a word in half
# of 1,000,000 items, whatever the window; highlight() would read and tokenize each row of
# the window again: 2-3 ms a search at 100,000 items.)
_COLUMN_WEIGHTS = (("title", 10), ("dek", 4), ("names", 2))


# What a snippet marks: control characters no indexed text keeps (`_indexed` drops them),
# replaced by <mark> and </mark> once the passage is HTML-escaped.
_OPEN, _CLOSE = "\x02", "\x03"
SNIPPET_WORDS = 30

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; never punctuation


@dataclass(frozen=True, slots=True)
class Term:
    """A word, or a phrase whose words must appear together and in order."""

    text: str
    phrase: bool = False


def terms(query: str) -> list[Term]:
    """The words and quoted phrases of user text, in order, each once. Everything else
    (operators, wildcards, column names, parentheses, symbols) is a separator. Invalid,
    naming `query`, when the text is too long, has no word at all, or too many."""
    if len(query) > MAX_QUERY_LENGTH:
        raise Invalid(f"query must be at most {MAX_QUERY_LENGTH} characters", field="query")
    text.check(query, field="query")
    found: list[Term] = []
    rest = []
    last = 0
    for match in _PHRASE.finditer(query):
        rest.append(query[last : match.start()])
        last = match.end()
        words = _WORD.findall(match.group(1))
        if len(words) > 1:
            found.append(Term(" ".join(words), phrase=True))
        elif words:
            found.append(Term(words[0]))
    rest.append(query[last:])
    found += [Term(word) for word in _WORD.findall(" ".join(rest))]
    unique = list(dict.fromkeys(term for term in found))
    if not unique:
        raise Invalid("query must contain a word to search for", field="query")
    if len(unique) > MAX_TERMS:
        raise Invalid(f"query may have at most {MAX_TERMS} words or phrases", field="query")
    return unique


def _fts_match(found: Sequence[Term]) -> str:
    """An FTS5 query that finds every term: each a quoted string, so no character of the
    user's text is FTS5 syntax (the words hold letters and digits only)."""
    return " ".join('"' + term.text.replace('"', '""') + '"' for term in found)


def highlight(passage: str) -> str:
    """The passage on one line, HTML-escaped, its marked matches in <mark>…</mark>."""
    restored = passage.translate(_RESTORE)
    escaped = html.escape(" ".join(restored.split()))
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


# PostgreSQL's ts_headline reads `<…>` and `&…;` in the text as HTML and drops them: the
# passage is cut from text with those three characters stood in for (control characters
# no indexed text keeps), and `highlight` puts them back before escaping.
_STAND_INS = "\x04\x05\x06"
_RESTORE = str.maketrans(_STAND_INS, "<>&")
_DROPPED = str.maketrans(dict.fromkeys(_OPEN + _CLOSE + _STAND_INS, " "))


def _indexed(value: str | None) -> str:
    return (value or "").translate(_DROPPED)


# Creating the index ------------------------------------------------------------------

_SQLITE_DDL = (
    "CREATE TABLE IF NOT EXISTS content_search ("
    " content_id INTEGER PRIMARY KEY REFERENCES content (id) ON DELETE CASCADE,"
    " title TEXT NOT NULL, dek TEXT NOT NULL, body TEXT NOT NULL, names TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS content_fts USING fts5("
    " title, dek, body, names, content='content_search', content_rowid='content_id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS content_search_ai AFTER INSERT ON content_search BEGIN"
    " INSERT INTO content_fts (rowid, title, dek, body, names)"
    " VALUES (new.content_id, new.title, new.dek, new.body, new.names); END",
    "CREATE TRIGGER IF NOT EXISTS content_search_ad AFTER DELETE ON content_search BEGIN"
    " INSERT INTO content_fts (content_fts, rowid, title, dek, body, names)"
    " VALUES ('delete', old.content_id, old.title, old.dek, old.body, old.names); END",
    "CREATE TRIGGER IF NOT EXISTS content_search_au AFTER UPDATE ON content_search BEGIN"
    " INSERT INTO content_fts (content_fts, rowid, title, dek, body, names)"
    " VALUES ('delete', old.content_id, old.title, old.dek, old.body, old.names);"
    " INSERT INTO content_fts (rowid, title, dek, body, names)"
    " VALUES (new.content_id, new.title, new.dek, new.body, new.names); END",
)

_POSTGRES_DDL = (
    "CREATE TABLE IF NOT EXISTS content_search ("
    " content_id INTEGER PRIMARY KEY REFERENCES content (id) ON DELETE CASCADE,"
    " title TEXT NOT NULL, dek TEXT NOT NULL, body TEXT NOT NULL, names TEXT NOT NULL,"
    " config REGCONFIG NOT NULL,"
    " vector TSVECTOR GENERATED ALWAYS AS ("
    " setweight(to_tsvector(config, title), 'A') || setweight(to_tsvector(config, dek), 'B')"
    " || setweight(to_tsvector(config, body), 'C') || setweight(to_tsvector(config, names), 'C')"
    ") STORED)",
    "CREATE INDEX IF NOT EXISTS content_search_vector_idx ON content_search USING GIN (vector)",
)


async def create_index(connection: BaseDBAsyncClient) -> None:
    """The index's tables (a migration calls this; running it twice changes nothing)."""
    for statement in _POSTGRES_DDL if raw_sql.dialect(connection) == "postgres" else _SQLITE_DDL:
        await connection.execute_script(statement)


async def drop_index(connection: BaseDBAsyncClient) -> None:
    """Undo `create_index` (a migration run backwards)."""
    statements = (
        ("DROP TABLE IF EXISTS content_search",)
        if raw_sql.dialect(connection) == "postgres"
        else ("DROP TABLE IF EXISTS content_fts", "DROP TABLE IF EXISTS content_search")
    )
    for statement in statements:
        await connection.execute_script(statement)


# Writing it ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Document:
    content_id: int
    title: str
    dek: str
    body: str
    names: str
    locale: str


def _document(row: dict[str, Any], names: Sequence[str]) -> _Document:
    body = rendering.to_text(row["body"]) if row.get("body") else ""
    if row.get("description"):
        body = f"{body}\n\n{row['description']}" if body else row["description"]
    return _Document(
        content_id=row["id"],
        title=_indexed(row["title"]),
        dek=_indexed(row.get("dek")),
        body=_indexed(body),
        names=_indexed(" ".join(names)),
        locale=row.get("locale") or "",
    )


async def _write(documents: Sequence[_Document], connection: BaseDBAsyncClient) -> None:
    if not documents:
        return
    sql = raw_sql.Placeholders(raw_sql.dialect(connection))
    rows = []
    for document in documents:
        values = [
            sql(document.content_id),
            sql(document.title),
            sql(document.dek),
            sql(document.body),
            sql(document.names),
        ]
        if sql.postgres:
            config = LOCALE_CONFIGS.get(document.locale, DEFAULT_CONFIG)
            values.append(f"{sql(config)}::regconfig")
        rows.append(f"({', '.join(values)})")
    columns = "content_id, title, dek, body, names" + (", config" if sql.postgres else "")
    updates = ", ".join(
        f"{column} = excluded.{column}"
        for column in ("title", "dek", "body", "names", *(("config",) if sql.postgres else ()))
    )
    await connection.execute_query(
        f"INSERT INTO content_search ({columns}) VALUES {', '.join(rows)} "
        f"ON CONFLICT (content_id) DO UPDATE SET {updates}",
        sql.params,
    )


_DOCUMENT_COLUMNS = ("id", "title", "dek", "body", "description", "locale")
_SOURCE = (
    f"SELECT {', '.join(_DOCUMENT_COLUMNS)} FROM content WHERE id IN ({{ids}})",
    "SELECT ca.content_id AS content_id, a.name AS name FROM content_author ca"
    " JOIN author a ON a.id = ca.author_id WHERE ca.content_id IN ({ids})"
    " ORDER BY ca.content_id, ca.position",
    "SELECT ct.content_id AS content_id, t.name AS name FROM content_tag ct"
    " JOIN tag t ON t.id = ct.tag_id WHERE ct.content_id IN ({ids})"
    " ORDER BY ct.content_id, t.name",
)


async def _documents(ids: Sequence[int], connection: BaseDBAsyncClient) -> list[_Document]:
    """The documents of items `ids`, read as they are now (inside the caller's
    transaction: its own writes included)."""
    results = []
    for template in _SOURCE:
        sql = raw_sql.Placeholders(raw_sql.dialect(connection))
        marks = ", ".join(sql(id) for id in ids)
        results.append(await connection.execute_query_dict(template.format(ids=marks), sql.params))
    contents, bylines, taggings = results
    names: dict[int, list[str]] = {}
    for row in [*bylines, *taggings]:
        names.setdefault(row["content_id"], []).append(row["name"])
    return [_document(row, names.get(row["id"], [])) for row in contents]


async def store(
    content: Any, author_ids: Sequence[int], tag_ids: Sequence[int], connection: BaseDBAsyncClient
) -> None:
    """Index `content` (the row just written, a Content) with the names of its bylines and
    tags, in the caller's transaction."""
    names: list[str] = []
    for table, ids in (("author", author_ids), ("tag", tag_ids)):
        if ids:
            sql = raw_sql.Placeholders(raw_sql.dialect(connection))
            marks = ", ".join(sql(id) for id in ids)
            rows = await connection.execute_query_dict(
                f"SELECT name FROM {table} WHERE id IN ({marks})", sql.params
            )
            names += [row["name"] for row in rows]
    row = {column: getattr(content, column) for column in _DOCUMENT_COLUMNS}
    await _write([_document(row, names)], connection)


async def refresh(ids: Sequence[int], connection: BaseDBAsyncClient) -> None:
    """Index items `ids` again as they now stand, in the caller's transaction (after a
    tag they carry is renamed: the names are indexed with each item)."""
    for start in range(0, len(ids), REINDEX_BATCH):
        await _write(await _documents(ids[start : start + REINDEX_BATCH], connection), connection)


REINDEX_BATCH = 500


async def reindex(
    connection: BaseDBAsyncClient | None = None,
    *,
    progress: Any = None,
    batch: int = REINDEX_BATCH,
) -> int:
    """Rebuild the index of every item, `batch` items a transaction, and return how many
    were indexed; `progress(done, total)` is called after each batch. The index answers
    searches throughout (rows are replaced, never dropped first)."""
    connection = connection or connections.get("default")
    total_rows = await connection.execute_query_dict("SELECT count(*) AS n FROM content")
    total = int(total_rows[0]["n"])
    done, last = 0, 0
    while True:
        sql = raw_sql.Placeholders(raw_sql.dialect(connection))
        rows = await connection.execute_query_dict(
            f"SELECT id FROM content WHERE id > {sql(last)} ORDER BY id LIMIT {sql(batch)}",
            sql.params,
        )
        ids = [row["id"] for row in rows]
        if not ids:
            break
        async with _transaction(connection) as writer:
            await _write(await _documents(ids, writer), writer)
        done += len(ids)
        last = ids[-1]
        if progress is not None:
            progress(done, total)
    if raw_sql.dialect(connection) == "sqlite":
        await connection.execute_script("INSERT INTO content_fts (content_fts) VALUES ('optimize')")
    return done


def _transaction(connection: BaseDBAsyncClient) -> Any:
    """A transaction on `connection` (a savepoint inside a migration's transaction)."""
    return connection._in_transaction()  # noqa: SLF001 - what tortoise.transactions uses


# Reading it ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One found item: its id, its publication time and its rank (smaller is better)."""

    id: int
    published_at: datetime | None
    updated_at: datetime | None
    rank: float


@dataclass(frozen=True, slots=True)
class After:
    """Where a page continues: after this rank (when ranked), time and id."""

    rank: float | None
    at: datetime
    id: int


def _parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


async def ranked(
    found: Sequence[Term],
    *,
    rule: tuple[str, list[Any]],
    time_field: str,
    limit: int,
    after: After | None,
    by_relevance: bool,
    kinds: Sequence[str] = (),
    section: str | None = None,
    locale: str | None = None,
    depth: int = DEFAULT_DEPTH,
    connection: BaseDBAsyncClient | None = None,
) -> list[Hit]:
    """Up to `limit` items matching every term that keep `rule` (SQL over the table alias
    `c`, with `?` placeholders, from cms.content.visibility), after `after`: by relevance,
    the best of the `depth` most recently created matches (ties newest first), or by
    `time_field`, newest first, among all matches.

    Ranking every match costs what the matches number (a common word is in half an
    archive), so relevance ranks a window of the newest `depth`: a search costs about a
    feed page at any archive size, and a rare word's matches all fit in it."""
    connection = connection or connections.get("default")
    sql = raw_sql.Placeholders(raw_sql.dialect(connection))
    postgres = sql.postgres
    condition, rule_values = rule[0], list(rule[1])

    def bound(value: Any) -> str:
        return sql(raw_sql.db_time(value, postgres) if isinstance(value, datetime) else value)

    # Placeholders are taken in the order they appear in the statement (SQLite's `?`).
    if postgres:
        # Every parameter given must appear in the statement (PostgreSQL types each).
        rank = (
            f"ts_rank_cd(vector, {_tsquery(found, sql, locale, 'config')})" if by_relevance else ""
        )
        source = "content_search s JOIN content c ON c.id = s.content_id"
        matches = _tsmatch(found, sql, locale)
    else:
        rank = ""  # SQLite ranks its window itself (`_sqlite_scores`)
        source = "content_fts JOIN content c ON c.id = content_fts.rowid"
        matches = f"content_fts MATCH {sql(_fts_match(found))}"
    # The rule's placeholders are `?`; each becomes one of this statement's.
    where = [matches, re.sub(r"\?", lambda _: bound(rule_values.pop(0)), condition)]
    if kinds:
        where.append(f"c.kind IN ({', '.join(sql(kind) for kind in kinds)})")
    if section is not None:
        where.append(f"c.section_id = (SELECT id FROM section WHERE slug = {sql(section)})")
    if locale is not None:
        where.append(f"c.locale = {sql(locale)}")
    columns = "c.id AS id, c.published_at AS published_at, c.updated_at AS updated_at"
    condition = " AND ".join(where)
    if by_relevance and postgres:
        # Best first: the rank grows with relevance; `score` shrinks.
        kept = "TRUE"
        if after is not None:
            kept = f"({time_field} < {bound(after.at)} OR "
            kept += f"({time_field} = {bound(after.at)} AND id < {sql(after.id)}))"
            if after.rank is not None:
                kept = f"(score > {sql(after.rank)} OR (score = {sql(after.rank)} AND {kept}))"
        return await _postgres_ranked(
            connection,
            window=(
                f"SELECT {columns}, -{rank} AS score FROM ("
                f"SELECT {columns}, s.vector AS vector, s.config AS config FROM {source}"
                f" WHERE {condition}{_ABOVE} ORDER BY {_NEWEST} DESC LIMIT {sql(depth)}) AS c"
            ),
            kept=kept,
            order=f"score, {time_field} DESC, id DESC",
            limit=limit,
            sql=sql,
            depth=depth,
        )
    if by_relevance:
        # The window of the `depth` newest matches, each with its score, ordered and paged
        # here (`_best`): a few hundred rows at most.
        rows, scores = await _sqlite_window(
            connection, columns, source, condition, sql, depth, found, time_field
        )
        return _best(rows, scores, time_field=time_field, after=after, limit=limit)
    keyset = ""
    if after is not None:
        keyset = (
            f" AND (c.{time_field} < {bound(after.at)} OR "
            f"(c.{time_field} = {bound(after.at)} AND c.id < {sql(after.id)}))"
        )
    statement = (
        f"SELECT {columns} FROM {source} WHERE {condition}{keyset}"
        f" ORDER BY c.{time_field} DESC, c.id DESC LIMIT {sql(limit)}"
    )
    newest = await connection.execute_query_dict(statement, sql.params)
    return [_hit(row, 0.0) for row in newest]


async def _sqlite_window(
    connection: BaseDBAsyncClient,
    columns: str,
    source: str,
    condition: str,
    sql: raw_sql.Placeholders,
    depth: int,
    found: Sequence[Term],
    time_field: str,
) -> tuple[list[tuple[Any, ...]], dict[int, int]]:
    """The window's rows (FTS5 walks the postings from the newest row back and stops),
    newest first by `time_field`, and the scores of those that have one
    (`_sqlite_scores`)."""
    window = (
        f"SELECT {columns} FROM {source} WHERE {condition}"
        f" ORDER BY content_fts.rowid DESC LIMIT {sql(depth)}"
    )
    ordered = f"SELECT * FROM ({window}) ORDER BY {time_field} DESC, id DESC"
    rows = await _short_read(connection, ordered, sql.params)
    if not rows:
        return rows, {}
    ids = [row[0] for row in rows]
    return rows, await _sqlite_scores(found, min(ids), max(ids), connection)


# The first try of PostgreSQL's window reads the matches among the newest
# FIRST_SPAN x depth ids (`_postgres_ranked`).
FIRST_SPAN = 8
_ABOVE, _NEWEST = "/*above*/", "/*newest*/"
_EVERY_ID = 1 << 62


async def _postgres_ranked(
    connection: BaseDBAsyncClient,
    *,
    window: str,
    kept: str,
    order: str,
    limit: int,
    sql: raw_sql.Placeholders,
    depth: int,
) -> list[Hit]:
    """The page of `window` (its rows best first, those after the cursor: `kept`), whose
    window of `depth` newest matches PostgreSQL reads in tries over the newest ids.

    A GIN index gives a word's matches in no order. The newest few hundred matches are
    found either by walking back through the newest rows, reading each one's vector
    (cheap for a common word), or from the word's postings, reading the row of every
    match (cheap for a rare word); for a word in a few percent of a large archive both
    read thousands of rows. Each try reads only the matches above an id, written as a
    literal, so that the planner sees how few rows it spans and no plan reads more: the
    newest FIRST_SPAN x depth ids, then the span that should hold `depth` matches at the
    density the first found (`_next_span`), then every match, ordered by `c.id + 0` so
    that the last try takes the (rare) word's postings rather than walking back through
    the whole table. The window is complete as soon as a try finds `depth` matches (its
    size comes with the page, whose rows after the cursor come first). Each try is
    planned for its own values (cms/postgres.py): one plan for any word is wrong for
    most words."""
    statement = (
        f"SELECT * FROM (SELECT *, count(*) OVER () AS window_size,"
        f" coalesce({kept}, FALSE) AS kept"
        f" FROM ({window}) AS found) AS found ORDER BY kept DESC, {order} LIMIT {sql(limit)}"
    )
    newest = await connection.execute_query_dict("SELECT max(content_id) AS id FROM content_search")
    top, span = int(newest[0]["id"] or 0), FIRST_SPAN * depth
    while True:
        bounded = top - span > 0
        tried = statement.replace(_ABOVE, f" AND s.content_id > {top - span}" if bounded else "")
        tried = tried.replace(_NEWEST, "c.id" if bounded else "c.id + 0")
        rows = await _planned_read(connection, tried, sql.params)
        found = rows[0]["window_size"] if rows else 0
        if not bounded or found >= depth:
            return [_hit(row, float(row["score"])) for row in rows if row["kept"]]
        # The second try spans what the first found says it should; the third, everything.
        first = span == FIRST_SPAN * depth
        span = _next_span(span, found, depth) if first else _EVERY_ID


def _next_span(span: int, found: int, depth: int) -> int:
    """The span of ids that should hold `depth` matches, when `span` held `found`: half
    again as many as the matches' density says (all of them when it found none)."""
    if found == 0:
        return _EVERY_ID
    return span * depth * 3 // (found * 2)


def _hit(row: dict[str, Any], rank: float) -> Hit:
    return Hit(
        id=row["id"],
        published_at=_parse_time(row["published_at"]),
        updated_at=_parse_time(row["updated_at"]),
        rank=float(rank),
    )


async def _short_read(
    connection: BaseDBAsyncClient, statement: str, params: list[Any]
) -> list[tuple[Any, ...]]:
    """The rows (tuples, in the order of the columns) of a read of a few hundred rows
    through the index: on SQLite it may run on the event loop's own connection
    (cms/sqlite.py)."""
    rows = sqlite.quick_tuples(connection, statement, params)
    if rows is None:
        rows = [
            tuple(row.values()) for row in await connection.execute_query_dict(statement, params)
        ]
    return rows


async def _planned_read(
    connection: BaseDBAsyncClient, statement: str, params: list[Any]
) -> list[dict[str, Any]]:
    """A read planned for its own values on PostgreSQL (cms/postgres.py), as usual elsewhere."""
    rows: list[dict[str, Any]]
    if isinstance(connection, NewsdeskPostgresClient):
        rows = await connection.execute_planned_query_dict(statement, params)
    else:
        rows = await connection.execute_query_dict(statement, params)
    return rows


async def _sqlite_scores(
    found: Sequence[Term], low: int, high: int, connection: BaseDBAsyncClient
) -> dict[int, int]:
    """The weighed count of the terms each match with an id from `low` to `high` holds in
    its title, dek and names (`_COLUMN_WEIGHTS`), for the matches that hold one: one
    column-filtered match a (column, term), read only over that range of rowids."""
    sql = raw_sql.Placeholders("sqlite")
    # Each query also asks for every term, so it reads only the range's matches: a word
    # common in one column (a tag on half the archive) would otherwise list every row of
    # the range that holds it there.
    every = " AND " + _fts_match(found) if len(found) > 1 else ""
    parts = [
        f"SELECT {weight}, rowid FROM content_fts WHERE content_fts MATCH"
        f" {sql(f'{{{column}}} : ' + _fts_match([term]) + every)}"
        f" AND rowid BETWEEN {sql(low)} AND {sql(high)}"
        for column, weight in _COLUMN_WEIGHTS
        for term in found
    ]
    scores: dict[int, int] = {}
    for weight, id in await _short_read(connection, " UNION ALL ".join(parts), sql.params):
        scores[id] = scores.get(id, 0) + weight
    return scores


def _best(
    rows: list[tuple[Any, ...]],
    scores: dict[int, int],
    *,
    time_field: str,
    after: After | None,
    limit: int,
) -> list[Hit]:
    """The rows of a SQLite window (id, published_at, updated_at as the database gives
    them, newest first by `time_field`, a row without a time last, then by id) best first:
    the highest score, ties in the order given. From after `after`: the order and the
    keyset the SQL of the other reads writes, times compared as SQLite compares them (its
    stored text sorts as the times do). A hit's rank is its score negated (smaller is
    better)."""
    # Most of a window scores nothing (the words are in the body alone): those keep their
    # order, after the scored rows sorted by score (a stable sort keeps theirs too).
    scored = [row for row in rows if row[0] in scores]
    scored.sort(key=lambda row: scores[row[0]], reverse=True)
    best = scored + [row for row in rows if row[0] not in scores]
    if after is not None:
        column = _TIME_COLUMNS[time_field]
        after_at = raw_sql.db_time(after.at, False)  # as SQLite stores it
        best = [
            row
            for row in best
            if _comes_after(-float(scores.get(row[0], 0)), row[column], row[0], after, after_at)
        ]
    return [
        Hit(
            id=row[0],
            published_at=_parse_time(row[1]),
            updated_at=_parse_time(row[2]),
            rank=-float(scores.get(row[0], 0)),
        )
        for row in best[:limit]
    ]


_TIME_COLUMNS = {"published_at": 1, "updated_at": 2}


def _comes_after(rank: float, at: Any, id: int, after: After, after_at: Any) -> bool:
    older = at is not None and (at < after_at or (at == after_at and id < after.id))
    if after.rank is None:
        return older
    return rank > after.rank or (rank == after.rank and older)


def _configs(locale: str | None) -> list[str]:
    if locale is not None:
        return [LOCALE_CONFIGS.get(locale, DEFAULT_CONFIG)]
    return sorted({*LOCALE_CONFIGS.values(), DEFAULT_CONFIG})


def _tsquery_for(found: Sequence[Term], sql: raw_sql.Placeholders, config: str) -> str:
    parts = []
    for term in found:
        function = "phraseto_tsquery" if term.phrase else "plainto_tsquery"
        parts.append(f"{function}({sql(config)}::regconfig, {sql(term.text)})")
    return "(" + " && ".join(parts) + ")"


def _tsmatch(found: Sequence[Term], sql: raw_sql.Placeholders, locale: str | None) -> str:
    """Each document is matched by a query in its own configuration: stop words and
    stemming as it was indexed."""
    checks = [
        f"(s.config = {sql(config)}::regconfig AND s.vector @@ {_tsquery_for(found, sql, config)})"
        for config in _configs(locale)
    ]
    return "(" + " OR ".join(checks) + ")"


def _tsquery(
    found: Sequence[Term],
    sql: raw_sql.Placeholders,
    locale: str | None,
    config_column: str = "s.config",
) -> str:
    """The query in the document's configuration (`config_column`), for ranking."""
    configs = _configs(locale)
    if len(configs) == 1:
        return _tsquery_for(found, sql, configs[0])
    cases = " ".join(
        f"WHEN {sql(config)}::regconfig THEN {_tsquery_for(found, sql, config)}"
        for config in configs
    )
    return f"(CASE {config_column} {cases} END)"


async def snippets(
    found: Sequence[Term],
    ids: Sequence[int],
    *,
    locale: str | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> dict[int, str]:
    """The best matching passage of each item `ids`, about SNIPPET_WORDS words, escaped
    and marked (`highlight`)."""
    if not ids:
        return {}
    connection = connection or connections.get("default")
    sql = raw_sql.Placeholders(raw_sql.dialect(connection))
    if sql.postgres:
        query = _tsquery(found, sql, locale)
        options = sql(
            f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords={SNIPPET_WORDS}, "
            f"MinWords={SNIPPET_WORDS // 2}, MaxFragments=1, FragmentDelimiter=…"
        )
        marks = ", ".join(sql(id) for id in ids)

        # The passage of the body where it matches, else of the dek, else of the title.
        def text(column: str) -> str:
            return f"translate(s.{column}, '<>&', {sql(_STAND_INS)})"

        def matches(column: str) -> str:
            return f"to_tsvector(s.config, s.{column}) @@ {query}"

        statement = (
            f"SELECT s.content_id AS id, ts_headline(s.config, CASE "
            f"WHEN {matches('body')} THEN {text('body')} "
            f"WHEN {matches('dek')} THEN {text('dek')} ELSE {text('title')} END, "
            f"{query}, {options}) AS passage "
            f"FROM content_search s WHERE s.content_id IN ({marks})"
        )
    else:
        match = sql(_fts_match(found))
        marks = ", ".join(sql(id) for id in ids)
        statement = (
            "SELECT rowid AS id, snippet(content_fts, -1, char(2), char(3), '…', "
            f"{SNIPPET_WORDS}) AS passage FROM content_fts "
            f"WHERE content_fts MATCH {match} AND rowid IN ({marks})"
        )
    rows = await connection.execute_query_dict(statement, sql.params)
    return {row["id"]: highlight(row["passage"] or "") for row in rows}
