"""What one run sends: the requests of each scenario, chosen from the newsroom's file."""

from __future__ import annotations

import base64
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import baseline, queries
from bench.load import Requests
from cms.content import ids
from cms.content.feed import Cursor

__all__ = ["DEEP_ITEM", "READS", "Plan", "make_plan"]

DEEP_ITEM = 90_000  # the deep page starts after this public item (90% of smaller feeds)
SLUGS = 200
NODES = 200
# The uncached reads measured against the baseline, as POST requests.
READS = ("feed_uncached", "feed_deep", "article", "search", "contents", "author", "node")
# Searches a reader might type: words of titles, places and bodies, one or two at a time.
SEARCHES = (
    "budget", "drone factory", "Kharkiv", "auditors",
    "bridges Odesa", "winter heating", "pensioner", "court reform",
)  # fmt: skip


@dataclass(frozen=True)
class Plan:
    deep_depth: int
    slugs: list[str]
    deep_cursors: dict[str, str]  # each server's own cursor for the same feed position
    author_slugs: list[str]
    node_ids: list[str]  # global IDs of public items, articles and video episodes
    token: str = ""  # an editor's token, for the editors' list (`contents`)

    def requests(self, server: str, scenario: str) -> Requests:
        if scenario == "feed_uncached":
            return _post(queries.feed_body())
        if scenario == "feed_deep":
            return _post(queries.feed_body(after=self.deep_cursors[server]))
        if scenario == "feed_cached":
            return Requests("GET", queries.feed_get_path())
        if scenario == "article":
            return _post(*(queries.article_body(slug) for slug in self.slugs))
        if scenario == "search":
            return _post(*(queries.search_body(words) for words in SEARCHES))
        if scenario == "contents":
            return _post(queries.contents_body(), headers=self._authorization())
        if scenario == "author":
            return _post(*(queries.author_body(slug) for slug in self.author_slugs))
        if scenario == "node":
            return _post(*(queries.node_body(global_id) for global_id in self.node_ids))
        raise ValueError(f"no scenario {scenario!r}")

    def _authorization(self) -> tuple[tuple[str, str], ...]:
        if not self.token:
            raise RuntimeError("the contents scenario needs an editor's token")
        return (("Authorization", f"Bearer {self.token}"),)

    def check_headers(self, name: str) -> dict[str, str]:
        """The headers the check `name` is sent with."""
        return dict(self._authorization()) if name == "contents (token)" else {}

    def checks(self, server: str) -> dict[str, bytes]:
        """One request per kind of answer, to compare Newsdesk's JSON with the baseline's."""
        return {
            "feed": queries.feed_body(),
            "deep page": queries.feed_body(after=self.deep_cursors[server]),
            "article": queries.article_body(self.slugs[0]),
            "search": queries.search_body(SEARCHES[1]),
            "contents (token)": queries.contents_body(),
            "author": queries.author_body(self.author_slugs[0]),
            "node (article)": queries.node_body(self.node_ids[0]),
            "node (video episode)": queries.node_body(
                next((gid for gid in self.node_ids if _is_video(gid)), self.node_ids[-1])
            ),
        }


def _is_video(global_id: str) -> bool:
    return base64.b64decode(global_id).decode().startswith("VideoEpisode:")


def _post(*bodies: bytes, headers: tuple[tuple[str, str], ...] = ()) -> Requests:
    return Requests("POST", "/graphql", tuple(bodies), headers=headers)


def _feed_position(connection: sqlite3.Connection, depth: int) -> tuple[str, int]:
    """(published_at, id) of the public item at `depth` in feed order."""
    row = connection.execute(
        "SELECT published_at, id FROM content WHERE status = 'published' AND "
        "published_at <= ? ORDER BY published_at DESC, id DESC LIMIT 1 OFFSET ?",
        (datetime.now(UTC).isoformat(" "), depth - 1),
    ).fetchone()
    return row[0], row[1]


def _article_slugs(connection: sqlite3.Connection, count: int) -> list[str]:
    """`count` public article slugs spread evenly over the archive."""
    sql = "SELECT slug FROM content WHERE kind = 'article' AND status = 'published' ORDER BY id"
    slugs = [slug for (slug,) in connection.execute(sql)]
    return slugs[:: max(1, len(slugs) // count)][:count]


def _author_slugs(connection: sqlite3.Connection) -> list[str]:
    """Every author's slug (the author scenario rotates over them)."""
    return [slug for (slug,) in connection.execute("SELECT slug FROM author ORDER BY id")]


def _node_ids(connection: sqlite3.Connection, count: int) -> list[str]:
    """Global IDs of `count` public items (both kinds) spread evenly over the archive."""
    sql = "SELECT kind, id FROM content WHERE status = 'published' ORDER BY id"
    rows = connection.execute(sql).fetchall()
    chosen = rows[:: max(1, len(rows) // count)][:count]
    names = {"article": "Article", "video_episode": "VideoEpisode"}
    return [ids.encode(names[kind], pk) for kind, pk in chosen]


def make_plan(database: Path, *, public: int, token: str = "") -> Plan:
    """What to send, read from the newsroom's SQLite file (a PostgreSQL run loads the very
    same rows, so the same slugs, ids and feed positions hold there)."""
    depth = min(DEEP_ITEM, int(public * 0.9))
    with sqlite3.connect(database) as connection:
        at, pk = _feed_position(connection, depth)
        slugs = _article_slugs(connection, SLUGS)
        authors = _author_slugs(connection)
        nodes = _node_ids(connection, NODES)
    cursors = {
        "newsdesk": Cursor(datetime.fromisoformat(at), pk).encode(),
        "baseline": baseline.cursor(at, pk),
    }
    return Plan(
        deep_depth=depth,
        slugs=slugs,
        deep_cursors=cursors,
        author_slugs=authors,
        node_ids=nodes,
        token=token,
    )
