"""The compiled-reads extension: answer a read from its plan, or let graphql-core answer.

Strawberry has parsed and validated the document (both cached, with the query limits) by
the time `on_execute` runs. If the operation has a plan, the plan's answer becomes the
execution result and Strawberry skips graphql-core's execution; if it has none, or the
plan gives up or fails in any way, nothing is set and graphql-core executes as always.
Plans are kept per (document, operation, values of the variables `@skip`/`@include`
read), beside Strawberry's parser and validation caches.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension

from schema import documents
from schema.plans.compiler import compile_operation
from schema.plans.plan import Plan, Unsupported, strawberry_converter

__all__ = ["CompiledReads", "PlanCache", "PlanStats"]

log = logging.getLogger(__name__)


class PlanStats:
    """How often plans answered, and why graphql-core answered instead (for /metrics)."""

    def __init__(self) -> None:
        self.hits = 0
        self.fallbacks: Counter[str] = Counter()

    def fallback(self, reason: str) -> None:
        self.fallbacks[reason] += 1


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a document's plans depend on besides the document: its operation, and the
    variables its @skip/@include directives read."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    directive_variables: tuple[str, ...]


class PlanCache:
    """Plans (or the reason there is none) per document text, operation and shape."""

    def __init__(self, *, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[Any, Plan | str] = OrderedDict()
        self._shapes: dict[tuple[str, str | None], _Shape | str] = {}
        self.stats = PlanStats()

    def bind(self, strawberry_schema: Any) -> None:
        """The schema the plans are compiled against (it is built after its extensions)."""
        self.schema = strawberry_schema._schema  # noqa: SLF001 - graphql-core's schema
        self.converter = strawberry_converter(strawberry_schema)

    def _shape(
        self, query: str, document: DocumentNode, operation_name: str | None
    ) -> _Shape | str:
        key = (query, operation_name)
        shape = self._shapes.get(key)
        if shape is None:
            operation = get_operation_ast(document, operation_name)
            if operation is None:
                shape = "no single operation"
            else:
                shape = _Shape(
                    operation,
                    documents.fragments(document),
                    documents.directive_variables(document),
                )
            if len(self._shapes) >= self.maxsize:
                self._shapes.clear()
            self._shapes[key] = shape
        return shape

    def _key(
        self, shape: _Shape | str, query: str, operation_name: str | None, variables: Any
    ) -> tuple[tuple[Any, ...], VariableValues] | None:
        """A plan's key (the document, its operation, the values its directives read) and
        the coerced variables; None when there is no operation or the variables do not
        coerce (graphql-core reports why)."""
        if isinstance(shape, str):
            return None
        coerced = get_variable_values(
            self.schema, shape.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        directives = tuple(coerced.coerced.get(name) for name in shape.directive_variables)
        return (query, operation_name, directives), coerced

    def plan(
        self, query: str, document: DocumentNode, operation_name: str | None, variables: Any
    ) -> tuple[Plan | str, Any]:
        """The plan (or why there is none) and the coerced variable values."""
        shape = self._shape(query, document, operation_name)
        if isinstance(shape, str):
            return shape, None
        keyed = self._key(shape, query, operation_name, variables)
        if keyed is None:
            return "variables that do not coerce", None
        key, coerced = keyed
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = compile_operation(
                    self.schema,
                    shape.fragments,
                    shape.operation,
                    coerced,
                    converter=self.converter,
                )
            except Unsupported as reason:
                plan = str(reason)
            self._plans[key] = plan
            if len(self._plans) > self.maxsize:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan, coerced

    async def answer(
        self, query: str, operation_name: str | None, variables: Any, context: Any
    ) -> dict[str, Any] | None:
        """The data of a query whose plan is already compiled, or None (graphql-core then
        answers it through the schema, extensions and all). A plan is compiled only for a
        document Strawberry has parsed and validated under the same limits, so the view
        may answer with it before Strawberry's execution pipeline runs again."""
        shape = self._shapes.get((query, operation_name))
        keyed = self._key(shape, query, operation_name, variables) if shape else None
        if keyed is None:
            return None
        key, coerced = keyed
        plan = self._plans.get(key)
        if not isinstance(plan, Plan):
            return None
        try:
            data = await plan.run(context, coerced)
        except Exception:
            context.plan_gave_up = True  # the schema's pass counts it, without a second try
            return None
        self.stats.hits += 1
        return data


class CompiledReads(SchemaExtension):
    """Answers reads from their plans (one instance per operation; the cache is shared)."""

    def __init__(self, *, cache: PlanCache) -> None:
        self.cache = cache

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.query is not None:
            await self._answer(context, document)
        yield

    async def _answer(self, context: Any, document: DocumentNode) -> None:
        stats = self.cache.stats
        if getattr(context.context, "plan_gave_up", False):
            stats.fallback("failed")
            return
        plan, coerced = self.cache.plan(
            context.query, document, context.operation_name, context.variables
        )
        if isinstance(plan, str):
            stats.fallback(_reason(plan))
            return
        try:
            data = await plan.run(context.context, coerced)
        except Unsupported as reason:
            stats.fallback(_reason(str(reason)))
            return
        except Exception:  # the reference executor answers, errors included
            log.debug("a compiled read failed; graphql-core answers", exc_info=True)
            stats.fallback("failed")
            return
        stats.hits += 1
        context.result = ExecutionResult(data=data, errors=None)


def _reason(text: str) -> str:
    """A short, bounded label for /metrics (no user input in it)."""
    for label in (
        "a mutation",
        "a subscription",
        "field extensions",
        "has no reader",
        "resolver that needs",
        "non-null",
        "directive",
        "@defer",
        "variables",
        "no single operation",
        "root field __",
    ):
        if label in text:
            return label.strip("_ @").replace(" ", "_")
    return "other"
