"""bench/outbox_lag.py's pure parts: the lag summary and the pacer that spaces the
editors' mutations. Nothing here is timed."""

from __future__ import annotations

import math
import time

from bench.outbox_lag import Pacer, summary


def test_the_summary_reads_percentiles_from_the_sorted_lags() -> None:
    lags = [float(n) / 100 for n in range(1, 201)]  # 0.01 … 2.00 s, shuffled below
    figures = summary(lags[::-1])
    assert figures == {"count": 200, "p50": 1.0, "p99": 1.98, "max": 2.0}
    assert summary([0.25]) == {"count": 1, "p50": 0.25, "p99": 0.25, "max": 0.25}


def test_an_empty_summary_says_so() -> None:
    empty = summary([])
    assert empty["count"] == 0 and math.isnan(empty["p99"])


async def test_the_pacer_hands_out_slots_until_its_end() -> None:
    pacer = Pacer(rate=1000.0, until=time.monotonic() + 0.02)
    slots = 0
    while await pacer.slot():
        slots += 1
    assert 1 <= slots <= 21  # one a millisecond at most, none past the end
    assert not await pacer.slot()
