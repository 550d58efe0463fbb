"""The schema's extensions, chosen from settings: error codes, query limits (depth,
aliases, tokens), introspection and suggestions (off in production), the parser and
validation caches, the cost estimate and the time budget, error masking in production,
and compiled reads (last: they answer after parsing and validation, before execution)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types.graphql import OperationType

from cms import budget
from cms.config import Settings
from schema.cost import Costs, refusal
from schema.errors import ErrorCodes, is_expected
from schema.plans.extension import CompiledReads, PlanCache

__all__ = ["MaskServerErrors", "OperationLimits", "extensions"]


def _should_mask(error: GraphQLError) -> bool:
    return not is_expected(error)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class HideSuggestions(SchemaExtension):
    """Drop graphql-core's "Did you mean …?" from error messages: with introspection off
    they would still spell out the schema's names to whoever guesses near them."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        _hide_suggestions(result.errors if result is not None else None)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Over WebSocket each result is sent before on_operation ends: hide them first."""
        _hide_suggestions(getattr(result, "errors", None))
        yield


def _hide_suggestions(errors: list[GraphQLError] | None) -> None:
    for error in errors or ():
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)


class OperationLimits(SchemaExtension):
    """The cost estimate (CMS_MAX_NODES) of a validated operation, before anything runs,
    and the time budget (CMS_QUERY_TIMEOUT_MS) around a query's execution.

    It comes after the validation cache, which has validated the document (or found it
    invalid) by the time this `on_validate` runs; a refusal is then a request error, as a
    validation error is: over HTTP a 400 with no `data`, over WebSocket an `error` message.
    An accepted operation's estimate goes out in the response's `extensions.cost`."""

    def __init__(self, *, costs: Costs, budget_ms: int) -> None:
        self.costs = costs
        self.budget_ms = budget_ms
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors == [] and context.query is not None:  # valid
            cost = self.costs.estimate(
                context.query, context.graphql_document, context.operation_name, context.variables
            )
            if cost is not None and cost > self.costs.limit:
                kind = context.operation_type.value
                context.pre_execution_errors = [refusal(cost, self.costs.limit, kind)]
            else:
                self.cost = cost
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if (
            self.budget_ms
            and budget.deadline() is None  # the HTTP view has set the request's own
            and context.operation_type is OperationType.QUERY
        ):
            with budget.within(self.budget_ms):
                yield
        else:
            yield

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": self.cost}


class MaskServerErrors(MaskErrors):
    """Production's "Unexpected error." for a fault of the server, coded as Apollo Server
    codes it (INTERNAL_SERVER_ERROR): uncoded, ErrorCodes would take it for a validation
    error, as it has no original error left."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


def extensions(
    settings: Settings, *, plans: PlanCache | None = None, costs: Costs | None = None
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories (Strawberry makes one instance per operation).

    The depth and alias rules are built once: the validation cache is keyed by the rule
    classes, and a fresh limiter per request would make a fresh class and miss it.
    """
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection_enabled:  # CMS_INTROSPECTION, off in production
        limits.append(NoSchemaIntrospectionCustomRule)
    chosen: list[Callable[[], SchemaExtension]] = [
        ErrorCodes,
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        # Parsing and validation cost more than the SQL of a feed page: cache both.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if costs is not None:  # after the validation cache, before compiled reads
        budget_ms = settings.query_timeout_ms
        chosen.append(lambda: OperationLimits(costs=costs, budget_ms=budget_ms))
    if not settings.introspection_enabled:
        chosen.append(HideSuggestions)
    if settings.is_production:
        chosen.append(lambda: MaskServerErrors(should_mask_error=_should_mask))
    if plans is not None:
        chosen.append(lambda: CompiledReads(cache=plans))
    return chosen
