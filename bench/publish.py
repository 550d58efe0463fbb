"""The publish mutation's latency: drafts made through the API with an editor token, then
each published once by a sequential `publish` mutation over HTTP, timed one by one."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench import queries

__all__ = ["PublishResult", "measure_publish"]


@dataclass(frozen=True)
class PublishResult:
    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float


def _mutation(client: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(f"mutation failed: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def _result(data: dict[str, Any], field: str, expected: str) -> dict[str, Any]:
    result: dict[str, Any] = data[field]
    if result["__typename"] != expected:
        raise RuntimeError(f"{field} answered {result}")
    return result


def measure_publish(url: str, token: str, *, count: int, warmup: int = 5) -> PublishResult:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30, trust_env=False) as client:
        ids = []
        for number in range(count + warmup):
            article = {
                "title": f"Bench draft {number}",
                "slug": f"bench-draft-{time.time_ns()}-{number}",
                "dek": "A draft made by make bench.",
                "body": "Made by `make bench` to time the publish mutation.",
                "sectionSlug": "politics",
                "authorSlugs": ["news-desk-1"],
                "tagSlugs": ["elections"],
            }
            data = _mutation(client, queries.CREATE_ARTICLE, {"input": article})
            ids.append(_result(data, "createArticle", "Article")["id"])
        timings = []
        for number, content_id in enumerate(ids):
            started = time.perf_counter()
            data = _mutation(client, queries.PUBLISH, {"id": content_id})
            elapsed = time.perf_counter() - started
            _result(data, "publish", "Article")
            if number >= warmup:
                timings.append(elapsed * 1000)
    ordered = sorted(timings)
    return PublishResult(
        count=len(ordered),
        p50_ms=round(statistics.median(ordered), 2),
        p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        mean_ms=round(statistics.fmean(ordered), 2),
    )
