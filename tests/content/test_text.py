"""cms.content.text and cms.content.times: the rules for a client's text and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cms.content import text, times
from cms.errors import Invalid


@pytest.mark.parametrize("value", ["", "war news", "Київ", "emoji \U0001f4f0", "tab\tnewline\n"])
def test_text_any_database_stores_passes(value: str) -> None:
    assert text.check(value, field="title") == value


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", "a\x00b"])
def test_a_nul_or_a_lone_surrogate_is_invalid_naming_the_field(value: str) -> None:
    with pytest.raises(Invalid) as refused:
        text.check(value, field="dek")

    assert refused.value.field == "dek"
    assert refused.value.message.startswith("dek must be text without NUL characters")


def test_a_value_is_shown_cut_and_escaped() -> None:
    assert text.shown("war") == "'war'"
    assert text.shown("a" * 1_000_000) == "'" + "a" * text.SHOWN_LENGTH + "'…"
    assert text.shown("\ud800") == "'\\ud800'"
    assert text.shown("notes.txt", quoted=False) == "notes.txt"
    assert text.shown("bad\ud800.png", quoted=False) == "bad\\ud800.png"


def test_a_time_is_converted_to_utc() -> None:
    kyiv = timezone(timedelta(hours=2))

    assert times.to_utc(datetime(2026, 5, 1, 11, tzinfo=kyiv), field="at") == datetime(
        2026, 5, 1, 9, tzinfo=UTC
    )
    assert times.to_utc(datetime(1, 1, 1, tzinfo=UTC), field="at").year == 1


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (datetime(2026, 5, 1), "at must include a timezone"),
        (datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=14))), "between the years"),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), "between the years"),
    ],
)
def test_a_time_without_offset_or_outside_the_years_1_to_9999_is_invalid(
    value: datetime, words: str
) -> None:
    with pytest.raises(Invalid, match=words) as refused:
        times.to_utc(value, field="at")

    assert refused.value.field == "at"
