"""The baseline: a minimal raw endpoint over the same database.

Hand-written batched SQL (the page with its section and hero image joined in, then one
query for bylines with avatars and one for tags) and orjson, answering the benchmark's
GraphQL operations (`Feed`, `Search`, `Article`, `Contents`, `Author`, `Node`) with the
same JSON as Newsdesk: on the stdlib sqlite3 module over a SQLite file, or on asyncpg
(a pool as large as Tortoise's) over PostgreSQL. `Contents` needs a token from Newsdesk;
the baseline accepts the Authorization header and ignores it. POST answers afresh every
time; GET is the cached variant (an in-process dict of encoded responses keyed by the
query string). Served by uvicorn exactly like `cms serve`:

    python -m bench.baseline --port P     (reads CMS_DATABASE_URL, CMS_PUBLIC_URL, ...)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.backends.base.config_generator import expand_db_url

from cms.config import Settings, get_settings
from cms.content.rendering import to_html

__all__ = ["Baseline", "create_app", "cursor"]

# A row: sqlite3.Row or asyncpg.Record, read by column name or unpacked by position.
Row = Any

Json = dict[str, Any]

_ITEM = """
SELECT c.id, c.kind, c.status, c.title, c.slug, c.dek, c.published_at, c.updated_at,
       c.expires_at,
       c.reading_time_minutes,
       c.video_url, c.duration_seconds, c.show, c.locale, {body} AS body,
       s.name AS section_name, s.slug AS section_slug,
       m.key AS hero_key, m.width AS hero_width, m.height AS hero_height,
       m.alt_text AS hero_alt
FROM content c
LEFT JOIN section s ON s.id = c.section_id
LEFT JOIN media m ON m.id = c.hero_image_id
"""
_PAGE = (
    _ITEM.format(body="NULL")
    + """WHERE c.status = 'published' AND c.published_at <= :bound
  AND (c.expires_at IS NULL OR c.expires_at > :now) {after} {author}
ORDER BY c.published_at DESC, c.id DESC
LIMIT :limit
"""
)
_AFTER = "AND (c.published_at < :at OR c.id < :id)"
# A search: every word, best first (ties newest first); the score is in the cursor.
# Relevance ranks the 300 newest matches (Newsdesk's CMS_SEARCH_DEPTH default); each
# database's `search` writes `ranked`, the (wid, score) rows of the page.
SEARCH_DEPTH = 300
_SEARCH = (
    _ITEM.format(body="NULL")
    .replace("SELECT c.id,", "SELECT w.score AS score, c.id,")
    .replace("FROM content c", "FROM ({ranked}) w\nJOIN content c ON c.id = w.wid")
    + """ORDER BY w.score, c.published_at DESC, c.id DESC
LIMIT :limit
"""
)
# An author's items: those with a byline of theirs.
_BY_AUTHOR = (
    "AND EXISTS (SELECT 1 FROM content_author ca "
    "WHERE ca.content_id = c.id AND ca.author_id = :author)"
)
# The editors' list: every status, most recently updated first.
_CONTENTS = (
    _ITEM.format(body="NULL")
    + """WHERE TRUE {after}
ORDER BY c.updated_at DESC, c.id DESC
LIMIT :limit
"""
)
_CONTENTS_AFTER = "AND c.updated_at <= :at AND (c.updated_at < :at OR c.id < :id)"
_NODE = (
    _ITEM.format(body="NULL")
    + """WHERE c.id = :id AND c.kind = :kind AND c.status = 'published'
  AND c.published_at <= :bound AND (c.expires_at IS NULL OR c.expires_at > :now)
