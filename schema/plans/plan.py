"""A compiled plan at run time: one request's arguments, the pending async fields, and the
writing of the answer (schema.plans.compiler builds plans; this runs them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

__all__ = [
    "Arguments",
    "Converter",
    "Pending",
    "Plan",
    "Run",
    "Unsupported",
    "Writer",
    "strawberry_converter",
]

Writer = Callable[[Any, "Run"], Any]
Converter = Callable[[dict[str, Any], StrawberryField], dict[str, Any]]


class Unsupported(Exception):
    """The plan cannot answer this; graphql-core must. The message says why."""


@dataclass(frozen=True, slots=True)
class Arguments:
    """A field's arguments, coerced once per request (they may come from variables);
    `convert` says whether they are also converted for a direct method call."""

    definition: GraphQLField
    node: FieldNode
    strawberry_field: StrawberryField
    convert: bool


@dataclass(frozen=True, slots=True)
class Pending:
    """A field whose resolver returned an awaitable; `complete` writes its value."""

    awaitable: Awaitable[Any]
    complete: Writer


@dataclass(slots=True)
class Run:
    """One request's state while a plan runs."""

    context: Any
    variable_values: VariableValues
    arguments: list[dict[str, Any]]
    pending: list[tuple[dict[str, Any], str, Pending]] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    """How to answer one operation, for one shape of its variables."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    write_root: Writer
    arguments: list[Arguments]
    converter: Converter

    async def run(self, context: Any, variable_values: VariableValues) -> dict[str, Any]:
        arguments = []
        for slot in self.arguments:
            coerced = get_argument_values(slot.definition, slot.node, variable_values)
            if slot.convert:
                coerced = self.converter(coerced, slot.strawberry_field)
            arguments.append(coerced)
        run = Run(context, variable_values, arguments)
        try:
            data: dict[str, Any] = self.write_root(None, run)
            while run.pending:  # level by level, gathered: DataLoaders batch as graphql-core's
                batch, run.pending = run.pending, []
                if len(batch) == 1:  # awaited in place: no task, no turn of the event loop
                    target, key, pending = batch[0]
                    target[key] = pending.complete(await pending.awaitable, run)
                    continue
                results = await asyncio.gather(
                    *(pending.awaitable for _, _, pending in batch), return_exceptions=True
                )
                for (target, key, pending), value in zip(batch, results, strict=True):
                    if isinstance(value, BaseException):
                        raise value
                    target[key] = pending.complete(value, run)
        except BaseException:
            # Giving up: resolvers whose coroutines were never awaited must not leak them.
            for _, _, pending in run.pending:
                close = getattr(pending.awaitable, "close", None)
                if close is not None:
                    close()
            raise
        return data


def strawberry_converter(strawberry_schema: Any) -> Converter:
    """Strawberry's own conversion of coerced arguments to a resolver's keyword arguments."""
    registry = strawberry_schema.schema_converter.scalar_registry
    config = strawberry_schema.config

    def convert(values: dict[str, Any], sfield: StrawberryField) -> dict[str, Any]:
        return convert_arguments(values, sfield.arguments, scalar_registry=registry, config=config)

    return convert
