"""The estimate of what an operation may return (schema/cost.py), exactly, for documents
that use each thing the walk must see through: connections nested in lists, page sizes
from literals, variables and their defaults, fragments, inline fragments on an interface,
aliases, merged fields, @skip/@include, introspection and mutations. No database: the
estimate is made before any SQL."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import parse, validate
from strawberry.directive import DirectiveLocation, DirectiveValue

from cms.config import Settings
from schema import build_schema
from schema.cost import LIST_BOUNDS, OTHER_LISTS, Costs

# One item with everything a feed shows: the item, its section and hero image, its
# bylines (10) with an avatar each, its tags (20).
ITEM = "id title section { name } heroImage { url } authors { name avatar { url } } tags { name }"
ITEM_COST = 1 + 1 + 1 + LIST_BOUNDS["Content.authors"] * 2 + LIST_BOUNDS["Content.tags"]

# The issue's query: a page of 100, each byline's 100 items, each of their bylines' 100.
NESTED = """{ feed(first: 100) { edges { node { title authors { content(first: 100) {
  edges { node { authors { content(first: 100) { edges { node { title } } } } } } } } } } } }"""
NESTED_COST = 100 + 100 * 10 + 100 * 10 * 100 + 100 * 10 * 100 * 10 + 100 * 10 * 100 * 10 * 100

IDS = "edges { node { id } }"
BY_N = "query Q($n: Int) { feed(first: $n) { " + IDS + " } }"
BY_N_7 = "query Q($n: Int = 7) { feed(first: $n) { " + IDS + " } }"
WITH = (
    "query Q($with: Boolean!) { feed(first: 10) { edges { node { id "
    "authors @include(if: $with) { name } } } } }"
)
SKIP = (
    "query Q($skip: Boolean = true) { feed(first: 10) { edges { node { id "
    "... on Article @skip(if: $skip) { tags { name } } } } } }"
)
FRAGMENTS = (
    "{ feed(first: 2) { ...Page } } "
    "fragment Page on ContentConnection { edges { node { ...Item } } } "
    "fragment Item on Content { authors { name } ... on Article { tags { name } } }"
)
AUTHOR_PAGE = (
    'query Q($n: Int) { author(slug: "a") { avatar { url } content(first: $n) { ' + IDS + " } } }"
)
MUTATION = (
    'mutation { createArticle(input: {title: "T"}) { '
    "... on Article { id authors { name } } ... on ValidationError { message } } }"
)

CASES: list[tuple[str, dict[str, Any] | None, int]] = [
    ("{ feed { edges { node { title } } } }", None, 20),  # the default page
    (
        f"{{ feed(first: 5) {{ edges {{ cursor node {{ {ITEM} }} }} pageInfo {{ endCursor }} }} }}",
        None,
        5 * ITEM_COST,
    ),
    ("{ feed(first: 0) { pageInfo { hasNextPage } } }", None, 0),
    ("{ feed(first: 1000) { " + IDS + " } }", None, 100),  # CMS_MAX_PAGE_SIZE
    ("{ feed(first: null) { " + IDS + " } }", None, 20),
    (NESTED, None, NESTED_COST),
    # aliases: two pages; merged fields: one
    ("{ a: feed(first: 3) { " + IDS + " } b: feed(first: 4) { " + IDS + " } }", None, 7),
    ("{ feed(first: 2) { edges { node { title } node { authors { name } } } } }", None, 2 * 11),
    # a page's items are counted once, however many times its edges are selected
    ("{ feed(first: 2) { a: edges { node { id } } b: edges { node { id } } } }", None, 2),
    ("{ feed(first: 2) { a: edges { cursor } b: edges { node { tags { name } } } } }", None, 42),
    ("{ feed(first: 3) { edges { cursor } } }", None, 3),  # the page loads them all the same
    ("{ feed(first: 3) { pageInfo { endCursor } } }", None, 3),
    # named fragments, and an inline fragment on one kind: the costlier kind counts
    (FRAGMENTS, None, 2 * (1 + 10 + 20)),
    # variables: given, defaulted, null, absent (the argument's default), out of range
    (BY_N_7, None, 7),
    (BY_N_7, {"n": 3}, 3),
    (BY_N_7, {"n": None}, 20),
    (BY_N, {}, 20),
    (BY_N, {"n": 500}, 100),
    (BY_N, {"n": -5}, 0),
    (BY_N, {"n": 4.0}, 4),
    ("query Q($n: Int = null) { feed(first: $n) { " + IDS + " } }", None, 20),
    # a default the estimate does not read (a String) leaves the page sizes alone
    (
        'query Q($slug: String = "a", $n: Int = 5) { author(slug: $slug) { '
        "content(first: $n) { " + IDS + " } } }",
        None,
        1 + 5,
    ),
    # two page sizes from variables multiply; an empty page costs nothing under it
    (
        "query Q($n: Int, $m: Int) { feed(first: $n) { edges { node { authors { "
        "content(first: $m) { " + IDS + " } } } } } }",
        {"n": 2, "m": 3},
        2 * (1 + 10 * (1 + 3)),
    ),
    (
        "query Q($m: Int) { feed(first: 0) { edges { node { authors { "
        "content(first: $m) { " + IDS + " } } } } } }",
        {"m": 50},
        0,
    ),
    (AUTHOR_PAGE, {"n": 50}, 1 + 1 + 50),
    # @skip / @include, literal and from variables (and their defaults)
    ("{ feed(first: 10) { edges { node { id authors @skip(if: true) { name } } } } }", None, 10),
    (WITH, {"with": False}, 10),
    (WITH, {"with": True}, 10 + 100),
    (SKIP, None, 10),
    (SKIP, {"skip": False}, 10 + 200),
    # plain lists at their bounds; leaves and introspection count nothing
    ("{ sections { name } me { name } }", None, LIST_BOUNDS["Query.sections"] + 1),
    ('{ article(slug: "a") { revisions { title } } }', None, 1 + LIST_BOUNDS["Content.revisions"]),
    ("{ webhooks { url events deliveries(first: 5) { status } } }", None, 100 * (1 + 5)),
    ("{ webhooks { deliveries { status } } }", None, 100 * (1 + 20)),
    ("{ __typename __schema { types { name fields { name args { name } } } } }", None, 0),
    ('{ node(id: "x") { id ... on Author { content(first: 3) { ' + IDS + " } } } }", None, 4),
    # a mutation: its result union at the costliest member
    (MUTATION, None, 1 + 10),
]


@pytest.fixture(scope="module")
def costs() -> Costs:
    return build_schema(Settings(database_url="sqlite://:memory:", env="test")).costs


@pytest.mark.parametrize(("query", "variables", "expected"), CASES)
def test_estimates(
    costs: Costs, query: str, variables: dict[str, Any] | None, expected: int
) -> None:
    document = parse(query)
    assert validate(costs.schema, document) == []
    assert costs.estimate(query, document, None, variables) == expected
    # Compiled once: asked again (as the HTTP view asks, without the document), the same.
    assert costs.estimate(query, None, None, variables) == expected


def test_an_estimate_is_compiled_once_per_document_and_directive_values(costs: Costs) -> None:
    query = (
        "query Q($n: Int, $with: Boolean!) { feed(first: $n) { edges { node { id "
        "authors @include(if: $with) { name } } } } }"
    )
    document = parse(query)
    assert costs.estimate(query, document, None, {"n": 2, "with": True}) == 2 * 11
    # Other page sizes come from the compiled estimate; other directive values need the
    # document (the HTTP view then lets Strawberry's pipeline compile them).
    assert costs.estimate(query, None, None, {"n": 7, "with": True}) == 7 * 11
    assert costs.estimate(query, None, None, {"n": 7, "with": False}) is None
    assert costs.estimate(query, document, None, {"n": 7, "with": False}) == 7


def test_no_estimate_for_variables_that_do_not_fit(costs: Costs) -> None:
    """graphql-core reports them; the estimate stands aside."""
    query = "query Q($n: Int, $with: Boolean!) { feed(first: $n) { edges { node { id } } } }"
    document = parse(query)
    assert costs.estimate(query, document, None, {"n": "many", "with": True}) is None
    assert costs.estimate(query, document, None, {"n": 2}) is None  # $with is required
    assert costs.estimate(query, document, None, {"n": 2, "with": "yes"}) is None
    # Compiled already, the estimate still refuses a page size that is not an Int.
    assert costs.estimate(query, document, None, {"n": 2, "with": True}) == 2
    assert costs.estimate(query, None, None, {"n": "many", "with": True}) is None
    assert costs.estimate(query, None, None, {"n": 3.5, "with": True}) is None


def test_no_estimate_when_a_directive_is_given_null(costs: Costs) -> None:
    """A nullable variable with a default may stand where @include needs a Boolean!;
    given null, graphql-core refuses it when it collects the fields, and so does the
    estimate (the response carries graphql-core's error)."""
    query = (
        "query Q($with: Boolean = true) { feed(first: 2) { edges { node { id "
        "authors @include(if: $with) { name } } } } }"
    )
    document = parse(query)
    assert validate(costs.schema, document) == []
    assert costs.estimate(query, document, None, {}) == 2 * 11
    assert costs.estimate(query, document, None, {"with": None}) is None


def test_no_estimate_without_a_single_operation(costs: Costs) -> None:
    query = "query A { sections { name } } query B { me { name } }"
    assert costs.estimate(query, parse(query), None, None) is None
    assert costs.estimate(query, parse(query), "B", None) == 1


@strawberry.type
class Cell:
    value: int


@strawberry.type
class Grid:
    rows: list[list[Cell]]  # a list of lists, named in no bound
    notes: list[str]


@strawberry.directive(locations=[DirectiveLocation.FIELD])
def marked(value: DirectiveValue[int], note: str) -> int:
    return value


@strawberry.type
class GridQuery:
    @strawberry.field
    def grid(self) -> Grid:
        return Grid(rows=[], notes=[])


def test_any_schema_is_estimated_lists_of_lists_at_each_level_and_unnamed_lists_at_the_most() -> (
    None
):
    """The walk knows no Newsdesk type: a list not in LIST_BOUNDS counts OTHER_LISTS items,
    each level of a list of lists counts its bound, and a directive other than @skip and
    @include (whatever its variables) changes nothing."""
    costs = Costs(Settings(database_url="sqlite://:memory:", env="test"))
    costs.bind(strawberry.Schema(query=GridQuery, directives=[marked]))
    query = "query Q($note: String!) { grid { notes rows { value @marked(note: $note) } } }"
    document = parse(query)
    assert validate(costs.schema, document) == []
    assert costs.estimate(query, document, None, {"note": "x"}) == 1 + OTHER_LISTS * OTHER_LISTS