LIMIT 1
"""
)
_AUTHOR = """
SELECT a.id, a.name, a.slug, a.kind, a.bio, m.key AS avatar_key
FROM author a LEFT JOIN media m ON m.id = a.avatar_id
WHERE a.slug = :slug
"""
# The unary + keeps SQLite from driving this lookup with the feed index (status,
# published_at): without it, SQLite scans every public row to find one slug.
_ARTICLE = (
    _ITEM.format(body="c.body")
    + """WHERE c.kind = 'article' AND c.slug = :slug AND +c.status = 'published'
  AND +c.published_at <= :bound AND (+c.expires_at IS NULL OR +c.expires_at > :now)
ORDER BY c.id
LIMIT 20
"""
)
_BYLINES = """
SELECT ca.content_id, a.name, a.slug, a.kind, m.key
FROM content_author ca
JOIN author a ON a.id = ca.author_id
LEFT JOIN media m ON m.id = a.avatar_id
WHERE ca.content_id {ids}
ORDER BY ca.content_id, ca.position, ca.id
"""
_TAGS = """
SELECT ct.content_id, t.name, t.slug
FROM content_tag ct JOIN tag t ON t.id = ct.tag_id
WHERE ct.content_id {ids}
ORDER BY ct.content_id, t.name
"""
_TYPE_NAMES = {"article": "Article", "video_episode": "VideoEpisode"}
# What Newsdesk's estimate (schema/cost.py) makes of one item of these documents, in
# `extensions.cost`: the item, its section and hero image, 10 bylines with an avatar each,
# 20 tags. A hand-written server knows its documents: it writes the number as is.
_ITEM_COST = 1 + 1 + 1 + 10 * 2 + 20
_KINDS = {name: kind for kind, name in _TYPE_NAMES.items()}


def _iso(stored: str) -> str:
    """Stored datetime text ('2026-01-01 10:00:00+00:00') as GraphQL's DateTime shows it."""
    return stored.replace(" ", "T", 1)


def _global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _cursor(at: str, pk: int, score: float | None = None) -> str:
    """A cursor of the time `at` as the API shows it ('2026-01-01T10:00:00+00:00'), and
    in search results ranked by relevance, of the score."""
    raw = (f"{at}|{pk}" if score is None else f"{at}|{pk}|{score!r}").encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor(published_at: str, pk: int) -> str:
    """The cursor of an item whose time is `published_at` as SQLite stores it."""
    return _cursor(_iso(published_at), pk)


def _decode_cursor(cursor: str) -> tuple[str, int]:
    """(the time as the API shows it, the id)."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    at, _, pk = raw.partition("|")
    return at, int(pk)


class Database(Protocol):
    """What the baseline needs of a database: its SQL dialect's few differences and rows."""

    trace: Callable[[str], object] | None

    def shown(self, value: Any) -> str:
        """A stored time as the API shows it."""
        ...

    def bound(self, at: str | datetime) -> Any:
        """A time (as the API shows it, or a datetime) as a query parameter."""
        ...

    def in_list(self, name: str, values: Sequence[int], params: dict[str, Any]) -> str: ...

    async def search(self, words: Sequence[str], params: dict[str, Any]) -> Sequence[Row]:
        """The page of a search (_SEARCH): `params` holds its `bound` and `limit`."""
        ...

    async def fetch(self, sql: str, params: Mapping[str, Any]) -> Sequence[Row]: ...


