"""Text from clients: the one rule for what a string may hold, and how a message shows it.

JSON lets a client send a lone surrogate ("\\ud800"), which is no character at all: it
cannot be encoded as UTF-8, so neither SQLite nor PostgreSQL can store or compare it. A NUL
character ("\\u0000") is refused by PostgreSQL's text and jsonb types. Both are refused
here, naming the field or argument, before any query runs. Messages never echo input
whole: `shown` cuts a value to a few dozen characters.
"""

from __future__ import annotations

import re
from typing import Final

from cms.errors import Invalid

__all__ = ["SHOWN_LENGTH", "check", "shown"]

SHOWN_LENGTH: Final = 40
"""The most characters of a client's value a message repeats."""

_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def check(value: str, *, field: str) -> str:
    """`value`, unless it holds a character no database stores: Invalid naming `field`."""
    if _UNSTORABLE.search(value) is not None:
        raise Invalid(
            f"{field} must be text without NUL characters or unpaired surrogates "
            "(send it as valid UTF-8)",
            field=field,
        )
    return value


def shown(value: str, *, quoted: bool = True) -> str:
    """`value` for a message: cut to SHOWN_LENGTH characters ("…" marks a cut), quoted as
    Python's repr quotes it (or, unquoted, with only unprintable characters escaped): a
    lone surrogate never reaches the response, whose encoder would refuse it."""
    cut = value[:SHOWN_LENGTH]
    if quoted:
        cut = repr(cut)
    elif not cut.isprintable():
        cut = repr(cut)[1:-1]
    return cut + ("…" if len(value) > SHOWN_LENGTH else "")
