"""The baseline: a minimal raw endpoint over the same database file.

Hand-written batched SQL on the stdlib sqlite3 module (the page with its section and hero
image joined in, then one query for bylines with avatars and one for tags) and orjson,
answering the benchmark's GraphQL operations (`Feed`, `Search`, `Article`) with the same JSON
as Newsdesk. POST answers afresh every time; GET is the cached variant (an in-process
dict of encoded responses keyed by the query string). Served by uvicorn exactly like
`cms serve`:

    python -m bench.baseline --port P     (reads CMS_DATABASE_URL, CMS_PUBLIC_URL, ...)
"""

from __future__ import annotations

import argparse
import base64
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
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

Json = dict[str, Any]

_ITEM = """
SELECT c.id, c.kind, c.title, c.slug, c.dek, c.published_at, c.reading_time_minutes,
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
    + """WHERE c.status = 'published' AND c.published_at <= :bound {after} {words}
ORDER BY c.published_at DESC, c.id DESC
LIMIT :limit
"""
)
_AFTER = "AND (c.published_at < :at OR c.id < :id)"
# A search: every word in the title, dek, body or description (LIKE ignores ASCII case).
_WORD = (
    "AND (c.title LIKE :{word} ESCAPE '\\' OR c.dek LIKE :{word} ESCAPE '\\' "
    "OR c.body LIKE :{word} ESCAPE '\\' OR c.description LIKE :{word} ESCAPE '\\')"
)
# The unary + keeps SQLite from driving this lookup with the feed index (status,
# published_at): without it, SQLite scans every public row to find one slug.
_ARTICLE = (
    _ITEM.format(body="c.body")
    + """WHERE c.kind = 'article' AND c.slug = ? AND +c.status = 'published'
  AND +c.published_at <= ?
ORDER BY c.id
LIMIT 20
"""
)
_BYLINES = """
SELECT ca.content_id, a.name, a.slug, a.kind, m.key
FROM content_author ca
JOIN author a ON a.id = ca.author_id
LEFT JOIN media m ON m.id = a.avatar_id
WHERE ca.content_id IN ({ids})
ORDER BY ca.content_id, ca.position, ca.id
"""
_TAGS = """
SELECT ct.content_id, t.name, t.slug
FROM content_tag ct JOIN tag t ON t.id = ct.tag_id
WHERE ct.content_id IN ({ids})
ORDER BY ct.content_id, t.name
"""
_TYPE_NAMES = {"article": "Article", "video_episode": "VideoEpisode"}


def _iso(stored: str) -> str:
    """Stored datetime text ('2026-01-01 10:00:00+00:00') as GraphQL's DateTime shows it."""
    return stored.replace(" ", "T", 1)


def _global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def cursor(published_at: str, pk: int) -> str:
    raw = f"{_iso(published_at)}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    at, _, pk = raw.partition("|")
    return at.replace("T", " ", 1), int(pk)


class Baseline:
    """The two operations over one sqlite3 connection, returning encoded JSON."""

    def __init__(self, settings: Settings) -> None:
        path = expand_db_url(settings.database_url)["credentials"]["file_path"]
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.site_url = settings.website_url
        self.paths = {
            "article": settings.article_path,
            "video_episode": settings.video_episode_path,
        }
        self.media_url = f"{settings.public_url}/media/"

    def _media(self, key: str | None) -> str | None:
        return None if key is None else self.media_url + quote(key)

    def _relations(self, ids: list[int]) -> tuple[dict[int, list[Json]], dict[int, list[Json]]]:
        marks = ",".join("?" * len(ids))
        authors: dict[int, list[Json]] = defaultdict(list)
        for content_id, name, slug, kind, avatar in self.db.execute(
            _BYLINES.format(ids=marks), ids
        ):
            avatar_json = {"url": self._media(avatar)} if avatar is not None else None
            authors[content_id].append(
                {"name": name, "slug": slug, "kind": kind.upper(), "avatar": avatar_json}
            )
        tags: dict[int, list[Json]] = defaultdict(list)
        for content_id, name, slug in self.db.execute(_TAGS.format(ids=marks), ids):
            tags[content_id].append({"name": name, "slug": slug})
        return authors, tags

    def _node(
        self, row: sqlite3.Row, authors: list[Json], tags: list[Json], *, article: bool = False
    ) -> Json:
        """The fields the Feed document (or with `article`, the Article document) selects,
        in the order they select them."""
        kind, slug = row["kind"], row["slug"]
        type_name = _TYPE_NAMES[kind]
        node: Json = {
            "__typename": type_name,
            "id": _global_id(type_name, row["id"]),
            "title": row["title"],
            "slug": slug,
            "dek": row["dek"],
            "publishedAt": _iso(row["published_at"]),
            "url": self.site_url + self.paths[kind].format(slug=quote(slug)),
        }
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

    def page(self, field: str, first: int, after: str | None, words: list[str]) -> bytes:
        """A connection of public items, newest first: the feed, or a search for `words`."""
        now = datetime.now(UTC).isoformat(" ")
        params: Json = {"bound": now, "limit": first + 1}
        if after is not None:
            at, pk = _decode_cursor(after)
            params |= {"bound": min(now, at), "at": at, "id": pk}
        for n, word in enumerate(words):
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params[f"word{n}"] = f"%{escaped}%"
        sql = _PAGE.format(
            after=_AFTER if after is not None else "",
            words=" ".join(_WORD.format(word=f"word{n}") for n in range(len(words))),
        )
        rows = self.db.execute(sql, params).fetchall() if first else []
        has_next, rows = len(rows) > first, rows[:first]
        authors, tags = self._relations([row["id"] for row in rows]) if rows else ({}, {})
        edges = [
            {
                "cursor": cursor(row["published_at"], row["id"]),
                "node": self._node(row, authors.get(row["id"], []), tags.get(row["id"], [])),
            }
            for row in rows
        ]
        page_info = {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None}
        return orjson.dumps({"data": {field: {"edges": edges, "pageInfo": page_info}}})

    def article(self, slug: str) -> bytes:
        now = datetime.now(UTC).isoformat(" ")
        rows = self.db.execute(_ARTICLE, (slug, now)).fetchall()
        if not rows:
            return orjson.dumps({"data": {"article": None}})
        row = next((row for row in rows if row["locale"] == "en"), rows[0])
        authors, tags = self._relations([row["id"]])
        node = self._node(row, authors.get(row["id"], []), tags.get(row["id"], []), article=True)
        return orjson.dumps({"data": {"article": node}})

    def answer(self, payload: Json) -> bytes:
        variables = payload.get("variables") or {}
        operation = payload.get("operationName")
        if operation == "Article":
            return self.article(variables["slug"])
        first, after = int(variables.get("first", 20)), variables.get("after")
        if operation == "Search":
            words = list(dict.fromkeys(variables["query"].split()))
            return self.page("search", first, after, words)
        return self.page("feed", first, after, [])


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
                body = cache[key] = baseline.answer(payload)
        else:
            body = baseline.answer(orjson.loads(await request.body()))
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:
        baseline.db.execute("SELECT 1").fetchone()
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