class SqliteDatabase:
    """The stdlib sqlite3 module: times are stored as text ('2026-01-01 10:00:00+00:00')."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        # Newsdesk's own settings (cms.db.SQLITE_PRAGMAS), the page cache included.
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
            "cache_size=-16384",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.trace: Callable[[str], object] | None = None

    def shown(self, value: Any) -> str:
        return _iso(str(value))

    def bound(self, at: str | datetime) -> Any:
        return at.isoformat(" ") if isinstance(at, datetime) else at.replace("T", " ", 1)

    def in_list(self, name: str, values: Sequence[int], params: dict[str, Any]) -> str:
        params |= {f"{name}{n}": value for n, value in enumerate(values)}
        return "IN (" + ", ".join(f":{name}{n}" for n in range(len(values))) + ")"

    async def search(self, words: Sequence[str], params: dict[str, Any]) -> Sequence[Row]:
        # FTS5 over content_search, each word a quoted string: the 300 newest public
        # matches, then the words found in the title (10), dek (4) and names (2) of each,
        # one column-filtered match a (column, word) over the window's rowid range.
        match = " ".join(f'"{word}"' for word in words)
        window = await self.fetch(
            "SELECT c.id, c.published_at FROM content_fts JOIN content c"
            " ON c.id = content_fts.rowid WHERE content_fts MATCH :match"
            " AND c.status = 'published' AND c.published_at <= :bound"
            " AND (c.expires_at IS NULL OR c.expires_at > :now)"
            f" ORDER BY content_fts.rowid DESC LIMIT {SEARCH_DEPTH}",
            {"match": match, "bound": params["bound"], "now": params["now"]},
        )
        if not window:
            return []
        ids = [row["id"] for row in window]
        scores = dict.fromkeys(ids, 0)
        found: Json = {"low": min(ids), "high": max(ids)}
        parts = []
        every = f" AND {match}" if len(words) > 1 else ""
        for column, weight in (("title", 10), ("dek", 4), ("names", 2)):
            for n, word in enumerate(words):
                found[f"{column}{n}"] = f'{{{column}}} : "{word}"{every}'
                parts.append(
                    f"SELECT {weight} AS weight, rowid AS id FROM content_fts"
                    f" WHERE content_fts MATCH :{column}{n} AND rowid BETWEEN :low AND :high"
                )
        for weight, pk in await self.fetch(" UNION ALL ".join(parts), found):
            if pk in scores:
                scores[pk] += weight
        window = sorted(window, key=lambda row: (row["published_at"], row["id"]), reverse=True)
        best = sorted(window, key=lambda row: -scores[row["id"]])[: params["limit"]]
        ranked = " UNION ALL ".join(
            f"SELECT :w{n} AS wid, :s{n} AS score" for n in range(len(best))
        )
        for n, row in enumerate(best):
            params |= {f"w{n}": row["id"], f"s{n}": -scores[row["id"]]}
        return await self.fetch(_SEARCH.format(ranked=ranked), params)

    async def fetch(self, sql: str, params: Mapping[str, Any]) -> Sequence[Row]:
        if self.trace is not None:
            self.trace(sql)
        rows: list[Row] = self.db.execute(sql, params).fetchall()
        return rows


_MARKER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class PostgresDatabase:
    """asyncpg: a pool of at most 5 connections (Tortoise's default), timestamps as
    datetimes, `:name` markers rewritten to `$n` once per statement."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None
        self.lock = asyncio.Lock()
        self.statements: dict[str, tuple[str, list[str]]] = {}
        self.trace: Callable[[str], object] | None = None

    def shown(self, value: Any) -> str:
        return str(value.astimezone(UTC).isoformat())

    def bound(self, at: str | datetime) -> Any:
        return at if isinstance(at, datetime) else datetime.fromisoformat(at)

    def in_list(self, name: str, values: Sequence[int], params: dict[str, Any]) -> str:
        params[name] = list(values)
        return f"= ANY(:{name})"

    async def search(self, words: Sequence[str], params: dict[str, Any]) -> Sequence[Row]:
        # The weighted tsvector of content_search, English items' configuration: the 300
        # newest public matches ranked by ts_rank_cd.
        params |= {f"word{n}": word for n, word in enumerate(words)}
        query = " && ".join(
            f"plainto_tsquery('english'::regconfig, :word{n})" for n in range(len(words))
        )
        ranked = (
            f"SELECT wid, rank AS score FROM (SELECT c.id AS wid,"
            f" -ts_rank_cd(sv.vector, ({query})) AS rank"
            f" FROM content_search sv JOIN content c ON c.id = sv.content_id"
            f" WHERE sv.vector @@ ({query})"
            f" AND c.status = 'published' AND c.published_at <= :bound"
            f" AND (c.expires_at IS NULL OR c.expires_at > :now)"
            f" ORDER BY c.id DESC LIMIT {SEARCH_DEPTH}) AS window_rows"
        )
        return await self.fetch(_SEARCH.format(ranked=ranked), params)

    def _positional(self, sql: str) -> tuple[str, list[str]]:
        known = self.statements.get(sql)
        if known is None:
            names: list[str] = []

            def number(match: re.Match[str]) -> str:
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            # SQLite's unary + (keep this column's index out of the plan) is not PostgreSQL's.
            text = _MARKER.sub(number, sql).replace("+c.", "c.")
            known = self.statements[sql] = (text, names)
        return known

    async def fetch(self, sql: str, params: Mapping[str, Any]) -> Sequence[Row]:
        import asyncpg

        if self.pool is None:
            async with self.lock:
                if self.pool is None:
                    self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=5)
        if self.trace is not None:
            self.trace(sql)
        text, names = self._positional(sql)
        async with self.pool.acquire() as connection:
            rows: Sequence[Row] = await connection.fetch(text, *(params[n] for n in names))
        return rows


