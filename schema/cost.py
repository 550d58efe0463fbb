"""What an operation may cost: the most objects it could return (CMS_MAX_NODES), estimated
after validation and before any SQL, as GitHub's GraphQL API estimates its node limit.

Every object the response could hold counts one: a content item, a byline, a tag, a
section, a medium, a revision, a viewer, a mutation's result. A list counts its items at
their bound, and everything under a list is multiplied by it:

* a connection (a type with `edges` and `pageInfo`) at its page size, the items it may
  load whatever is selected of them: `first` (or `last`), or the field's default page
  size when absent or null, never above CMS_MAX_PAGE_SIZE. An item is one object: the
  connection, its edges (aliased or not), the edge's `node` and `pageInfo` add nothing,
  so a page of 20 items costs 20;
* a plain list at its bound in `LIST_BOUNDS` (by `Type.field`, or an interface's field),
  or `OTHER_LISTS` for a list not named there; a list with a `first` argument at that,
  within its bound;
* an abstract type (an interface or a union) at its costliest possible type;
* leaves and lists of leaves, introspection (read from memory) and `__typename`: nothing.

graphql-core's own field collection (`collect_fields`/`collect_subfields`, as the compiled
plans use) decides what is selected: fragments, inline fragments, aliases, merged fields,
and `@skip`/`@include` with their variables. The walk runs once per (document, operation,
values of the variables those directives read) and leaves either a number or, when a page
size comes from a variable, a small function of the variables; a request reads the
variables it needs and evaluates that: a few dictionary reads on the hot path.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Undefined

from cms.config import Settings
from cms.webhooks.service import MAX_DELIVERIES
from schema import documents
from schema.types.connections import DEFAULT_PAGE_SIZE

__all__ = [
    "CODE",
    "LIST_BOUNDS",
    "OTHER_LISTS",
    "Costs",
    "refusal",
]

CODE: Final = "MAX_NODES_EXCEEDED"

# Lists without a page size, counted at these many items. Bylines, tags, corrections and
# revisions have no limit of their own in the model: these are a newsroom's generous
# ceilings (no story of the demo newsroom comes near them), so the estimate of a full feed
# page (100 items with section, hero image, bylines with avatars and tags) is 4,300 and
# leaves room under the default CMS_MAX_NODES for one more level of nesting.
LIST_BOUNDS: Final[Mapping[str, int]] = {
    "Content.authors": 10,  # bylines of one item
    "Content.tags": 20,
    "Content.corrections": 20,  # appended only; a story with more is rare
    "Content.translations": 10,  # one per other locale
    "Content.revisions": 100,  # token holders only; history grows, this is the estimate
    "Query.sections": 100,
    "Query.pinned": 10,  # CMS_MAX_PINNED: 3 by default, at most 10
    "Query.webhooks": 100,
    "Webhook.deliveries": MAX_DELIVERIES,  # the service never returns more
}
OTHER_LISTS: Final = 100  # any list of objects not named above (CMS_MAX_PAGE_SIZE's default)

_PAGE_ARGUMENTS: Final = ("first", "last")

# An amount: a number, or a function of the variables a page size reads.
Values: TypeAlias = Mapping[str, Any]
Amount: TypeAlias = int | Callable[[Values], int]


def refusal(cost: int, limit: int, operation: str = "query") -> GraphQLError:
    """The error of an operation refused for its estimate (HTTP 400, nothing runs)."""
    return GraphQLError(
        f"This {operation} could return up to {cost:,} objects; "
        f"the limit is {limit:,} (CMS_MAX_NODES).",
        extensions={"code": CODE, "cost": cost, "limit": limit},
    )


# --- amounts ----------------------------------------------------------------------------


def _plus(parts: Iterable[Amount]) -> Amount:
    constant = 0
    functions: list[Callable[[Values], int]] = []
    for part in parts:
        if isinstance(part, int):
            constant += part
        else:
            functions.append(part)
    if not functions:
        return constant
    if len(functions) == 1 and constant == 0:
        return functions[0]
    return lambda values: constant + sum(function(values) for function in functions)


def _times(bound: Amount, each: Amount) -> Amount:
    if isinstance(bound, int) and isinstance(each, int):
        return bound * each
    if bound == 0 or each == 0:
        return 0
    if isinstance(bound, int):
        assert not isinstance(each, int)
        return lambda values: bound * each(values)
    if isinstance(each, int):
        return lambda values: bound(values) * each
    return lambda values: bound(values) * each(values)


def _most(parts: list[Amount]) -> Amount:
    if all(isinstance(part, int) for part in parts):
        return max((part for part in parts if isinstance(part, int)), default=0)
    return lambda values: max(part if isinstance(part, int) else part(values) for part in parts)


def _within(value: Any, default: int, bound: int) -> int:
    """A page of `value` items: the default when null, never below 0 nor above `bound`
    (a page size out of range is refused by the resolver: it returns nothing)."""
    if value is None:
        return min(default, bound)
    return max(0, min(int(value), bound))


# --- the schema's shapes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Types:
    """What the walk needs to know of the schema, found once."""

    schema: GraphQLSchema
    connections: frozenset[str]  # types with `edges` and `pageInfo`
    edges: frozenset[str]  # their edges' types: the `node` under one is its page's item
    wrappers: frozenset[str]  # connections, edges and page infos: no objects of their own

    @classmethod
    def of(cls, schema: GraphQLSchema) -> _Types:
        connections: set[str] = set()
        edges: set[str] = set()
        wrappers: set[str] = set()
        for type_ in schema.type_map.values():
            if isinstance(type_, GraphQLObjectType) and {"edges", "pageInfo"} <= set(type_.fields):
                connections.add(type_.name)
                edges.add(_named(type_.fields["edges"].type).name)
                wrappers.add(_named(type_.fields["pageInfo"].type).name)
        wrappers |= connections | edges
        return cls(schema, frozenset(connections), frozenset(edges), frozenset(wrappers))


def _named(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _list_depth(type_: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            depth += 1
        type_ = type_.of_type
    return depth


# --- the walk ---------------------------------------------------------------------------


class _Walk:
    """One operation's estimate, for given values of its directives' variables."""

    def __init__(
        self,
        types: _Types,
        bounds: Mapping[str, int],
        max_page_size: int,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        variable_values: Any,
        variable_defaults: Mapping[str, Any],
    ) -> None:
        self.types = types
        self.schema = types.schema
        self.bounds = bounds
        self.max_page_size = max_page_size
        self.fragments = {name: FragmentDetails(node) for name, node in fragments.items()}
        self.operation = operation
        self.variable_values = variable_values
        self.defaults = variable_defaults
        self.variables: set[str] = set()  # the variables the amount reads
        self._objects: dict[tuple[str, bool, tuple[int, ...]], Amount] = {}

    def root(self) -> Amount:
        root_type = self.schema.get_root_type(self.operation.operation)
        assert root_type is not None  # validated: the schema has the operation's root type
        collected = collect_fields(
            self.schema, self.fragments, self.variable_values, root_type, self.operation
        )
        return self._fields(root_type, collected.grouped_field_set)

    def _fields(self, parent: GraphQLObjectType, grouped: Mapping[str, FieldDetailsList]) -> Amount:
        return _plus(self._field(parent, details) for details in grouped.values())

    def _field(self, parent: GraphQLObjectType, details: FieldDetailsList) -> Amount:
        node = details[0].node
        name = node.name.value
        if name.startswith("__"):  # introspection and __typename: read from memory
            return 0
        definition = parent.fields[name]
        named = _named(definition.type)
        if is_leaf_type(named):
            return 0
        depth = _list_depth(definition.type)
        if parent.name in self.types.connections:  # edges, pageInfo: per item of the page
            return self._object(named, details)
        if parent.name in self.types.edges:  # the edge's node: the item, counted already
            return self._object(named, details, counted=False)
        if named.name in self.types.connections:  # a page: its items, and what is under them
            cap = self.max_page_size
            page = self._page(definition, node, default=DEFAULT_PAGE_SIZE, cap=cap, fixed=cap)
            return _times(page, _plus([1, self._object(named, details)]))
        bound: Amount = 1
        if depth:
            cap = self._list_bound(parent, name)
            bound = self._page(definition, node, default=DEFAULT_PAGE_SIZE, cap=cap, fixed=cap)
            for _ in range(depth - 1):  # a list of lists: each level at the bound
                bound = _times(bound, cap)
        return _times(bound, self._object(named, details))

    def _list_bound(self, parent: GraphQLObjectType, name: str) -> int:
        for owner in (parent, *parent.interfaces):
            bound = self.bounds.get(f"{owner.name}.{name}")
            if bound is not None:
                return bound
        return OTHER_LISTS

    def _page(
        self, definition: GraphQLField, node: FieldNode, *, default: int, cap: int, fixed: int
    ) -> Amount:
        """The items of a list or connection: its `first`/`last` within `cap`; `fixed`
        when it has no page argument."""
        argument = next((name for name in _PAGE_ARGUMENTS if name in definition.args), None)
        if argument is None:
            return fixed
        given: ValueNode | None = next(
            (arg.value for arg in node.arguments or () if arg.name.value == argument), None
        )
        declared = definition.args[argument].default_value
        declared = None if declared is Undefined else declared
        if given is None:
            return _within(declared, default, cap)
        if isinstance(given, NullValueNode):
            return _within(None, default, cap)
        if isinstance(given, IntValueNode):
            return _within(int(given.value), default, cap)
        if isinstance(given, VariableNode):
            variable = given.name.value  # the operation's own: the document is validated
            self.variables.add(variable)
            # A variable that is neither given nor defaulted leaves the argument's default.
            fallback = self.defaults[variable]
            fallback = declared if fallback is Undefined else fallback

            def page(values: Values) -> int:
                return _within(values.get(variable, fallback), default, cap)

            return page
        return cap  # pragma: no cover - validation allows nothing else for an Int

    def _object(self, type_: Any, details: FieldDetailsList, *, counted: bool = True) -> Amount:
        """One object of `type_` (itself unless not `counted`) and what is selected under
        it; a connection's wrappers are never objects of their own."""
        key = (type_.name, counted, tuple(id(detail.node) for detail in details))
        known = self._objects.get(key)
        if known is not None:
            return known
        if is_abstract_type(type_):
            amount = _most(
                [
                    self._object(possible, details, counted=counted)
                    for possible in self.schema.get_possible_types(type_)
                ]
            )
        else:
            collected = collect_subfields(
                self.schema, self.fragments, self.variable_values, self.operation, type_, details
            )
            own = int(counted and type_.name not in self.types.wrappers)
            amount = _plus([own, self._fields(type_, collected.grouped_field_set)])
        self._objects[key] = amount
        return amount


