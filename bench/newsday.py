"""The newsroom-day workload: what readers ask of a newsroom's API on an ordinary day.

Anonymous GET reads (so the response cache, on with its default settings, may answer
them): the front page, section fronts, 2,000 hot articles (the newest) picked by a Zipf
distribution, so a few stories take most of the traffic, and a few searches. The mix is
drawn once from a seeded generator into a fixed rotation of URLs, so every run sends the
same requests. It is measured twice: without writes, then while an editor (a token with
role editor) saves or publishes one item every 2 seconds through the GraphQL API. The
cache hit rate comes from the server's /metrics when it counts hits and misses.
"""

from __future__ import annotations

import itertools
import random
import re
import sqlite3
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from bench import queries
from cms.content import ids

__all__ = [
    "HOT_ARTICLES",
    "MIX",
    "CacheCounts",
    "DayPlan",
    "Editor",
    "WriteResult",
    "cache_counts",
    "day_paths",
    "hit_rate",
    "make_day_plan",
    "one_of_each",
    "read_cache_counts",
    "zipf_choices",
]

HOT_ARTICLES = 2_000
ZIPF_EXPONENT = 1.0
ROTATION = 20_000  # URLs in the rotation the load generator cycles through
SEED = 11
WRITE_EVERY_SECONDS = 2.0
# Share of the reads of each kind.
MIX = (("front page", 0.30), ("section front", 0.20), ("article", 0.45), ("search", 0.05))
DAY_SEARCHES = ("budget", "winter heating", "court reform", "Kharkiv")
CACHE_COUNTER = "newsdesk_response_cache_total"  # labelled result="hit" or result="miss"


def zipf_choices(
    count: int, draws: int, *, seed: int, exponent: float = ZIPF_EXPONENT
) -> list[int]:
    """`draws` ranks in 0..count-1, rank r drawn with weight 1/(r+1)^exponent: rank 0 (the
    hottest) most often. The same seed gives the same ranks."""
    if count <= 0:
        raise ValueError("zipf_choices needs at least one item to choose from")
    weights = [1 / (rank + 1) ** exponent for rank in range(count)]
    cumulative = list(itertools.accumulate(weights))
    return random.Random(seed).choices(range(count), cum_weights=cumulative, k=draws)


def day_paths(
    *,
    sections: Sequence[str],
    hot_slugs: Sequence[str],
    searches: Sequence[str] = DAY_SEARCHES,
    count: int = ROTATION,
    seed: int = SEED,
) -> tuple[str, ...]:
    """The rotation of GET URLs: `count` reads drawn by MIX, articles by Zipf rank."""
    rng = random.Random(seed)
    kinds = rng.choices([kind for kind, _ in MIX], weights=[share for _, share in MIX], k=count)
    ranks = iter(zipf_choices(len(hot_slugs), count, seed=seed + 1))
    front = queries.feed_get_path()
    paths = []
    for kind in kinds:
        if kind == "front page":
            paths.append(front)
        elif kind == "section front":
            paths.append(queries.section_feed_get_path(rng.choice(sections)))
        elif kind == "article":
            paths.append(queries.article_get_path(hot_slugs[next(ranks)]))
        else:
            paths.append(queries.search_get_path(rng.choice(searches)))
    return tuple(paths)


def one_of_each(paths: Sequence[str]) -> list[str]:
    """The first URL of each operation in `paths` (to check each answers without errors)."""
    first: dict[str, str] = {}
    for path in paths:
        operation = parse_qs(urlsplit(path).query).get("operationName", [""])[0]
        first.setdefault(operation, path)
    return list(first.values())


@dataclass(frozen=True)
class DayPlan:
    paths: tuple[str, ...]
    hot_ids: list[str]  # global IDs of the hot articles, hottest first
    draft_ids: list[str]  # global IDs of drafts the editor may publish


def make_day_plan(database: Path) -> DayPlan:
    """The day's URLs and the items the editor touches, read from the newsroom's file."""
    with sqlite3.connect(database) as connection:
        sections = [slug for (slug,) in connection.execute("SELECT slug FROM section ORDER BY id")]
        hot = connection.execute(
            "SELECT id, slug FROM content WHERE kind = 'article' AND status = 'published' "
            "ORDER BY published_at DESC, id DESC LIMIT ?",
            (HOT_ARTICLES,),
        ).fetchall()
        drafts = connection.execute(
            "SELECT kind, id FROM content WHERE status = 'draft' ORDER BY id DESC LIMIT 500"
        ).fetchall()
    return DayPlan(
        paths=day_paths(sections=sections, hot_slugs=[slug for _, slug in hot]),
        hot_ids=[ids.encode("Article", pk) for pk, _ in hot],
        draft_ids=[ids.content_id(kind, pk) for kind, pk in drafts],
    )


