"""The feed is index-driven on both databases: EXPLAIN shows the feed index and no sort."""

from __future__ import annotations

from datetime import timedelta

from tortoise import Tortoise
from tortoise.queryset import QuerySet

from cms import clock
from cms.cache import changes
from cms.config import Settings
from cms.content import feed, lookups
from cms.models import Content
from tests import factories

FEED_INDEX = "content_feed_idx"


async def _plan(settings_is_sqlite: bool, sql: str) -> str:
    conn = Tortoise.get_connection("default")
    if settings_is_sqlite:
        rows = await conn.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row["detail"]) for row in rows)
    # Tiny test tables make a sequential scan cheapest; forbid it to see whether the
    # index can drive the query at all (order included: no Sort node).
    async with conn._in_transaction() as transaction:  # noqa: SLF001 - SET LOCAL needs one
        await transaction.execute_script("SET LOCAL enable_seqscan = off")
        rows = await transaction.execute_query_dict(f"EXPLAIN {sql}")
    return "\n".join(str(row["QUERY PLAN"]) for row in rows)


def _sql(query: QuerySet[Content]) -> str:
    """The SQL a 20-item feed page runs for its items (section and hero image joined)."""
    page = feed.page_query(query, limit=21, time_field="published_at")
    return lookups.content_query(page, lookups.EVERYTHING).sql(params_inline=True)


async def test_first_and_deep_feed_pages_scan_the_feed_index(db: None, settings: Settings) -> None:
    now = clock.utcnow()
    for minutes in range(3):
        await factories.make_article(
            title=f"Item {minutes}", published_at=now - timedelta(minutes=minutes)
        )
    deep = feed.Cursor(now - timedelta(minutes=1), 2)
    for query in (feed.public_query(now=now), feed.public_query(now=now, after=deep)):
        plan = await _plan(settings.is_sqlite, _sql(query))
        assert FEED_INDEX in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


async def test_the_cache_finds_items_coming_due_by_their_announcement_index(
    db: None, settings: Settings
) -> None:
    """Looked up on every write: by time alone, so that the announce_at index answers
    rather than a walk of the feed index over every public item."""
    now = clock.utcnow()
    await factories.make_article(title="Later", published_at=now + timedelta(minutes=5))
    sql = changes.due_query(now - timedelta(minutes=1), now).sql(params_inline=True)

    plan = await _plan(settings.is_sqlite, sql)

    assert "content_announce_idx" in plan and FEED_INDEX not in plan, plan
