"""Generated operations: hypothesis-graphql documents over the whole schema (queries,
mutations, and documents with one schema violation), whose argument values are then
replaced with hostile ones (tests/fuzz/values.py), inline or as typed variables."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import graphql
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from tests.fuzz import values

__all__ = ["Operation", "documents", "operations"]


@dataclass(frozen=True)
class Operation:
    """One GraphQL request as the fuzzer sends it."""

    document: str
    variables: dict[str, Any]
    role: str | None
    method: str  # "POST" or "GET"
    accept: str

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.document}
        if self.variables:
            body["variables"] = self.variables
        return body

    def __repr__(self) -> str:  # hypothesis prints the draw: keep 1 MB strings out of it
        return f"Operation({self.describe()[:3000]!r})"

    def describe(self) -> str:
        variables = json.dumps(self.variables, ensure_ascii=True)
        shown = variables if len(variables) < 2000 else variables[:2000] + f"… ({len(variables)})"
        document = self.document if len(self.document) < 4000 else self.document[:4000] + "…"
        return (
            f"{self.method} /graphql as {self.role or 'anonymous'} (Accept: {self.accept})\n"
            f"document:\n{document}\nvariables: {shown}"
        )


def documents(schema: graphql.GraphQLSchema) -> st.SearchStrategy[str]:
    """Valid queries and mutations, most on one root field (each root gets its turn), some
    over several; now and then one that breaks the schema (a wrong type, a missing field)."""
    scalars = values.custom_scalar_literals(schema)
    options: dict[str, Any] = {"custom_scalars": scalars, "allow_x00": True}
    roots = [(queries, name) for name in schema.query_type.fields] if schema.query_type else []
    if schema.mutation_type is not None:
        roots += [(mutations, name) for name in schema.mutation_type.fields]
    one_root = st.sampled_from(roots).flatmap(
        lambda root: root[0](schema, fields=[root[1]], **options)
    )
    several = queries(schema, **options) | mutations(schema, **options)
    broken = queries(schema, mode=Mode.NEGATIVE, **options) | mutations(
        schema, mode=Mode.NEGATIVE, **options
    )
    return values.mostly(values.mostly(one_root, several, percent=30), broken, percent=10)


def _arguments(
    document: graphql.DocumentNode, schema: graphql.GraphQLSchema
) -> list[tuple[graphql.ArgumentNode, graphql.GraphQLInputType]]:
    """Every argument of the document's operation with the type the schema gives it."""
    found: list[tuple[graphql.ArgumentNode, graphql.GraphQLInputType]] = []
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    root = schema.get_root_type(operation.operation)

    def walk(selections: graphql.SelectionSetNode, parent: graphql.GraphQLNamedType) -> None:
        for selection in selections.selections:
            if isinstance(selection, graphql.InlineFragmentNode):
                condition = selection.type_condition
                named = schema.get_type(condition.name.value) if condition else parent
                walk(selection.selection_set, named or parent)
            elif isinstance(selection, graphql.FieldNode):
                fields = getattr(parent, "fields", {})
                definition = fields.get(selection.name.value)
                if definition is None:
                    continue
                for argument in selection.arguments or ():
                    declared = definition.args.get(argument.name.value)
                    if declared is not None:
                        found.append((argument, declared.type))
                if selection.selection_set:
                    walk(selection.selection_set, graphql.get_named_type(definition.type))

    if root is not None:
        walk(operation.selection_set, root)
    return found


def _literal(value: Any, type_: graphql.GraphQLInputType) -> graphql.ValueNode:
    """`value` written as a GraphQL literal (an enum's name as an enum value)."""
    named = graphql.get_nullable_type(type_)
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if isinstance(value, str):
        if isinstance(named, graphql.GraphQLEnumType) and value in named.values:
            return graphql.EnumValueNode(value=value)
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        item = named.of_type if isinstance(named, graphql.GraphQLList) else named
        return graphql.ListValueNode(values=tuple(_literal(v, item) for v in value))
    fields = named.fields if isinstance(named, graphql.GraphQLInputObjectType) else {}
    return graphql.ObjectValueNode(
        fields=tuple(
            graphql.ObjectFieldNode(
                name=graphql.NameNode(value=key),
                value=_literal(item, fields[key].type if key in fields else graphql.GraphQLString),
            )
            for key, item in value.items()
        )
    )


class _Replace(graphql.Visitor):
    """Puts the new argument values (keyed by the original ArgumentNode's identity) and the
    variable definitions into a copy of the document (graphql-core's nodes are frozen)."""

    def __init__(
        self,
        new_values: dict[int, graphql.ValueNode],
        definitions: list[graphql.VariableDefinitionNode],
    ) -> None:
        super().__init__()
        self.new_values = new_values
        self.definitions = definitions

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        value = self.new_values.get(id(node))
        return None if value is None else dataclasses.replace(node, value=value)

    def leave_operation_definition(self, node: graphql.OperationDefinitionNode, *_: Any) -> Any:
        return dataclasses.replace(node, variable_definitions=tuple(self.definitions))


@st.composite
def operations(
    draw: st.DrawFn, schema: graphql.GraphQLSchema, names: values.Names, role: str | None
) -> Operation:
    """A generated document with hostile argument values, as `role`, by POST or GET."""
    document = graphql.parse(draw(documents(schema)))
    definitions: list[graphql.VariableDefinitionNode] = []
    new_values: dict[int, graphql.ValueNode] = {}
    variables: dict[str, Any] = {}
    for number, (argument, type_) in enumerate(_arguments(document, schema)):
        how = draw(st.sampled_from(["variable", "inline", "variable", "generated"]))
        if how == "generated":
            continue  # hypothesis-graphql's own value
        value = draw(values.value_for(type_, names))
        if how == "inline":
            new_values[id(argument)] = _literal(value, type_)
            continue
        name = f"v{number}"
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        definitions.append(
            graphql.VariableDefinitionNode(variable=variable, type=graphql.parse_type(str(type_)))
        )
        new_values[id(argument)] = variable
        if draw(st.integers(0, 15)):  # now and then declared and left out
            variables[name] = value
    edited = graphql.visit(document, _Replace(new_values, definitions))
    return Operation(
        document=graphql.print_ast(edited),
        variables=variables,
        role=role,
        method=draw(st.sampled_from(["POST", "POST", "POST", "GET"])),
        accept=draw(
            values.mostly(
                st.sampled_from(["application/json", "application/graphql-response+json"]),
                st.sampled_from(["*/*", "text/html", "application/xml", ""]),
            )
        ),
    )
