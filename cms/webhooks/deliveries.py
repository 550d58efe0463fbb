"""Webhook deliveries: recorded with the event, then sent, retried and recorded.

`enqueue` runs inside the dispatcher's transaction: one pending row per webhook that
subscribes to the event's type, its body fixed there, so every attempt sends the same
bytes and a restart loses nothing. `deliver_due` claims the rows that are due, sends them
signed (see `cms.webhooks.signing`) and records each attempt: 2xx delivers; network
errors, timeouts, 408, 429, 5xx (and a redirect, never followed) retry on the schedule;
any other 4xx fails at once; after the last scheduled attempt the delivery fails.

Several workers may run `deliver_due` at once: rows are claimed by one conditional UPDATE
(still pending, still due, not claimed by anyone else) that stamps a claim token, and the
claim lasts until the attempts are over, so one delivery is never sent twice at once.
At-least-once all the same: a worker that dies mid-attempt leaves its claim to expire and
the row to be sent again. Receivers de-duplicate on `webhook-id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from cms import clock, counters
from cms.config import Settings
from cms.content import ids
from cms.errors import NotFound
from cms.models import ContentKind, DeliveryStatus, OutboxEvent, Webhook, WebhookDelivery
from cms.webhooks import addresses, signing

__all__ = [
    "Dispatched",
    "attempt",
    "body_bytes",
    "claim",
    "claim_until",
    "deliver_due",
    "enqueue",
    "enqueue_many",
    "redeliver",
    "release",
]

log = logging.getLogger(__name__)


JITTER = 0.10
MAX_ERROR_LENGTH = 200
# The most of a receiver's answer read (and thrown away) to keep its connection open.
ANSWER_READ_BYTES = 64 * 1024
ANSWER_READ_SECONDS = 1.0


# --- enqueue ---------------------------------------------------------------------------


_EVENT_DATA = ("reason", "correction", "note")


def _message_id(webhook: Webhook, event: OutboxEvent) -> str:
    """The delivery id: the same for one event and one webhook, so an event the dispatcher
    hands over twice is recorded once; keyed by the webhook's secret, so ids never repeat
    for a webhook created afresh (after a database reset, say)."""
    digest = hmac.new(webhook.secret.encode(), f"event:{event.id}".encode(), hashlib.sha256)
    return "msg_" + digest.hexdigest()[:32]


def _deleted_content(event: OutboxEvent) -> dict[str, Any]:
    """What is left of a deleted item: the event's payload, with the API's names."""
    payload = event.payload
    kind = ContentKind(payload.get("kind", ContentKind.ARTICLE))
    return {
        "id": ids.content_id(kind, int(payload.get("id", event.content_id))),
        "kind": kind.name,
        "slug": payload.get("slug"),
        "title": payload.get("title"),
    }


async def enqueue(
    *,
    event: OutboxEvent,
    content: dict[str, Any] | None,
    connection: BaseDBAsyncClient,
    cache_tags: Sequence[str] = (),
) -> list[WebhookDelivery]:
    """Record one pending delivery per webhook subscribed to `event.type`, inside the
    caller's transaction. `content` is the item as the API shows it (None once deleted);
    `cache_tags` what the event invalidates (`cms.cache.tags`), for receivers that purge
    a CDN by tag.
    Returns the deliveries created (none for an event already recorded)."""
    webhooks = await Webhook.all().using_db(connection).order_by("id")
    pending = await _pending(
        [Dispatched(event, content, tuple(cache_tags))], webhooks, connection=connection
    )
    for delivery in pending:
        await delivery.save(using_db=connection)
    return pending


@dataclass(frozen=True, slots=True)
class Dispatched:
    """An event as the dispatcher hands it over: the item as the API shows it (None once
    deleted) and the cache tags the event invalidates."""

    event: OutboxEvent
    content: dict[str, Any] | None
    cache_tags: tuple[str, ...] = ()


async def enqueue_many(*, events: Sequence[Dispatched], connection: BaseDBAsyncClient) -> int:
    """`enqueue` for a batch of events in a few statements whatever its size (the
    webhooks, the deliveries already recorded, one INSERT); the number created."""
    if not events:
        return 0
    webhooks = await Webhook.all().using_db(connection).order_by("id")
    pending = await _pending(events, webhooks, connection=connection)
    if pending:
        await WebhookDelivery.bulk_create(pending, using_db=connection)
    return len(pending)


async def _pending(
    events: Sequence[Dispatched], webhooks: Sequence[Webhook], *, connection: BaseDBAsyncClient
) -> list[WebhookDelivery]:
    """The deliveries (not saved yet) of `events` to the `webhooks` subscribed to each,
    less those recorded already (an event handed over twice is recorded once)."""
    wanted = [
        (dispatched, webhook, _message_id(webhook, dispatched.event))
        for dispatched in events
        for webhook in webhooks
        if dispatched.event.type in webhook.events
    ]
    if not wanted:
        return []
    recorded = set(
        cast(
            list[str],
            await WebhookDelivery.filter(message_id__in=[message_id for *_, message_id in wanted])
            .using_db(connection)
            .values_list("message_id", flat=True),
        )
    )
    now = clock.utcnow()
    pending = []
    for dispatched, webhook, message_id in wanted:
        if message_id in recorded:
            continue
        recorded.add(message_id)
        event = dispatched.event
        body = {
            "id": message_id,
            "type": event.type,
            "occurredAt": event.occurred_at.isoformat(),
            "data": _data(dispatched),
        }
        pending.append(
            WebhookDelivery(
                message_id=message_id,
                webhook=webhook,
                event_type=event.type,
                body=body,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
        )
    return pending


def _data(dispatched: Dispatched) -> dict[str, Any]:
    event, content = dispatched.event, dispatched.content
    data = {
        "content": content if content is not None else _deleted_content(event),
        "cacheTags": list(dispatched.cache_tags),
    }
    # What the event says beyond the item: a kill's reason, a correction, a review note.
    data |= {key: event.payload[key] for key in _EVENT_DATA if key in event.payload}
    return data


def body_bytes(body: dict[str, Any]) -> bytes:
    """The bytes sent: compact JSON with sorted keys, the same on every attempt whatever
    order the database keeps the keys in."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