def connect(database_url: str) -> Database:
    """The baseline's database for a Tortoise URL (sqlite://... or postgres://...)."""
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return PostgresDatabase("postgresql://" + database_url.split("://", 1)[1])
    return SqliteDatabase(expand_db_url(database_url)["credentials"]["file_path"])


class Baseline:
    """The benchmark's operations over one database, returning encoded JSON."""

    def __init__(self, settings: Settings) -> None:
        self.database = connect(settings.database_url)
        self.site_url = settings.website_url
        self.paths = {
            "article": settings.article_path,
            "video_episode": settings.video_episode_path,
        }
        self.media_url = f"{settings.public_url}/media/"

    def _media(self, key: str | None) -> str | None:
        return None if key is None else self.media_url + quote(key)

    async def _relations(
        self, ids: list[int]
    ) -> tuple[dict[int, list[Json]], dict[int, list[Json]]]:
        params: dict[str, Any] = {}
        marks = self.database.in_list("ids", ids, params)
        authors: dict[int, list[Json]] = defaultdict(list)
        for content_id, name, slug, kind, avatar in await self.database.fetch(
            _BYLINES.format(ids=marks), params
        ):
            avatar_json = {"url": self._media(avatar)} if avatar is not None else None
            authors[content_id].append(
                {"name": name, "slug": slug, "kind": kind.upper(), "avatar": avatar_json}
            )
        tags: dict[int, list[Json]] = defaultdict(list)
        for content_id, name, slug in await self.database.fetch(_TAGS.format(ids=marks), params):
            tags[content_id].append({"name": name, "slug": slug})
        return authors, tags

    def _node(
        self,
        row: Row,
        authors: list[Json],
        tags: list[Json],
        *,
        article: bool = False,
        status: str | None = None,
    ) -> Json:
        """The fields the Feed document (or with `article`, the Article document; with
        `status`, the Contents document) selects, in the order they select them."""
        kind, slug = row["kind"], row["slug"]
        type_name = _TYPE_NAMES[kind]
        published_at = row["published_at"]
        node: Json = {
            "__typename": type_name,
            "id": _global_id(type_name, row["id"]),
            "title": row["title"],
            "slug": slug,
            "dek": row["dek"],
        }
        if status is not None:
            node["status"] = status
        node["publishedAt"] = None if published_at is None else self.database.shown(published_at)
        node["url"] = self.site_url + self.paths[kind].format(slug=quote(slug))
        if article:
            node["body"] = to_html(row["body"] or "")
            node["readingTimeMinutes"] = row["reading_time_minutes"]
        node["section"] = (
            {"name": row["section_name"], "slug": row["section_slug"]}
            if row["section_name"] is not None
            else None
        )
        node["authors"], node["tags"] = authors, tags
        node["heroImage"] = None
        if row["hero_key"] is not None:
            node["heroImage"] = {
                "url": self._media(row["hero_key"]),
                "width": row["hero_width"],
                "height": row["hero_height"],
                "altText": row["hero_alt"],
            }
        if kind == "video_episode":
            node["videoUrl"] = row["video_url"] or ""
            node["durationSeconds"] = row["duration_seconds"]
            node["show"] = row["show"]
        elif not article:
            node["readingTimeMinutes"] = row["reading_time_minutes"]
        return node

    async def _connection(
        self,
        rows: Sequence[Row],
        first: int,
        *,
        time_field: str,
        now: datetime | None = None,
        ranked: bool = False,
    ) -> Json:
        """The edges and pageInfo of a page fetched with one row more than it shows; with
        `now`, each node shows its status as editors see it."""
        has_next, rows = len(rows) > first, rows[:first]
        ids = [row["id"] for row in rows]
        authors, tags = await self._relations(ids) if rows else ({}, {})
        edges = []
        for row in rows:
            status = None if now is None else self._status(row, now)
            node = self._node(
                row, authors.get(row["id"], []), tags.get(row["id"], []), status=status
            )
            at = self.database.shown(row[time_field])
            score = float(row["score"]) if ranked else None
            edges.append({"cursor": _cursor(at, row["id"], score), "node": node})
        page_info = {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None}
        return {"edges": edges, "pageInfo": page_info}

    def _status(self, row: Row, now: datetime) -> str:
        """The status editors see: a published item whose time has not come is SCHEDULED,
        one past its expiry EXPIRED."""
        status, published_at, expires_at = (
            str(row["status"]),
            row["published_at"],
            row["expires_at"],
        )
        if status == "published":
            moment = self.database.bound(now)
            if published_at is not None:
                if self.database.bound(self.database.shown(published_at)) > moment:
                    return "SCHEDULED"
            if expires_at is not None:
                if self.database.bound(self.database.shown(expires_at)) <= moment:
                    return "EXPIRED"
        return status.upper()

    async def _page(self, first: int, after: str | None, author: int | None = None) -> Json:
        """Public items, newest first: the feed, or an author's."""
        now = datetime.now(UTC)
        params: Json = {"bound": self.database.bound(now), "limit": first + 1}
        params["now"] = params["bound"]
        if after is not None:
            at, pk = _decode_cursor(after)
            cursor_at = self.database.bound(at)
            params |= {"bound": min(params["bound"], cursor_at), "at": cursor_at, "id": pk}
        if author is not None:
            params["author"] = author
        sql = _PAGE.format(
            after=_AFTER if after is not None else "",
            author=_BY_AUTHOR if author is not None else "",
        )
        rows = await self.database.fetch(sql, params) if first else []
        return await self._connection(rows, first, time_field="published_at")

    async def page(self, field: str, first: int, after: str | None) -> bytes:
        """A connection of public items, newest first: the feed."""
        connection = await self._page(first, after)
        return _answer(field, connection, cost=_ITEM_COST * first)

    async def search(self, words: list[str], first: int) -> bytes:
        """The first page of a search for `words`: public items, best match first."""
        now = self.database.bound(datetime.now(UTC))
        params: Json = {"bound": now, "now": now, "limit": first + 1}
        rows = await self.database.search(words, params) if first else []
        connection = await self._connection(rows, first, time_field="published_at", ranked=True)
        return _answer("search", connection, cost=_ITEM_COST * first)

    async def contents(self, first: int, after: str | None) -> bytes:
        """The editors' list: every item whatever its status, most recently updated first."""
        params: Json = {"limit": first + 1}
        if after is not None:
            at, pk = _decode_cursor(after)
            params |= {"at": self.database.bound(at), "id": pk}
        sql = _CONTENTS.format(after=_CONTENTS_AFTER if after is not None else "")
        rows = await self.database.fetch(sql, params) if first else []
        now = datetime.now(UTC)
        connection = await self._connection(rows, first, time_field="updated_at", now=now)
        return _answer("contents", connection, cost=_ITEM_COST * first)

    async def author(self, slug: str, first: int) -> bytes:
        cost = 2 + _ITEM_COST * first  # the author and its avatar, and the page
        rows = await self.database.fetch(_AUTHOR, {"slug": slug})
        if not rows:
            return _answer("author", None, cost=cost)
        row = rows[0]
        avatar = row["avatar_key"]
        author: Json = {
            "__typename": "Author",
            "id": _global_id("Author", row["id"]),
            "name": row["name"],
            "slug": row["slug"],
            "kind": row["kind"].upper(),
            "bio": row["bio"],
            "avatar": None if avatar is None else {"url": self._media(avatar)},
            "content": await self._page(first, None, author=row["id"]),
        }
        return _answer("author", author, cost=cost)

    async def node(self, global_id: str) -> bytes:
        """A public content item by its global ID (other types answer null here)."""
        raw = base64.b64decode(global_id).decode()
        type_name, _, pk = raw.partition(":")
        kind = _KINDS.get(type_name)
        if kind is None:
            return _answer("node", None, cost=_ITEM_COST)
        bound = self.database.bound(datetime.now(UTC))
        params = {"id": int(pk), "kind": kind, "bound": bound, "now": bound}
        rows = await self.database.fetch(_NODE, params)
        if not rows:
            return _answer("node", None, cost=_ITEM_COST)
        row = rows[0]
        authors, tags = await self._relations([row["id"]])
        node = self._node(row, authors.get(row["id"], []), tags.get(row["id"], []))
        return _answer("node", node, cost=_ITEM_COST)

    async def article(self, slug: str) -> bytes:
        bound = self.database.bound(datetime.now(UTC))
        rows = await self.database.fetch(_ARTICLE, {"slug": slug, "bound": bound, "now": bound})
        if not rows:
            return _answer("article", None, cost=_ITEM_COST)
        row = next((row for row in rows if row["locale"] == "en"), rows[0])
        authors, tags = await self._relations([row["id"]])
        node = self._node(row, authors.get(row["id"], []), tags.get(row["id"], []), article=True)
        return _answer("article", node, cost=_ITEM_COST)

    async def answer(self, payload: Json) -> bytes:
        variables = payload.get("variables") or {}
        operation = payload.get("operationName")
        if operation == "Article":
            return await self.article(variables["slug"])
        if operation == "Node":
            return await self.node(variables["id"])
        first, after = int(variables.get("first", 20)), variables.get("after")
        if operation == "Author":
            return await self.author(variables["slug"], first)
        if operation == "Contents":
            return await self.contents(first, after)
        if operation == "Search":
            return await self.search(list(dict.fromkeys(variables["query"].split())), first)
        return await self.page("feed", first, after)


def _answer(field: str, value: Any, *, cost: int) -> bytes:
    return orjson.dumps({"data": {field: value}, "extensions": {"cost": cost}})


def create_app(settings: Settings) -> Starlette:
    baseline = Baseline(settings)
    cache: dict[str, bytes] = {}

    async def graphql(request: Request) -> Response:
        if request.method == "GET":
            key = request.url.query
            body = cache.get(key)
            if body is None:
                params = request.query_params
                payload = {
                    "operationName": params.get("operationName"),
                    "variables": orjson.loads(params.get("variables") or "{}"),
                }
                body = cache[key] = await baseline.answer(payload)
        else:
            body = await baseline.answer(orjson.loads(await request.body()))
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:
        await baseline.database.fetch("SELECT 1", {})
        return Response(orjson.dumps({"status": "ok"}), media_type="application/json")

    routes = [Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz)]
    app = Starlette(routes=routes)
    app.state.baseline = baseline
    return app


def app_from_environment() -> Starlette:
    return create_app(get_settings())


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the baseline like `cms serve` does.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(  # the same call as `cms serve`
        "bench.baseline:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_level="info",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
