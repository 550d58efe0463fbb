"""What one run sends: the requests of each scenario, chosen from the newsroom's file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import baseline, queries
from bench.load import Requests
from cms.content.feed import Cursor

__all__ = ["DEEP_ITEM", "Plan", "make_plan"]

DEEP_ITEM = 90_000  # the deep page starts after this public item (90% of smaller feeds)
SLUGS = 200
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
        raise ValueError(f"no scenario {scenario!r}")

    def checks(self, server: str) -> dict[str, bytes]:
        """One request per kind of answer, to compare Newsdesk's JSON with the baseline's."""
        return {
            "feed": queries.feed_body(),
            "deep page": queries.feed_body(after=self.deep_cursors[server]),
            "article": queries.article_body(self.slugs[0]),
            "search": queries.search_body(SEARCHES[1]),
        }


def _post(*bodies: bytes) -> Requests:
    return Requests("POST", "/graphql", tuple(bodies))


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


def make_plan(database: Path, *, public: int) -> Plan:
    depth = min(DEEP_ITEM, int(public * 0.9))
    with sqlite3.connect(database) as connection:
        at, pk = _feed_position(connection, depth)
        slugs = _article_slugs(connection, SLUGS)
    cursors = {
        "newsdesk": Cursor(datetime.fromisoformat(at), pk).encode(),
        "baseline": baseline.cursor(at, pk),
    }
    return Plan(deep_depth=depth, slugs=slugs, deep_cursors=cursors)