# --- deliver ---------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return (
        Q(status=DeliveryStatus.PENDING)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )


async def _claim(
    *,
    now: datetime,
    until: datetime,
    limit: int,
    per_webhook: int | None = None,
    busy: Mapping[int, int] | None = None,
) -> list[WebhookDelivery]:
    """Claim up to `limit` due deliveries for this call; the rows it won, with webhooks.
    With `per_webhook`, at most that many per webhook, counting the `busy` ones (webhook
    id -> deliveries in flight already): a slow receiver does not take every slot.

    One UPDATE of the chosen ids that re-checks the conditions in its own WHERE: a row
    another worker claimed meanwhile no longer matches, so each row gets one owner, whose
    claim token then finds it."""
    due_now = WebhookDelivery.filter(_due(now))
    if per_webhook is not None:
        # Webhooks already at their share are left out of the candidates, or a receiver
        # with a backlog (a slow one, timing out) would fill them all and starve the rest.
        full = [webhook for webhook, flying in (busy or {}).items() if flying >= per_webhook]
        if full:
            due_now = due_now.exclude(webhook_id__in=full)
    candidates = cast(
        list[tuple[int, int]],
        await due_now.order_by("next_attempt_at", "id")
        .limit(limit if per_webhook is None else limit * 4)
        .values_list("id", "webhook_id"),
    )
    due: list[int] = []
    taken = Counter(busy or {})
    for id, webhook_id in candidates:
        if per_webhook is not None and taken[webhook_id] >= per_webhook:
            continue
        taken[webhook_id] += 1
        due.append(id)
        if len(due) == limit:
            break
    if not due:
        return []
    token = secrets.token_hex(16)
    await WebhookDelivery.filter(_due(now), id__in=due).update(
        claimed_by=token, claimed_until=until
    )
    return (
        await WebhookDelivery.filter(claimed_by=token, status=DeliveryStatus.PENDING)
        .order_by("id")
        .select_related("webhook")
    )


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivered: bool = False
    retry: bool = False
    status_code: int | None = None
    error: str | None = None


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return message[:MAX_ERROR_LENGTH]


def _judge(status_code: int) -> _Outcome:
    if 200 <= status_code < 300:
        return _Outcome(delivered=True, status_code=status_code)
    if status_code in (408, 429) or status_code >= 500:
        return _Outcome(retry=True, status_code=status_code, error=f"HTTP {status_code}")
    if 400 <= status_code < 500:
        error = f"HTTP {status_code}: refused by the receiver, not retried"
        return _Outcome(status_code=status_code, error=error)
    error = f"HTTP {status_code}: not a success (redirects are not followed)"
    return _Outcome(retry=True, status_code=status_code, error=error)


async def _send(
    delivery: WebhookDelivery, webhook: Webhook, client: httpx.AsyncClient, timeout: float
) -> _Outcome:
    body = body_bytes(delivery.body)
    headers = signing.headers(
        secret=webhook.secret,
        message_id=delivery.message_id,
        timestamp=int(clock.utcnow().timestamp()),  # this attempt's: new on every retry
        body=body,
        event_type=delivery.event_type,
    )
    answer: _Outcome | None = None  # judged from the status line, once it has come
    try:
        async with asyncio.timeout(timeout):  # the whole attempt, however slow the answer
            async with client.stream(
                "POST", webhook.url, content=body, headers=headers, timeout=timeout
            ) as response:
                answer = _judge(response.status_code)
                await _read_briefly(response)
                return answer
    except addresses.AddressRefused as error:
        return _Outcome(error=str(error)[:MAX_ERROR_LENGTH])
    except (TimeoutError, httpx.TimeoutException):
        if answer is not None:  # answered; only the rest of its body was slow
            return answer
        return _Outcome(retry=True, error=f"timed out after {timeout:g} s")
    except httpx.HTTPError as error:
        if answer is not None:
            return answer
        return _Outcome(retry=True, error=_short(error))
    except Exception as error:  # a delivery must not take the others down with it
        if answer is not None:
            return answer
        log.exception("webhook delivery %s failed unexpectedly", delivery.message_id)
        return _Outcome(retry=True, error=_short(error))


