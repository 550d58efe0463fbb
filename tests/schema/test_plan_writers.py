"""The generated object writers of compiled plans keep a stored value only when it is
exactly what the scalar's own `serialize` would return, and otherwise ask `serialize`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
)

from schema.plans.codegen import ObjectSource
from schema.plans.plan import Pending, Run, Unsupported


class Colour(Enum):
    RED = "red"


COLOUR = GraphQLEnumType("Colour", {"RED": Colour.RED})


@dataclass
class Item:
    value: Any


def _write(type_: GraphQLLeafType, value: Any, *, required: bool = False) -> Any:
    source = ObjectSource("Item")
    source.leaf("value", "value", type_, required, "Item.value")
    return source.function()(Item(value), Run(None, None, []))["value"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        (GraphQLString, "text"),
        (GraphQLString, True),
        (GraphQLString, 12),
        (GraphQLID, "QXJ0aWNsZTox"),
        (GraphQLID, 42),
        (GraphQLInt, 7),
        (GraphQLInt, True),
        (GraphQLInt, -(2**31)),
        (GraphQLInt, 2**31 - 1),
        (GraphQLInt, 3.0),
        (GraphQLBoolean, False),
        (GraphQLBoolean, 1),
        (GraphQLFloat, 1.5),
        (COLOUR, Colour.RED),
    ],
)
def test_a_leaf_is_written_as_its_serialize_writes_it(type_: GraphQLLeafType, value: Any) -> None:
    written = _write(type_, value)

    assert written == type_.serialize(value)
    assert type(written) is type(type_.serialize(value))


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 10**20])
def test_an_int_beyond_32_bits_is_refused_as_graphql_core_refuses_it(value: int) -> None:
    with pytest.raises(GraphQLError, match="32-bit"):
        _write(GraphQLInt, value)


def test_a_null_in_a_non_null_field_gives_the_plan_up() -> None:
    assert _write(GraphQLString, None) is None
    with pytest.raises(Unsupported, match="null in the non-null Item.value"):
        _write(GraphQLString, None, required=True)


def test_a_pending_value_is_left_for_the_next_level() -> None:
    source = ObjectSource("Item")
    waiting = Pending(awaitable=None, complete=lambda value, run: value)  # type: ignore[arg-type]
    source.call("later", lambda item, run: waiting, may_wait=True)
    source.call("now", lambda item, run: "here", may_wait=True)
    source.constant("__typename", "Item")
    run = Run(None, None, [])  # type: ignore[arg-type]

    out = source.function()(Item(None), run)

    assert out == {"later": waiting, "now": "here", "__typename": "Item"}
    assert list(out) == ["later", "now", "__typename"]
    assert run.pending == [(out, "later", waiting)]


def _schema_enum(name: str) -> GraphQLEnumType:
    from cms.config import Settings
    from schema import build_schema

    found = build_schema(Settings(_env_file=None))._schema.get_type(name)  # noqa: SLF001
    assert isinstance(found, GraphQLEnumType)
    return found


@pytest.mark.parametrize("name", ["AuthorKind", "ContentStatus", "ContentKind"])
def test_a_schema_enum_is_named_from_its_own_serialize(name: str) -> None:
    """Strawberry's enum types are written from a table of what their `serialize` says of
    each member; anything not a member still meets `serialize` (and its error)."""
    type_ = _schema_enum(name)
    members = type_.wrapped_cls  # type: ignore[attr-defined]

    for member in members:
        assert _write(type_, member) == type_.serialize(member)
    stored = next(iter(members)).value
    assert _write(type_, stored) == type_.serialize(stored)
    with pytest.raises(GraphQLError):
        _write(type_, "no such member")
