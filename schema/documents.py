"""What the compiled plans and the cost estimate both read off a parsed document once:
its fragments by name, and the variables its `@skip`/`@include` directives depend on
(the two key their per-document work by those variables' values)."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, FragmentDefinitionNode, VariableNode, visit
from graphql.language import Visitor

__all__ = ["directive_variables", "fragments"]


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: Any, *_: Any) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The names of the variables `@skip`/`@include` take, sorted."""
    found = _DirectiveVariables()
    visit(document, found)
    return tuple(sorted(found.names))


def fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
