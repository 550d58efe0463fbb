"""Across workers: with CMS_REDIS_URL, a subscriber connected to one app instance hears a
publish made through another (real Redis, needs CMS_TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from cms.auth import tokens
from cms.config import Settings
from cms.events.broker import FeedMessage, RedisBroker
from tests import factories
from tests.api.conftest import global_id
from tests.realtime import next_event, post, serve, subscribe

pytestmark = pytest.mark.redis

PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename } }"
MESSAGE = FeedMessage(
    type="CONTENT_PUBLISHED", content_id=7, at="2026-01-01T00:00:00+00:00",
    kind="article", section="war", public=True,
)  # fmt: skip


async def test_a_message_published_by_one_broker_reaches_the_subscribers_of_another(
    redis_url: str,
) -> None:
    first, second = RedisBroker(redis_url), RedisBroker(redis_url)
    await first.start()
    await second.start()
    try:
        async with second.subscribe() as messages:
            await first.publish(MESSAGE)
            received = await asyncio.wait_for(anext(messages), 3)
    finally:
        await first.close()
        await second.close()

    assert received == MESSAGE


async def test_newsrooms_on_two_redis_databases_do_not_hear_each_other(
    redis_url: str,
) -> None:
    parts = urlsplit(redis_url)
    other_index = (int(parts.path.strip("/") or 0) + 1) % 16
    other_url = urlunsplit(parts._replace(path=f"/{other_index}"))
    ours, theirs = RedisBroker(redis_url), RedisBroker(other_url)
    await ours.start()
    await theirs.start()
    try:
        async with theirs.subscribe() as messages:
            await ours.publish(MESSAGE)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(messages), 0.5)
    finally:
        await ours.close()
        await theirs.close()


async def test_two_app_instances_share_feed_events(
    settings: Settings, db: None, redis_url: str
) -> None:
    _, editor = await tokens.create(name="redis-editor", role="editor")
    shared = settings.model_copy(update={"redis_url": redis_url})
    draft = await factories.make_article(title="Heard everywhere")
    # Worker A only holds the subscriber; worker B takes the write and dispatches it.
    async with (
        serve(shared) as worker_a,
        serve(shared.model_copy(update={"run_dispatcher": True})) as worker_b,
    ):
        async with subscribe(worker_a) as ws:
            await post(worker_b, PUBLISH, editor, id=global_id("Article", draft.id))
            event = await next_event(ws)

    assert event["type"] == "CONTENT_PUBLISHED"
    assert event["content"]["title"] == "Heard everywhere"
