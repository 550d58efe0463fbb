"""The writer of one object of a plan, generated as one Python function.

A plan writes an object's selected fields in order. Written as a loop over small
closures, each field costs a call, an attribute read through `getattr`, a call of its
type's `serialize` and a test for a pending value. Generated once per object of a plan,
the writer is straight-line code instead: a stored leaf is read as `source.title` and kept
as it is when it already has the type its scalar serializes to (a `str` for `String` and
`ID`, a `bool` for `Boolean`, an `int` within 32 bits for `Int`, exactly what
graphql-core's own `serialize` would return for it); any other value goes through the
type's `serialize`, as before. An enum's members are named from a table made by calling
the enum's own `serialize` on each member once, when the writer is built. Fields that call
resolvers stay calls of their writers.

The function is built from names and keys checked to be plain identifiers, with every
other value (serializers, writers, messages) passed in as a global of the function,
never spliced into its text.
"""

from __future__ import annotations

import keyword
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLString,
)

from schema.plans.plan import Pending, Unsupported, Writer

__all__ = ["ObjectSource"]

# (scalar, the class its serialize returns unchanged, a further condition on the value)
_KEPT_AS_IS: dict[str, tuple[GraphQLLeafType, str, str]] = {
    "String": (GraphQLString, "str", ""),
    "ID": (GraphQLID, "str", ""),
    "Boolean": (GraphQLBoolean, "bool", ""),
    "Int": (GraphQLInt, "int", " and -2147483648 <= v <= 2147483647"),
}


def _identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _member_names(type_: GraphQLLeafType) -> tuple[type[Enum], dict[str, Any]] | None:
    """For an enum type backed by a Python enum (Strawberry's), that enum and what the
    type's own `serialize` answers for each of its members, by member name; None when
    there is no such enum or any member does not serialize."""
    members = getattr(type_, "wrapped_cls", None)
    if not isinstance(type_, GraphQLEnumType) or not (
        isinstance(members, type) and issubclass(members, Enum)
    ):
        return None
    try:
        return members, {member._name_: type_.serialize(member) for member in members}
    except Exception:  # noqa: BLE001 - a member the type refuses: serialize every value
        return None


class ObjectSource:
    """The text of one object writer, built field by field, then compiled."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.lines: list[str] = []
        self.globals: dict[str, Any] = {"Pending": Pending, "Unsupported": Unsupported}
        self.waits = False

    def _global(self, value: Any) -> str:
        name = f"g{len(self.globals)}"
        self.globals[name] = value
        return name

    def _store(self, key: str) -> str:
        if not _identifier(key):  # pragma: no cover - GraphQL names are identifiers
            raise Unsupported(f"the response key {key!r}")
        return f"out[{key!r}]"

    def constant(self, key: str, value: str) -> None:
        self.lines.append(f"{self._store(key)} = {self._global(value)}")

    def leaf(
        self, key: str, attribute: str, type_: GraphQLLeafType, required: bool, where: str
    ) -> None:
        """A stored attribute of a leaf type."""
        read = f"source.{attribute}" if _identifier(attribute) else None
        if read is None:  # pragma: no cover - Python attributes are identifiers
            read = f"getattr(source, {self._global(attribute)})"
        serialize = self._global(type_.serialize)
        kept = _KEPT_AS_IS.get(type_.name)
        self.lines.append(f"v = {read}")
        if kept is not None and kept[0] is type_ and type_.serialize is kept[0].serialize:
            _, class_name, condition = kept
            self.lines += [
                "if v is not None:",
                f"    if v.__class__ is not {class_name} or not (True{condition}):",
                f"        v = {serialize}(v)",
            ]
        elif (names := _member_names(type_)) is not None:
            members, table = names
            self.lines += [
                "if v is not None:",
                f"    if v.__class__ is {self._global(members)}:",
                f"        v = {self._global(table)}[v._name_]",
                "    else:",
                f"        v = {serialize}(v)",
            ]
        else:
            self.lines += ["if v is not None:", f"    v = {serialize}(v)"]
        if required:
            message = self._global(f"null in the non-null {where}")
            self.lines += ["if v is None:", f"    raise Unsupported({message})"]
        self.lines.append(f"{self._store(key)} = v")

    def attribute(
        self, key: str, attribute: str, complete: Writer, direct: dict[type, Writer]
    ) -> None:
        """A stored attribute of another type, completed by `complete`; a value whose class
        is in `direct` (one object type's class) goes straight to that type's writer."""
        if not _identifier(attribute):  # pragma: no cover - Python attributes are identifiers
            raise Unsupported(f"the attribute {attribute!r}")
        complete_name = self._global(complete)
        if len(direct) != 1:
            self.lines.append(f"{self._store(key)} = {complete_name}(source.{attribute}, run)")
            return
        [(origin, write)] = direct.items()
        self.lines += [
            f"v = source.{attribute}",
            f"if v.__class__ is {self._global(origin)}:",
            f"    {self._store(key)} = {self._global(write)}(v, run)",
            "else:",
            f"    {self._store(key)} = {complete_name}(v, run)",
        ]

    def call(self, key: str, writer: Writer, *, may_wait: bool) -> None:
        """A field written by `writer`; one that `may_wait` can give a pending value."""
        self.lines.append(f"v = {self._global(writer)}(source, run)")
        if may_wait:
            self.waits = True
            self.lines += [
                "if v.__class__ is Pending:",
                f"    pending.append((out, {key!r}, v))",
            ]
        self.lines.append(f"{self._store(key)} = v")

    def function(self) -> Writer:
        body = ["out = {}"]
        if self.waits:
            body.append("pending = run.pending")
        body += self.lines
        body.append("return out")
        text = "def write(source, run):\n" + "".join(f"    {line}\n" for line in body)
        namespace = dict(self.globals)
        exec(compile(text, f"<plan writer of {self.type_name}>", "exec"), namespace)  # noqa: S102
        write: Writer = namespace["write"]
        return write