# --- per document -----------------------------------------------------------------------


_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class _Shape:
    """A document's operation, and what its estimates read of the variables."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    directive_variables: tuple[str, ...]
    # The default of each variable (Undefined when it has none), as a literal's value.
    defaults: Mapping[str, Any]


def _literal(node: ValueNode | None) -> Any:
    """The value of a variable's default, for the kinds an estimate reads (Int, Boolean,
    null); anything else is Undefined (the variable is then not one an estimate reads)."""
    if node is None:
        return Undefined
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, BooleanValueNode):
        return node.value
    return Undefined


@dataclass(frozen=True, slots=True)
class _Estimate:
    amount: Amount
    variables: tuple[str, ...]


class Costs:
    """Estimates per document text, operation and directive values (bounded, LRU)."""

    def __init__(self, settings: Settings, *, maxsize: int = 512) -> None:
        self.limit = settings.max_nodes
        self.max_page_size = settings.max_page_size
        self.bounds = LIST_BOUNDS
        self.maxsize = maxsize
        self._shapes: dict[tuple[str, str | None], _Shape | None] = {}
        self._estimates: OrderedDict[tuple[Any, ...], _Estimate] = OrderedDict()

    def bind(self, strawberry_schema: Any) -> None:
        """The schema estimates are made against (it is built after its extensions)."""
        self.schema: GraphQLSchema = strawberry_schema._schema  # noqa: SLF001 - graphql-core's
        self.types = _Types.of(self.schema)

    def _shape(
        self, query: str, document: DocumentNode, operation_name: str | None
    ) -> _Shape | None:
        operation = get_operation_ast(document, operation_name)
        shape = None
        if operation is not None:
            shape = _Shape(
                operation,
                documents.fragments(document),
                documents.directive_variables(document),
                {
                    definition.variable.name.value: _literal(definition.default_value)
                    for definition in operation.variable_definitions or ()
                },
            )
        if len(self._shapes) >= self.maxsize:
            self._shapes.clear()
        self._shapes[(query, operation_name)] = shape
        return shape

    def estimate(
        self,
        query: str,
        document: DocumentNode | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        """The estimate of a validated document's operation; None when there is none to
        make: no single operation, or variables that do not fit their types (graphql-core
        reports those). Without `document`, only what is already compiled is estimated."""
        key = (query, operation_name)
        shape = self._shapes.get(key, _MISSING)
        if shape is _MISSING:
            if document is None:
                return None
            shape = self._shape(query, document, operation_name)
        if shape is None:
            return None
        assert isinstance(shape, _Shape)
        values = variables or {}
        directives = tuple(_simple(values, name, shape) for name in shape.directive_variables)
        if _MISSING in directives:  # not a Boolean: graphql-core refuses it, as the estimate
            return None
        estimate_key = (query, operation_name, directives)
        estimate = self._estimates.get(estimate_key)
        if estimate is None:
            if document is None:
                return None
            compiled = self._compile(shape, values)
            if compiled is None:
                return None
            estimate = compiled
            self._estimates[estimate_key] = estimate
            if len(self._estimates) > self.maxsize:
                self._estimates.popitem(last=False)
        else:
            self._estimates.move_to_end(estimate_key)
        if isinstance(estimate.amount, int):
            return estimate.amount
        read = _read(values, estimate.variables, shape)
        if read is None:
            coerced = self._coerced(shape, values)
            if coerced is None:
                return None
            read = coerced
        return estimate.amount(read)

    def _coerced(self, shape: _Shape, values: Mapping[str, Any]) -> dict[str, Any] | None:
        coerced = get_variable_values(
            self.schema, shape.operation.variable_definitions or (), dict(values)
        )
        return None if isinstance(coerced, list) else coerced.coerced

    def _compile(self, shape: _Shape, values: Mapping[str, Any]) -> _Estimate | None:
        coerced = get_variable_values(
            self.schema, shape.operation.variable_definitions or (), dict(values)
        )
        if isinstance(coerced, list):
            return None
        walk = _Walk(
            self.types,
            self.bounds,
            self.max_page_size,
            shape.fragments,
            shape.operation,
            coerced,
            shape.defaults,
        )
        try:
            amount = walk.root()
        except GraphQLError:  # a directive's value graphql-core refuses: it reports it
            return None
        return _Estimate(amount, tuple(sorted(walk.variables)))


def _simple(values: Mapping[str, Any], name: str, shape: _Shape) -> Any:
    """A Boolean variable's value as given (or its default); _MISSING when it is given
    but not a Boolean (graphql-core's coercion refuses anything else for a Boolean)."""
    value = values.get(name, _MISSING)
    if value is _MISSING:
        default = shape.defaults.get(name, Undefined)
        return None if default is Undefined else default
    return value if value is None or value.__class__ is bool else _MISSING


def _read(values: Mapping[str, Any], names: tuple[str, ...], shape: _Shape) -> Values | None:
    """The Int variables a page size reads, as given or defaulted (a variable neither
    given nor defaulted is left out: the argument's default applies); None when one needs
    graphql-core's coercion (a float, a string: it may be refused)."""
    read: dict[str, Any] = {}
    for name in names:
        value = values.get(name, _MISSING)
        if value is _MISSING:
            default = shape.defaults.get(name, Undefined)
            if default is not Undefined:
                read[name] = default
        elif value is None or value.__class__ is int:
            read[name] = value
        else:
            return None
    return read
