"""Read statements built once per shape, then run with bound values.

A read's SQL depends on its *shape* (which filters it has, whether it continues from a
cursor, which relations it joins) and on *values* (the time, the cursor, a slug, the page
size). Tortoise builds the whole statement again for every request, and on a feed page
that costs more than running it. Here a statement is built once per shape by the very
same queryset code the reads use, with markers standing in for the values; the SQL text,
the positions of the markers among its parameters, and Tortoise's own column converters
are kept. Running it binds the real values at those positions, sends the SQL through the
connection, and converts the columns as Tortoise would have: the same statement and the
same rows, without the per-request query building.

A marker is a value no real read uses, of the type the real value has, so that Tortoise
treats it exactly as it treats the real one (a value the query uses twice, such as the
keyset bound, is bound at both places). `prepare` refuses a statement in which a marker
is missing or comes out changed: such a read must stay unprepared.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import DatetimeField
from tortoise.models import Model
from tortoise.queryset import ValuesQuery
from tortoise.timezone import get_default_timezone, get_use_tz

from cms import sqlite

__all__ = ["Markers", "PrepareError", "Statement", "Statements", "prepare"]

_T = TypeVar("_T")
_MARKER_EPOCH = datetime(1901, 2, 3, tzinfo=UTC)
_MARKER_INT = 7_340_000_000_000


class PrepareError(Exception):
    """The statement could not be prepared (its values are not plain parameters)."""


class Markers:
    """Stand-ins for a statement's values; each `name` becomes one bound parameter."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._serial = itertools.count(1)

    def _new(self, name: str, value: _T) -> _T:
        if name in self.values:
            raise PrepareError(f"marker {name!r} given twice")
        self.values[name] = value
        return value

    def datetime(self, name: str) -> datetime:
        return self._new(name, _MARKER_EPOCH + timedelta(microseconds=next(self._serial)))

    def int(self, name: str) -> int:
        return self._new(name, _MARKER_INT + next(self._serial))

    def str(self, name: str) -> str:
        return self._new(name, f"\x00{next(self._serial)}\x00")  # short: fields check lengths


Converter = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Statement:
    """One prepared SELECT: its SQL, its parameters with the markers' places, and the
    column converters Tortoise applies to its rows."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]
    converters: tuple[tuple[str, Converter], ...]

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        params = list(self.params)
        for index, name in self.slots:
            params[index] = values[name]
        return params

    async def rows(
        self, connection: BaseDBAsyncClient, values: Mapping[str, Any], *, seeks: bool = False
    ) -> list[dict[str, Any]]:
        """The converted rows; a statement that `seeks` an index (a page, an item, its
        relations; never a scan) may run in the event loop's thread on SQLite."""
        params = self.bind(values)
        rows = sqlite.quick_rows(connection, self.sql, params) if seeks else None
        if rows is None:
            rows = await connection.execute_query_dict(self.sql, params)
        converters = self.converters
        for row in rows:
            for column, convert in converters:
                row[column] = convert(row[column])
        return rows


def prepare(query: ValuesQuery[Any], markers: Markers) -> Statement:
    """The statement of `query`, built with `markers` standing in for its values."""
    query._choose_db_if_not_chosen()  # noqa: SLF001 - the query Tortoise itself would run
    query._make_query()  # noqa: SLF001
    sql, params = query.query.get_parameterized_sql()
    slots: list[tuple[int, str]] = []
    for name, marker in markers.values.items():
        found = 0
        for index, param in enumerate(params):
            if _same(param, marker):
                slots.append((index, name))
                found += 1
        if not found:
            raise PrepareError(f"marker {name!r} is not among the parameters")
    converters = tuple(
        (alias, _faster(convert))
        for alias, field_name in query._fields_for_select.items()  # noqa: SLF001
        # Tortoise skips its identity lambdas too (ValuesQuery._execute).
        if not isinstance(convert := query.resolve_to_python_value(query.model, field_name),
                          types.LambdaType)
    )  # fmt: skip
    return Statement(sql, tuple(params), tuple(slots), converters)


def _faster(convert: Converter) -> Converter:
    """Tortoise's converter, made faster for two kinds of column. SQLite's datetime text
    is parsed by the standard library's C parser first; an aware datetime is then moved to
    Tortoise's time zone as Tortoise's own converter does (its branch for one, taken
    directly), and anything else (naive, or text it cannot parse) goes to Tortoise whole.
    A stored enum value is looked up among its enum's members; anything else goes to
    Tortoise (which raises as it always did)."""
    field = getattr(convert, "__self__", None)
    enum_type = getattr(field, "enum_type", None)
    if isinstance(enum_type, type) and issubclass(enum_type, Enum):
        members: dict[Any, Any] = {member.value: member for member in enum_type}

        def to_member(value: Any) -> Any:
            known = members.get(value)
            return known if known is not None else convert(value)

        return to_member
    if not isinstance(field, DatetimeField):
        return convert
    own = type(field).to_python_value is DatetimeField.to_python_value

    def to_python(value: Any) -> Any:
        if type(value) is str:
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return convert(value)
        if own and type(value) is datetime and value.utcoffset() is not None and get_use_tz():
            # Tortoise's own branch for an aware datetime under use_tz, taken directly.
            return value.astimezone(get_default_timezone())
        return convert(value)

    return to_python


def _same(param: Any, marker: Any) -> bool:
    return type(param) is type(marker) and param == marker


class Statements:
    """Prepared statements by shape, per SQL dialect (tests switch databases)."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self._cache: dict[tuple[str, Hashable], Statement] = {}

    def __len__(self) -> int:
        """How many statements are prepared (bounded: shapes are few by construction)."""
        return len(self._cache)

    def connection(self) -> BaseDBAsyncClient:
        return self.model._choose_db()  # noqa: SLF001 - the connection its queries would use

    def get(
        self, shape: Hashable, build: Callable[[Markers], ValuesQuery[Any]]
    ) -> tuple[BaseDBAsyncClient, Statement]:
        """The connection, and the statement of `shape` (built by `build` the first time)."""
        connection = self.connection()
        key = (connection.capabilities.dialect, shape)
        statement = self._cache.get(key)
        if statement is None:
            markers = Markers()
            statement = self._cache[key] = prepare(build(markers), markers)
        return connection, statement
