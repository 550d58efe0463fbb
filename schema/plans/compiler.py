"""Compile a validated query into a plan that answers it without graphql-core's
field-by-field execution, calling the schema's own resolvers.

graphql-core completes every selected field of every object one at a time: it builds a
resolve info, calls a resolver, checks for an awaitable and dispatches on the field's type
(non-null, list, leaf, object, abstract), about 700 times for a 20-item feed page. All of
that is decided by the document alone. A plan decides it once per (document, operation,
values of the variables `@skip`/`@include` read): graphql-core's own `collect_fields`
fixes the response keys, their order, aliases, merged fields, fragments and directives for
each concrete type, and every field becomes a small writer chosen for its kind:

* a basic field (an attribute, Strawberry's fast path) is read with the field's own
  default resolver;
* a field with a synchronous method that needs only its object and arguments (such as
  `Article.body(format:)`) calls that method with the arguments converted by Strawberry;
* any other field (the root fields, `Author.content`, `Content.revisions`, fields with
  permissions) calls the very resolve function graphql-core would call, with a resolve
  info built the same way; awaitables are gathered level by level, as graphql-core does,
  so DataLoaders batch as they do there.

Leaves are serialised by their GraphQL type's own `serialize`, and abstract types resolve
by the Strawberry type of the object, as Strawberry's `is_type_of` does. So a plan runs the
same resolvers and services (the same SQL) and writes what graphql-core would write. It
gives up, raising `Unsupported`, on anything it does not know (an introspection or root
`__typename` field, `@defer`, a null in a non-null position, an object of an unknown
type); the caller then lets graphql-core answer, errors and all.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeGuard, cast

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from graphql.pyutils import Path
from strawberry.types.field import StrawberryField

from schema.plans.codegen import ObjectSource
from schema.plans.plan import Arguments, Converter, Pending, Plan, Run, Unsupported, Writer

__all__ = ["compile_operation"]

_ALLOWED_DIRECTIVES = frozenset({"skip", "include"})


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        variable_values: VariableValues,
        converter: Converter,
    ) -> None:
        self.schema = schema
        self.fragment_definitions = fragments
        self.fragments = {name: FragmentDetails(node) for name, node in fragments.items()}
        self.operation = operation
        self.variable_values = variable_values
        self.converter = converter
        self.arguments: list[Arguments] = []
        # Object writers by (type, the field nodes selecting it): each is built once.
        self._objects: dict[tuple[str, tuple[int, ...]], Writer] = {}

    def _slot(self, definition: GraphQLField, node: FieldNode, *, convert: bool) -> int | None:
        if not definition.args:
            return None
        sfield: StrawberryField = definition.extensions["strawberry-definition"]
        self.arguments.append(Arguments(definition, node, sfield, convert))
        return len(self.arguments) - 1

    def _grouped(self, collected: Any) -> dict[str, FieldDetailsList]:
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        grouped: dict[str, FieldDetailsList] = collected.grouped_field_set
        for details in grouped.values():
            for detail in details:
                for directive in detail.node.directives or ():
                    if directive.name.value not in _ALLOWED_DIRECTIVES:
                        raise Unsupported(f"the directive @{directive.name.value}")
        return grouped

    def root_writer(self, query: GraphQLObjectType) -> Writer:
        grouped = self._grouped(
            collect_fields(self.schema, self.fragments, self.variable_values, query, self.operation)
        )
        for details in grouped.values():
            name = details[0].node.name.value
            if name.startswith("__"):
                raise Unsupported(f"the root field {name}")
        return self._fields_writer(query, grouped)

    def object_writer(self, type_: GraphQLObjectType, details: FieldDetailsList) -> Writer:
        key = (type_.name, tuple(id(detail.node) for detail in details))
        if (known := self._objects.get(key)) is not None:
            return known
        grouped = self._grouped(
            collect_subfields(
                self.schema, self.fragments, self.variable_values, self.operation, type_, details
            )
        )
        self._objects[key] = writer = self._fields_writer(type_, grouped)
        return writer

    def _fields_writer(
        self, type_: GraphQLObjectType, grouped: dict[str, FieldDetailsList]
    ) -> Writer:
        """A writer of one object of `type_`: a dict of its selected fields, in order,
        generated as one Python function (see `ObjectSource`)."""
        source = ObjectSource(type_.name)
        for key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                source.constant(key, type_.name)
            else:
                self.field_writer(type_, key, name, details, source)
        return source.function()

    def field_writer(
        self,
        parent: GraphQLObjectType,
        key: str,
        name: str,
        details: FieldDetailsList,
        source: ObjectSource,
    ) -> None:
        """Add the writing of one selected field to its object's `source`."""
        definition = parent.fields[name]
        sfield: StrawberryField = definition.extensions["strawberry-definition"]
        where = f"{parent.name}.{name}"
        complete = self.value_writer(definition.type, details, where)
        resolver = sfield.base_resolver

        if sfield.is_basic_field and sfield.default_resolver is getattr:
            attribute = sfield.python_name
            leaf = _leaf_type(definition.type)
            if leaf is not None:  # the commonest field: an attribute and a serialize, fused
                source.leaf(key, attribute, leaf, is_non_null_type(definition.type), where)
            else:
                inner = definition.type
                if isinstance(inner, GraphQLNonNull):
                    inner = inner.of_type
                direct = self._direct_writers(inner, details) if is_object_type(inner) else {}
                source.attribute(key, attribute, complete, direct)
            return

        if resolver is not None and _plain_method(sfield):
            method = cast(Callable[..., Any], resolver.wrapped_func)  # a plain method here
            slot = self._slot(definition, details[0].node, convert=True)

            def write_method(source: Any, run: Run) -> Any:
                arguments = run.arguments[slot] if slot is not None else {}
                return complete(method(source, **arguments), run)

            source.call(key, write_method, may_wait=False)
            return

        resolve = definition.resolve
        if resolve is None:
            raise Unsupported(f"{where} has no resolve function")
        slot = self._slot(definition, details[0].node, convert=False)
        nodes = [detail.node for detail in details]

        def write_resolved(source: Any, run: Run) -> Any:
            info = GraphQLResolveInfo(
                name,
                nodes,
                definition.type,
                parent,
                Path(None, key, parent.name),
                self.schema,
                self.fragment_definitions,
                None,
                self.operation,
                run.variable_values,
                run.context,
                _is_awaitable,
                None,
                None,  # type: ignore[arg-type]  # no resolver here asks for async helpers
            )
            arguments = run.arguments[slot] if slot is not None else {}
            value = resolve(source, info, **arguments)
            if inspect.isawaitable(value):
                return Pending(value, complete)
            return complete(value, run)

        source.call(key, write_resolved, may_wait=True)

    def value_writer(
        self, type_: GraphQLOutputType, details: FieldDetailsList, where: str
    ) -> Writer:
        """Complete a value of `type_` as graphql-core's complete_value does."""
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            inner = self.value_writer(type_.of_type, details, where)
            direct = self._direct_writers(type_.of_type, details)

            def non_null(value: Any, run: Run) -> Any:
                write = direct.get(value.__class__)
                if write is not None:  # an object of a known class: its writer, at once
                    return write(value, run)
                completed = inner(value, run)
                if completed is None:
                    raise Unsupported(f"null in the non-null {where}")
                return completed

            return non_null
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            item = self.value_writer(type_.of_type, details, where)
            element_type = type_.of_type
            if isinstance(element_type, GraphQLNonNull):
                element_type = element_type.of_type
            direct = self._direct_writers(element_type, details)

            def list_(value: Any, run: Run) -> Any:
                if value.__class__ is list:
                    return [
                        write(element, run)
                        if (write := direct.get(element.__class__)) is not None
                        else item(element, run)
                        for element in value
                    ]
                if value is None:
                    return None
                if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
                    raise Unsupported(f"{where} is not a list")
                return [item(element, run) for element in value]

            return list_
        if is_leaf_type(type_):
            serialize = type_.serialize

            def leaf(value: Any, run: Run) -> Any:
                return None if value is None else serialize(value)

            return leaf
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            write = self.object_writer(type_, details)
            expected = type_.name
            origin = _origin(type_)

            def object_(value: Any, run: Run) -> Any:
                if value is None:
                    return None
                if value.__class__ is not origin and _type_name(value) != expected:
                    raise Unsupported(f"{where}: an object of {type(value).__name__}")
                return write(value, run)

            return object_
        if is_abstract_type(type_):
            writers = {
                possible.name: self.object_writer(possible, details)
                for possible in self.schema.get_possible_types(type_)
            }
            by_class = {
                _origin(possible): writers[possible.name]
                for possible in self.schema.get_possible_types(type_)
            }

            def abstract(value: Any, run: Run) -> Any:
                if value is None:
                    return None
                writer = by_class.get(value.__class__) or writers.get(_type_name(value) or "")
                if writer is None:
                    raise Unsupported(f"{where}: an object of {type(value).__name__}")
                return writer(value, run)

            return abstract
        raise Unsupported(f"{where}: {type_}")  # pragma: no cover - no other kinds exist

    def _direct_writers(
        self, type_: GraphQLOutputType, details: FieldDetailsList
    ) -> dict[type, Writer]:
        """The object writers of `type_` (an object type, or each possible type of an
        abstract one) by the Python class Strawberry made it from: a value of exactly that
        class is written by its writer at once, as `object_` or `abstract` would after
        their checks (a writer never answers None). Empty for leaves and lists."""
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            possible: Sequence[GraphQLObjectType] = [type_]
        elif is_abstract_type(type_):
            assert isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)
            possible = self.schema.get_possible_types(type_)
        else:
            return {}
        return {
            origin: self.object_writer(object_type, details)
            for object_type in possible
            if (origin := _origin(object_type)) is not None
        }


