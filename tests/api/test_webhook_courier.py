"""The courier sends webhooks beside the dispatcher, to real receivers on 127.0.0.1 that
can stall: a stalled receiver delays neither subscribers nor other receivers, and a
stopping worker finishes the delivery in flight or gives it back at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.dispatch import Dispatcher
from cms.events.broker import InMemoryBroker
from cms.models import DeliveryStatus, WebhookDelivery
from cms.webhooks import addresses, deliveries, service
from tests import factories
from tests.api.conftest import global_id
from tests.realtime import next_event, post, serve, subscribe
from tests.webhook_receiver import HoldingReceiver, holding_receiver

ADMIN = Viewer(name="tests", role=Role.ADMIN)
PUBLISHED = ["CONTENT_PUBLISHED"]
PUBLISH = "mutation($id: ID!) { publish(id: $id) { __typename } }"


@pytest.fixture
def stalled() -> Iterator[HoldingReceiver]:
    with holding_receiver(held=True) as receiver:
        yield receiver


async def _webhook(url: str, settings: Settings) -> None:
    await service.create(viewer=ADMIN, url=url, events=PUBLISHED, settings=settings)


async def test_a_stalled_receiver_does_not_delay_a_subscriber(
    settings: Settings, tokens_by_role: dict[str, str], stalled: HoldingReceiver
) -> None:
    await _webhook(stalled.url, settings)
    first = await factories.make_article(title="First")
    second = await factories.make_article(title="Second")
    editor = tokens_by_role["editor"]

    async with serve(settings.model_copy(update={"run_dispatcher": True})) as address:
        try:
            async with subscribe(address) as ws:
                await post(address, PUBLISH, editor, id=global_id("Article", first.id))
                assert (await next_event(ws))["contentId"] == global_id("Article", first.id)
                await stalled.wait_received(1)  # its delivery is in flight, unanswered

                await post(address, PUBLISH, editor, id=global_id("Article", second.id))
                heard = await next_event(ws, timeout=2.0)  # not after the webhook timeout
                assert heard["contentId"] == global_id("Article", second.id)
                assert stalled.answered == []  # still stalled meanwhile
        finally:
            stalled.release.set()


async def test_a_stalled_receiver_does_not_hold_up_another(
    db: None, settings: Settings, stalled: HoldingReceiver
) -> None:
    # Four at once, one of them per receiver: the stalled one holds one slot, no more.
    four = settings.model_copy(update={"webhook_concurrency": 4})
    with holding_receiver(held=False) as quick:
        await _webhook(stalled.url, four)
        await _webhook(quick.url, four)
        dispatcher = Dispatcher(four, InMemoryBroker(), poll_seconds=0.05)
        await dispatcher.start()
        try:
            for number in range(3):  # one after another, while the first still hangs
                await factories.make_article(title=f"Item {number}", published_at=clock.utcnow())
                await quick.wait_received(number + 1, seconds=3)
            assert len(quick.answered) == 3
            assert len(stalled.received) == 1 and stalled.answered == []
        finally:
            stalled.release.set()
            await dispatcher.stop()


async def test_stop_finishes_the_delivery_in_flight(db: None, settings: Settings) -> None:
    with holding_receiver(held=False, delay=0.5) as slow:
        await _webhook(slow.url, settings)
        dispatcher = Dispatcher(settings, InMemoryBroker(), poll_seconds=0.05)
        await dispatcher.start()
        await factories.make_article(title="Late edition", published_at=clock.utcnow())
        await slow.wait_received(1)

        await dispatcher.stop()

        [delivery] = await WebhookDelivery.all()
        assert slow.answered == [delivery.message_id]
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
        assert delivery.claimed_by is None


async def test_stop_gives_back_a_delivery_it_had_to_cut_off(
    db: None, settings: Settings, stalled: HoldingReceiver
) -> None:
    await _webhook(stalled.url, settings)
    dispatcher = Dispatcher(settings, InMemoryBroker(), poll_seconds=0.05)
    await dispatcher.start()
    await factories.make_article(title="Cut off", published_at=clock.utcnow())
    await stalled.wait_received(1)

    await dispatcher.stop(timeout=0.3)

    [delivery] = await WebhookDelivery.all()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert (delivery.claimed_by, delivery.claimed_until) == (None, None)
    # Another worker sends it at once (the claim would have lasted 50 s).
    stalled.release.set()
    async with addresses.http_client(settings) as http:
        assert await deliveries.deliver_due(client=http, settings=settings) == 1
    await delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


async def test_deliveries_to_one_receiver_reuse_its_connection(
    db: None, settings: Settings
) -> None:
    with holding_receiver(held=False) as receiver:
        await _webhook(receiver.url, settings)
        for number in range(3):
            await factories.make_article(title=f"Item {number}", published_at=clock.utcnow())
        await Dispatcher(settings, InMemoryBroker()).dispatch_outbox()
        async with addresses.http_client(settings) as http:
            for _ in range(3):  # one at a time: each finds the last one's connection free
                assert await deliveries.deliver_due(client=http, settings=settings, limit=1) == 1

    assert len(receiver.answered) == 3
    assert len(set(receiver.peers)) == 1  # one connection, kept open between deliveries
