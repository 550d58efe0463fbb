"""The export file's lines: one JSON object a line, with a `type` field.

A line is deterministic and database-independent, so that exporting, importing into the
other kind of database and exporting again gives the same bytes: no database ids (rows
refer to each other by slug, media key or external id), keys sorted, times in UTC with
microseconds (`2026-11-29T10:00:00.000000Z`), no spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TYPES",
    "Fields",
    "Malformed",
    "dumps",
    "parse",
    "time",
]

FORMAT: Final = "newsdesk-export"
FORMAT_VERSION: Final = 1
TYPES: Final = ("export", "section", "tag", "media", "author", "content", "webhook")
"""Line types, in the order an export writes them (a line refers only to earlier ones)."""


class Malformed(Exception):
    """A line that cannot be imported; the message says why, `number` which line (when
    the importer knows it better than "the line being read")."""

    def __init__(self, reason: str, *, number: int | None = None) -> None:
        super().__init__(reason)
        self.number = number


def time(value: datetime | None) -> str | None:
    """A time as every line writes it: UTC, microseconds, `Z`."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(line: Mapping[str, Any]) -> bytes:
    """One line, with its newline: keys sorted, compact."""
    return orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n"


def parse(raw: bytes) -> Fields:
    """A line's object; Malformed when it is not a JSON object with a known `type`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Malformed(f"not JSON ({error})") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    fields = Fields(value)
    kind = fields.text("type")
    if kind not in TYPES:
        raise Malformed(f"unknown type {kind!r}")
    return fields


class Fields:
    """Typed reads of a line's fields; a missing or mistyped field is Malformed, naming it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _get(self, name: str, types: type | tuple[type, ...], *, optional: bool) -> Any:
        if name not in self.data:
            raise Malformed(f"missing field {name!r}")
        value = self.data[name]
        if value is None and optional:
            return None
        if not isinstance(value, types) or (isinstance(value, bool) and types is int):
            raise Malformed(f"field {name!r} has the wrong type")
        return value

    def text(self, name: str) -> str:
        value: str = self._get(name, str, optional=False)
        return value

    def optional_text(self, name: str, maximum: int | None = None) -> str | None:
        """The text or null; with `maximum`, at most that many characters (the column's
        size: PostgreSQL refuses a longer value, SQLite would keep it)."""
        value: str | None = self._get(name, str, optional=True)
        if maximum is not None and value is not None and len(value) > maximum:
            raise Malformed(f"field {name!r} must be at most {maximum} characters")
        return value

    def optional_int(self, name: str) -> int | None:
        value: int | None = self._get(name, int, optional=True)
        return value

    def integer(self, name: str) -> int:
        value: int = self._get(name, int, optional=False)
        return value

    def texts(self, name: str) -> list[str]:
        value: list[Any] = self._get(name, list, optional=False)
        if not all(isinstance(item, str) for item in value):
            raise Malformed(f"field {name!r} must be a list of strings")
        return value

    def objects(self, name: str) -> list[Fields]:
        value: list[Any] = self._get(name, list, optional=False)
        if not all(isinstance(item, dict) for item in value):
            raise Malformed(f"field {name!r} must be a list of objects")
        return [Fields(item) for item in value]

    def mapping(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(name, dict, optional=False)
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in choices:
            raise Malformed(f"field {name!r} must be one of {', '.join(choices)}")
        return value

    def time(self, name: str) -> datetime:
        value = self.optional_time(name)
        if value is None:
            raise Malformed(f"field {name!r} must be a time")
        return value

    def optional_time(self, name: str) -> datetime | None:
        value = self.optional_text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Malformed(f"field {name!r} is not an ISO-8601 time") from None
        if parsed.tzinfo is None:
            raise Malformed(f"field {name!r} must be in UTC (end in Z)")
        return parsed.astimezone(UTC)
