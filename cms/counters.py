"""Prometheus counters that code outside the web layer adds to (cms.http.metrics shows
them on /metrics). Process-wide on purpose: one counter per process, whichever app or
task increments it; with several workers prometheus-client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, set up by `cms serve`) sums them across processes."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

__all__ = ["WEBHOOK_ATTEMPTS", "webhook_attempt"]

WEBHOOK_ATTEMPTS: Final = Counter(
    "newsdesk_webhook_deliveries",
    "Webhook delivery attempts by result: delivered (2xx), retrying (failed, another "
    "attempt is scheduled) or failed (no attempt left, or refused with a 4xx).",
    ["result"],
    registry=None,
)


def webhook_attempt(*, delivered: bool, retrying: bool) -> None:
    """Count one delivery attempt by its result."""
    result = "delivered" if delivered else "retrying" if retrying else "failed"
    WEBHOOK_ATTEMPTS.labels(result).inc()
