"""The benchmark's baseline (bench/baseline.py) answers its operations with the very JSON
Newsdesk answers, on SQLite and on PostgreSQL: `make bench` checks it on the generated
newsroom; this checks it on a small one with drafts, a scheduled item, an expired one and
a video."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from bench import queries
from bench.baseline import Baseline
from cms.config import Settings
from cms.content import ids
from cms.models import AuthorKind, Content
from tests import factories


async def _newsdesk(client: httpx.AsyncClient, body: bytes, token: str | None) -> Any:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "errors" not in answer, answer
    return answer


async def test_the_baseline_answers_like_newsdesk(
    client: httpx.AsyncClient, settings: Settings, tokens_by_role: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    section = await factories.make_section(slug="city", name="City")
    person = await factories.make_author(slug="iryna", name="Iryna", avatar=True, bio="Writes.")
    desk = await factories.make_author(slug="desk", name="Desk", kind=AuthorKind.DESK)
    made = []
    for number in range(5):
        made.append(
            await factories.make_article(
                title=f"Story {number}",
                section=section if number % 2 else None,
                authors=[person, desk] if number % 2 else [desk],
                tags=["budget", "city-hall"][: number % 3],
                hero_image=number % 2 == 0,
                published_at=now - timedelta(hours=number + 1),
            )
        )
    video = await factories.make_video_episode(
        title="Weekly", authors=[person], published_at=now - timedelta(minutes=30)
    )
    await factories.make_article(title="A draft", authors=[person])
    await factories.make_article(
        title="Tomorrow's", authors=[person], published_at=now + timedelta(days=1)
    )
    # Expired a minute ago: public by status and time, hidden by the expiry alone.
    expired = await factories.make_article(
        title="Story expired",
        authors=[person, desk],
        tags=["budget"],
        published_at=now - timedelta(minutes=10),
    )
    await Content.filter(id=expired.id).update(expires_at=now - timedelta(minutes=1))
    bodies = {
        "feed": queries.feed_body(),
        "contents": queries.contents_body(),
        "author": queries.author_body("iryna"),
        "author (desk)": queries.author_body("desk", first=2),
        "node (article)": queries.node_body(ids.encode("Article", made[1].id)),
        "node (video episode)": queries.node_body(ids.encode("VideoEpisode", video.id)),
        "node (missing)": queries.node_body(ids.encode("Article", 9_999)),
        "node (expired)": queries.node_body(ids.encode("Article", expired.id)),
        "article": queries.article_body(made[0].slug),
        "article (expired)": queries.article_body(expired.slug),
        "search": queries.search_body("Story"),
        # Ranked: the tag's name counts for three of the stories, a byline's for two.
        "search (tags)": queries.search_body("budget"),
        "search (title and byline)": queries.search_body("Story Iryna"),
    }
    baseline = Baseline(settings)
    try:
        for name, body in bodies.items():
            token = tokens_by_role["editor"] if name == "contents" else None
            expected = await _newsdesk(client, body, token)
            answered = orjson.loads(await baseline.answer(orjson.loads(body)))
            assert answered == expected, name
        contents = orjson.loads(await baseline.answer(orjson.loads(bodies["contents"])))
        shown = {edge["node"]["status"] for edge in contents["data"]["contents"]["edges"]}
        assert shown == {"PUBLISHED", "DRAFT", "SCHEDULED", "EXPIRED"}
    finally:
        pool = getattr(baseline.database, "pool", None)
        if pool is not None:
            await pool.close()
