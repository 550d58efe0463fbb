"""The schema's extensions, chosen from settings: error codes, query limits (depth,
aliases, tokens), introspection and suggestions (off in production), the parser and
validation caches, error masking in production, and compiled reads (last: they answer
after parsing and validation, before execution)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

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

from cms.config import Settings
from schema.errors import ErrorCodes, is_expected
from schema.plans.extension import CompiledReads, PlanCache

__all__ = ["extensions"]


def _should_mask(error: GraphQLError) -> bool:
    return not is_expected(error)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class HideSuggestions(SchemaExtension):
    """Drop graphql-core's "Did you mean …?" from error messages: with introspection off
    they would still spell out the schema's names to whoever guesses near them."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in (result.errors if result is not None else None) or ():
            if "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)


def extensions(
    settings: Settings, *, plans: PlanCache | None = None
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
    if not settings.introspection_enabled:
        chosen.append(HideSuggestions)
    if settings.is_production:
        chosen.append(lambda: MaskErrors(should_mask_error=_should_mask))
    if plans is not None:
        chosen.append(lambda: CompiledReads(cache=plans))
    return chosen
