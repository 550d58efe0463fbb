"""A hypothesis strategy of read documents shaped like a frontend's: selections over the
real schema's types with aliases, named and inline fragments, `@skip`/`@include` driven by
a variable, and arguments drawn from values that mean something in the test newsroom
(real and unknown slugs, good and bad cursors, drafts and scheduled items, page sizes in
and out of bounds). hypothesis-graphql covers the schema's whole argument space; this
covers what plans must get right when the answer has data."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)
from hypothesis import strategies as st

__all__ = ["documents"]

ROOTS = ["feed", "contents", "article", "videoEpisode", "author", "sections", "node", "search"]


class _Enum(str):
    """An enum value: written bare, not quoted."""


def _literal(value: Any) -> str:
    if isinstance(value, _Enum):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return str(value)


def _pools(names: dict[str, str]) -> dict[str, list[Any]]:
    return {
        # Mostly values that answer with data; now and then one that is refused.
        "first": [None, None, None, 1, 2, 3, 20, 20, 0, 101, -1],
        "after": [None, None, None, None, "CURSOR", "CURSOR", "not-a-cursor"],
        "slug": [
            "volunteers-rebuild-the-library", "newsroom-weekly", "a-draft", "scheduled-story",
            "news-desk", "iryna-zavolska", "no-such-thing", "",
        ],
        "section": [None, "war", "nowhere"],
        "tag": [None, "kyiv", "culture"],
        "author": [None, "news-desk", "nobody"],
        "kinds": [None, [_Enum("ARTICLE")], [_Enum("VIDEO_EPISODE")], []],
        "locale": [None, "uk", "en", "xx"],
        "format": [None, _Enum("HTML"), _Enum("MARKDOWN"), _Enum("TEXT")],
        "id": [names["ARTICLE"], names["AUTHOR"], names["SECTION"], "bm90LWFuLWlk", "x"],
        "query": ["library", "library", "war library", "brief", "zzz", "КИЇВ", ""],
        "status": [
            None, [_Enum("DRAFT")], [_Enum("SCHEDULED"), _Enum("PUBLISHED")], [_Enum("ARCHIVED")]
        ],
    }  # fmt: skip


@st.composite
def _arguments(draw: st.DrawFn, field: GraphQLField, pools: dict[str, list[Any]]) -> str:
    given = []
    for name, argument in field.args.items():
        pool = pools.get(name)
        if pool is None:
            continue
        value = draw(st.sampled_from(pool))
        required = str(argument.type).endswith("!")
        if value is None and not required:
            continue
        if value is None:
            value = next(v for v in pool if v is not None)
        given.append(f"{name}: {_literal(value)}")
    return f"({', '.join(given)})" if given else ""


def _selectable(type_: GraphQLObjectType | GraphQLInterfaceType) -> list[str]:
    return [name for name in type_.fields if name != "revisions"] + ["__typename"]


@st.composite
def _selection(
    draw: st.DrawFn,
    schema: GraphQLSchema,
    type_: GraphQLObjectType | GraphQLInterfaceType,
    depth: int,
    pools: dict[str, list[Any]],
) -> str:
    names = _selectable(type_)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    parts = []
    for name in chosen:
        alias = draw(st.sampled_from(["", "", "", f"{name.strip('_')}A: "]))
        directive = draw(st.sampled_from(["", "", "", " @skip(if: $flag)", " @include(if: $flag)"]))
        if name == "__typename":
            parts.append(f"{alias}__typename{directive}")
            continue
        field = type_.fields[name]
        named = get_named_type(field.type)
        arguments = draw(_arguments(field, pools))
        if is_leaf_type(named):
            parts.append(f"{alias}{name}{arguments}{directive}")
            continue
        if depth <= 0:
            continue
        inner = draw(_selection(schema, named, depth - 1, pools))  # type: ignore[arg-type]
        if is_abstract_type(named):
            for possible in schema.get_possible_types(named):  # type: ignore[arg-type]
                if draw(st.booleans()):
                    extra = draw(_selection(schema, possible, depth - 1, pools))
                    inner += f" ... on {possible.name} {{ {extra} }}"
        parts.append(f"{alias}{name}{arguments}{directive} {{ {inner} }}")
    if not parts:
        parts.append("__typename")
    if draw(st.booleans()):  # the same again, through a fragment on the type
        parts.append(f"...{type_.name}Bits")
    return " ".join(parts)


@st.composite
def documents(draw: st.DrawFn, schema: GraphQLSchema, names: dict[str, str]) -> tuple[str, dict]:
    """(document, variables): one to three read roots, a `$flag` for the directives."""
    pools = _pools(names)
    query = schema.query_type
    assert query is not None
    roots = draw(st.lists(st.sampled_from(ROOTS), min_size=1, max_size=2, unique=True))
    parts = []
    fragments: dict[str, str] = {}
    for index, root in enumerate(roots):
        field = query.fields[root]
        arguments = draw(_arguments(field, pools))
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(f"r{index}: {root}{arguments}")
            continue
        inner = draw(_selection(schema, named, 3, pools))  # type: ignore[arg-type]
        parts.append(f"r{index}: {root}{arguments} {{ {inner} }}")
    body = " ".join(parts)
    for type_name in sorted(schema.type_map):
        if f"...{type_name}Bits" in body and type_name not in fragments:
            type_ = schema.type_map[type_name]
            fragments[type_name] = draw(_selection(schema, type_, 0, pools)).replace(
                f"...{type_name}Bits", ""
            ) or "__typename"  # fmt: skip
    flagged = "$flag" in body or any("$flag" in part for part in fragments.values())
    text = ("query Q($flag: Boolean!) { " if flagged else "query Q { ") + body + " }"
    for type_name, selection in fragments.items():
        text += (
            f" fragment {type_name}Bits on {type_name} {{ {selection.strip() or '__typename'} }}"
        )
    return text, ({"flag": draw(st.booleans())} if flagged else {})
