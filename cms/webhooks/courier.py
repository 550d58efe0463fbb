"""The courier: sends webhook deliveries in a task of its own, beside the dispatcher.

The dispatcher records deliveries with their events (`deliveries.enqueue_many`); the
courier sends them, so a receiver that answers slowly, or not at all until the timeout,
never delays the events subscribers and the response cache are waiting for.

Up to CMS_WEBHOOK_CONCURRENCY attempts run at once, each as its own task started as soon
as its delivery is claimed, and a delivery is claimed when a slot is free for it: a quick
receiver's deliveries do not wait for a slow one's. One webhook holds at most a quarter
of the slots (`per_webhook`), so a receiver that stalls takes no more than that; the
others keep the rest. Claims, retries and backoff are `cms.webhooks.deliveries`' (one
sender per delivery across workers, the retry schedule, the outcome of each attempt).

Stopping (`stop`) sends nothing new, lets the attempts in flight finish within a timeout,
cancels those that do not and gives up their claims, so another worker retries them at
once rather than when the claims would run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter

import httpx

from cms.config import Settings
from cms.models import WebhookDelivery
from cms.webhooks import deliveries

__all__ = ["Courier"]

log = logging.getLogger(__name__)
# The most `stop` waits to hand back the claims of deliveries it cut off.
RELEASE_SECONDS = 2.0


class Courier:
    def __init__(
        self, settings: Settings, client: httpx.AsyncClient, *, poll_seconds: float = 0.25
    ) -> None:
        self.settings = settings
        self.client = client
        self.poll_seconds = poll_seconds
        self.concurrency = settings.webhook_concurrency
        self.per_webhook = max(1, math.ceil(self.concurrency / 4))
        # A claim costs three statements: after attempts land, claim again once this many
        # have (or when new deliveries are recorded, nothing is in flight, or a poll
        # interval has passed), rather than once per attempt.
        self.min_claim = max(1, self.per_webhook // 2)
        self._flying: dict[asyncio.Task[None], WebhookDelivery] = {}
        self._landings = 0  # attempts over since the last claim
        self._news = False  # deliveries recorded since the last claim
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        return len(self._flying)

    def wake(self) -> None:
        """New deliveries are due (the dispatcher recorded some): look at once."""
        self._news = True
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="newsdesk-courier")

    async def stop(self, timeout: float) -> None:
        """Claim nothing more; wait up to `timeout` seconds for the attempts in flight,
        then cancel the rest and release their claims."""
        self._stopping = True
        self._wake.set()
        started = time.monotonic()
        if self._task is not None:
            # Its loop ends at the flag; a claim it is sending to a database that hangs
            # is cut off at the deadline rather than holding the worker's exit.
            _, running = await asyncio.wait({self._task}, timeout=timeout)
            for task in running:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            timeout = max(0.0, timeout - (time.monotonic() - started))
        flying = dict(self._flying)
        if not flying:
            return
        _, unfinished = await asyncio.wait(flying, timeout=timeout)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        claims = [flying[task].claimed_by for task in unfinished]
        try:  # bounded like the dispatcher's own release
            await asyncio.wait_for(
                deliveries.release(claims=[claim for claim in claims if claim]), RELEASE_SECONDS
            )
        except Exception:  # the database is gone too: the claims run out on their own
            log.exception("could not release the claims of unfinished webhook deliveries")

    async def _run(self) -> None:
        waited_out = True
        while not self._stopping:
            self._wake.clear()
            free = self.concurrency - len(self._flying)
            worth = self._news or waited_out or not self._flying
            if free > 0 and (worth or self._landings >= self.min_claim):
                self._news, self._landings = False, 0
                try:
                    await self.send_due()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database blinked: log, wait, go on
                    log.exception("the webhook courier's round failed; retrying")
            waited_out = not await self._wait()

    async def _wait(self) -> bool:
        """Wait for a wake-up or the poll interval; whether woken."""
        try:
            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        except TimeoutError:
            return False
        return True

    async def send_due(self) -> int:
        """Claim due deliveries for the free slots and start their attempts; the number
        started (their attempts go on in the background)."""
        free = self.concurrency - len(self._flying)
        if free <= 0 or self._stopping:
            return 0
        busy = Counter(delivery.webhook.id for delivery in self._flying.values())
        claimed = await deliveries.claim(
            settings=self.settings, limit=free, per_webhook=self.per_webhook, busy=busy
        )
        for delivery in claimed:
            task = asyncio.create_task(self._send(delivery), name="newsdesk-webhook-delivery")
            self._flying[task] = delivery
            task.add_done_callback(self._landed)
        return len(claimed)

    async def _send(self, delivery: WebhookDelivery) -> None:
        try:
            await deliveries.attempt(delivery, client=self.client, settings=self.settings)
        except asyncio.CancelledError:
            raise
        except Exception:  # recording the outcome failed: the claim runs out, it is sent again
            log.exception("webhook delivery %s: its attempt was not recorded", delivery.message_id)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._flying.pop(task, None)
        self._landings += 1
        self._wake.set()  # a slot is free