def _leaf_type(type_: GraphQLOutputType) -> GraphQLLeafType | None:
    """The leaf type of a field typed `Leaf` or `Leaf!` (None for lists and objects)."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return inner if isinstance(inner, GraphQLScalarType | GraphQLEnumType) else None


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return inspect.isawaitable(value)


def _origin(type_: GraphQLObjectType) -> type | None:
    """The Python class Strawberry made `type_` from (None if it is not Strawberry's)."""
    definition = (type_.extensions or {}).get("strawberry-definition")
    return getattr(definition, "origin", None)


def _type_name(value: Any) -> str | None:
    definition = getattr(type(value), "__strawberry_definition__", None)
    return definition.name if definition is not None else None


def _plain_method(sfield: StrawberryField) -> bool:
    """A synchronous resolver method that needs only its object and arguments, on a field
    without extensions (permissions) or anything else that Strawberry wraps around it."""
    resolver = sfield.base_resolver
    assert resolver is not None
    function = resolver.wrapped_func
    return (
        not sfield.extensions
        and not inspect.iscoroutinefunction(function)
        and not inspect.isasyncgenfunction(function)
        and not inspect.isgeneratorfunction(function)
        and resolver.self_parameter is not None
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
    )


def compile_operation(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variable_values: VariableValues,
    *,
    converter: Converter,
) -> Plan:
    """The plan of a validated query operation, for variables of this shape (what
    `@skip`/`@include` read is fixed in it: the caller keys plans by those values)."""
    if operation.operation is not OperationType.QUERY:
        raise Unsupported(f"a {operation.operation.value}")
    query = schema.query_type
    assert query is not None
    compiler = _Compiler(schema, dict(fragments), operation, variable_values, converter)
    write_root = compiler.root_writer(query)
    return Plan(schema, operation, dict(fragments), write_root, compiler.arguments, converter)