@dataclass
class WriteResult:
    count: int = 0
    errors: int = 0
    timings_ms: list[float] = field(default_factory=list)

    def merge(self, other: WriteResult) -> None:
        self.count += other.count
        self.errors += other.errors
        self.timings_ms += other.timings_ms

    def summary(self) -> dict[str, float | int]:
        ordered = sorted(self.timings_ms)
        return {
            "count": self.count,
            "errors": self.errors,
            "every_seconds": WRITE_EVERY_SECONDS,
            "p50_ms": round(statistics.median(ordered), 2) if ordered else 0.0,
            "max_ms": round(ordered[-1], 2) if ordered else 0.0,
        }


class Editor(threading.Thread):
    """An editor at work: every WRITE_EVERY_SECONDS, in turn, saves a hot article (a new
    dek, through updateArticle) or publishes a draft (publish), until stopped."""

    def __init__(self, url: str, token: str, plan: DayPlan) -> None:
        super().__init__(name="bench-editor", daemon=True)
        self.url, self.token, self.plan = url, token, plan
        self.result = WriteResult()
        self.stopping = threading.Event()

    def stop(self) -> WriteResult:
        self.stopping.set()
        self.join(timeout=60)
        return self.result

    def _write(self, client: httpx.Client, number: int) -> None:
        if number % 2 == 0 or not self.plan.draft_ids:
            target = self.plan.hot_ids[(number // 2) % min(50, len(self.plan.hot_ids))]
            variables: dict[str, object] = {
                "id": target,
                "input": {"dek": f"Updated by the newsroom-day editor, save {number}."},
            }
            query, field_name = queries.UPDATE_ARTICLE, "updateArticle"
        else:
            target = self.plan.draft_ids[(number // 2) % len(self.plan.draft_ids)]
            variables, query, field_name = {"id": target}, queries.PUBLISH, "publish"
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query, "variables": variables})
        elapsed = (time.perf_counter() - started) * 1000
        body = response.json() if response.status_code == 200 else {}
        result = (body.get("data") or {}).get(field_name) or {}
        self.result.count += 1
        self.result.timings_ms.append(elapsed)
        if body.get("errors") or "id" not in result:
            self.result.errors += 1

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(
            base_url=self.url, headers=headers, timeout=30, trust_env=False
        ) as client:
            started = time.monotonic()
            for number in itertools.count():
                wait = started + number * WRITE_EVERY_SECONDS - time.monotonic()
                if self.stopping.wait(max(0.0, wait)):
                    return
                try:
                    self._write(client, number)
                except (httpx.HTTPError, ValueError):
                    self.result.errors += 1


@dataclass(frozen=True)
class CacheCounts:
    hits: float
    misses: float

    def __add__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(self.hits + other.hits, self.misses + other.misses)

    def __sub__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(self.hits - other.hits, self.misses - other.misses)


_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)"
)
_RESULT = re.compile(r'(?:^|,)\s*result="(?P<result>[^"]*)"')


def cache_counts(metrics_text: str) -> CacheCounts | None:
    """The response cache's hits and misses in a /metrics page (its counter's samples
    labelled result="hit" and result="miss", summed over other labels), or None when the
    server does not count them."""
    totals: dict[str, float] = {}
    for line in metrics_text.splitlines():
        match = _SAMPLE.match(line)
        result = _RESULT.search(match["labels"] or "") if match else None
        if match and result and match["name"] == CACHE_COUNTER:
            totals[result["result"]] = totals.get(result["result"], 0.0) + float(match["value"])
    if "hit" not in totals or "miss" not in totals:
        return None
    return CacheCounts(hits=totals["hit"], misses=totals["miss"])


def read_cache_counts(url: str) -> CacheCounts | None:
    response = httpx.get(f"{url}/metrics", timeout=30, trust_env=False)
    response.raise_for_status()
    return cache_counts(response.text)


def hit_rate(before: CacheCounts | None, after: CacheCounts | None) -> float | None:
    """The share of cache lookups between two readings that were hits (None: not counted)."""
    if before is None or after is None:
        return None
    hits, misses = after.hits - before.hits, after.misses - before.misses
    return round(hits / (hits + misses), 4) if hits + misses > 0 else None