async def _read_briefly(response: httpx.Response) -> None:
    """Read a short answer's body to its end (it is never looked at), so the connection
    goes back to the pool for the next delivery to that receiver instead of being closed
    (a new connection, and a TLS handshake, per delivery cost more than the rest of an
    attempt). A body longer than ANSWER_READ_BYTES, or slower than ANSWER_READ_SECONDS, is
    left unread; its connection closes."""
    if response.is_stream_consumed:  # already read (an in-memory answer)
        return
    read = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(ANSWER_READ_SECONDS):
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > ANSWER_READ_BYTES:
                    return


def _next_delay(schedule: tuple[float, ...], attempts: int) -> float | None:
    """Seconds until the next attempt after `attempts` attempts, with ±10% jitter; None
    when the schedule is over."""
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1]
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


async def _attempt(
    delivery: WebhookDelivery,
    *,
    client: httpx.AsyncClient,
    timeout: float,
    schedule: tuple[float, ...],
) -> None:
    started = clock.utcnow()
    outcome = await _send(delivery, delivery.webhook, client, timeout)
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": started,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "claimed_by": None,
        "claimed_until": None,
        "next_attempt_at": None,
    }
    delay = _next_delay(schedule, attempts) if outcome.retry else None
    if outcome.delivered:
        values["status"] = DeliveryStatus.DELIVERED
    elif delay is not None:
        values["next_attempt_at"] = clock.utcnow() + timedelta(seconds=delay)
    else:
        values["status"] = DeliveryStatus.FAILED
        log.warning(
            "webhook delivery %s to webhook %s failed after %d attempt(s): %s",
            delivery.message_id, delivery.webhook.id, attempts, outcome.error,
        )  # fmt: skip
    # Only while the claim is ours: a worker that overran its claim records nothing.
    await WebhookDelivery.filter(id=delivery.id, claimed_by=delivery.claimed_by).update(**values)
    counters.webhook_attempt(delivered=outcome.delivered, retrying=delay is not None)


async def deliver_due(*, client: httpx.AsyncClient, settings: Settings, limit: int = 50) -> int:
    """Send the deliveries that are due (at most `limit`, concurrently); the number sent.

    `client` should come from `cms.webhooks.addresses.http_client(settings)`: it checks
    the address actually connected to when private addresses are refused."""
    now = clock.utcnow()
    timeout = settings.webhook_timeout_seconds
    claimed = await _claim(now=now, until=claim_until(now, settings), limit=limit)
    if not claimed:
        return 0
    schedule = settings.webhook_retry_schedule
    await asyncio.gather(
        *(
            _attempt(delivery, client=client, timeout=timeout, schedule=schedule)
            for delivery in claimed
        )
    )
    return len(claimed)


def claim_until(now: datetime, settings: Settings) -> datetime:
    """How long a claim lasts: past every attempt it covers, each cut off at the timeout,
    by the dispatcher's lease (CMS_DISPATCH_LEASE_SECONDS): a worker that died mid-attempt
    leaves the delivery to another one that much later, as it does its outbox events."""
    return now + timedelta(
        seconds=2 * settings.webhook_timeout_seconds + settings.dispatch_lease_seconds
    )


async def claim(
    *, settings: Settings, limit: int, per_webhook: int, busy: Mapping[int, int]
) -> list[WebhookDelivery]:
    """Claim up to `limit` due deliveries, at most `per_webhook` in flight per webhook
    counting the `busy` ones (webhook id -> deliveries in flight): for a sender that runs
    each attempt as soon as it is claimed (`cms.webhooks.courier`)."""
    now = clock.utcnow()
    return await _claim(
        now=now,
        until=claim_until(now, settings),
        limit=limit,
        per_webhook=per_webhook,
        busy=busy,
    )


async def attempt(
    delivery: WebhookDelivery, *, client: httpx.AsyncClient, settings: Settings
) -> None:
    """Send one claimed delivery and record the attempt, as `deliver_due` does."""
    await _attempt(
        delivery,
        client=client,
        timeout=settings.webhook_timeout_seconds,
        schedule=settings.webhook_retry_schedule,
    )


async def release(*, claims: Iterable[str]) -> int:
    """Give up the claims named (a sender stopping before their attempts were recorded):
    another worker sends those deliveries at once instead of when the claims run out."""
    tokens = sorted(set(claims))
    if not tokens:
        return 0
    held = WebhookDelivery.filter(claimed_by__in=tokens, status=DeliveryStatus.PENDING)
    return await held.update(claimed_by=None, claimed_until=None)


async def redeliver(*, delivery_id: int) -> WebhookDelivery:
    """Send one delivery again: the same message id and body, a new attempt now. Its
    attempts are kept; further retries follow the schedule from there."""
    updated = await WebhookDelivery.filter(id=delivery_id).update(
        status=DeliveryStatus.PENDING, next_attempt_at=clock.utcnow()
    )
    if not updated:
        raise NotFound("no webhook delivery has that id")
    return await WebhookDelivery.get(id=delivery_id)
