"""cms.http.buckets: a token bucket's arithmetic, and memory that stays bounded (idle
buckets are forgotten, and there are never more than `max_buckets`)."""

from __future__ import annotations

from cms.http.buckets import MemoryBuckets, Policy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_the_burst_through_then_one_request_per_interval() -> None:
    clock = Clock()
    buckets = MemoryBuckets(Policy("address", 4, 2.0), clock=clock)  # 2 a second

    assert [buckets.take("a").allowed for _ in range(5)] == [True, True, True, True, False]
    refused = buckets.take("a")
    assert (refused.retry_after, refused.headers()[1][1]) == (1, b'"address";r=0;t=2')
    clock.now += 0.5
    assert [buckets.take("a").allowed for _ in range(2)] == [True, False]
    assert buckets.take("b").allowed  # another key, another bucket


def test_a_forced_take_empties_but_never_goes_below_empty() -> None:
    clock = Clock()
    buckets = MemoryBuckets(Policy("address", 1, 10.0), clock=clock)
    for _ in range(5):
        buckets.take("a", force=True)
    assert buckets.level("a") == 0
    clock.now += 10
    assert buckets.level("a") == 1
    assert buckets.take("a").allowed


def test_idle_buckets_are_forgotten_and_the_count_is_capped() -> None:
    clock = Clock()
    buckets = MemoryBuckets(Policy("address", 10, 60.0), clock=clock, max_buckets=100)
    for n in range(50):
        buckets.take(f"old-{n}")
    clock.now += 60  # every old bucket is full again: the same as no bucket
    for n in range(30):
        buckets.take(f"new-{n}")
    assert len(buckets) == 30  # two idle ones leave with each new one

    for n in range(500):
        buckets.take(f"flood-{n}")
    assert len(buckets) == 100
    assert buckets.level("flood-499") == 9  # the most recent stay


def test_a_request_let_through_is_told_to_wait_for_nothing() -> None:
    buckets = MemoryBuckets(Policy("address", 2, 60.0), clock=Clock())

    first, last, refused = (buckets.take("a") for _ in range(3))

    assert [first.retry_after, last.retry_after, refused.retry_after] == [0, 0, 30]
