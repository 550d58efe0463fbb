"""What a query selects, so a resolver can load a page and its relations up front."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar, cast

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from cms.content.lookups import Include
from schema.context import Info

_T = TypeVar("_T")

__all__ = [
    "connection_include",
    "content_include",
    "fields_under",
    "item_include",
    "selected",
    "snippet_selected",
]


def selected(info: Info) -> list[Selection]:
    """What is selected under the field being resolved: the sub-selections of every
    occurrence of it (a query may select one field twice under one response key, and
    graphql-core merges them; reading only the first would load too little)."""
    return [
        selection
        for field in info.selected_fields
        if isinstance(field, SelectedField)
        for selection in field.selections
    ]


def _flatten(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _flatten(selection.selections)


def fields_under(selections: Iterable[Selection], *path: str) -> list[SelectedField]:
    """The fields selected at `path` below `selections`, through fragments and aliases."""
    current = list(_flatten(selections))
    for name in path:
        current = [
            child
            for selected in current
            if selected.name == name
            for child in _flatten(selected.selections)
        ]
    return current


def content_include(fields: Iterable[SelectedField]) -> Include:
    """What to load for content items whose selected fields are `fields`."""
    by_name: dict[str, list[SelectedField]] = {}
    for selected in fields:
        by_name.setdefault(selected.name, []).append(selected)
    authors = by_name.get("authors", [])
    return Include(
        body="body" in by_name,
        section="section" in by_name,
        hero_image="heroImage" in by_name,
        authors=bool(authors),
        avatars=any(field.name == "avatar" for field in fields_under(authors, "authors")),
        tags="tags" in by_name,
    )


# (what is read, ids of the field's nodes) -> (the nodes, the answer). The nodes are kept
# so their ids stay theirs; a document's nodes are the same objects on every request that
# sends it (parsed once), so the selection is read once per document, not per request.
_READ: dict[tuple[object, tuple[int, ...]], tuple[tuple[Any, ...], Any]] = {}
_READ_LIMIT = 4_096


def _once(info: Info, what: object, read: Callable[[], _T]) -> _T:
    """`read()` of the field being resolved, remembered for its nodes (`what` names the
    reading). It may depend on the field's nodes alone: Strawberry's selection neither
    applies `@skip`/`@include` nor reads variables for the names it gives."""
    nodes = tuple(info._raw_info.field_nodes)  # noqa: SLF001 - graphql-core's resolve info
    key = (what, tuple(map(id, nodes)))
    known = _READ.get(key)
    if known is not None and all(map(operator.is_, known[0], nodes)):
        return cast(_T, known[1])
    answer = read()
    if len(_READ) >= _READ_LIMIT:
        _READ.clear()
    _READ[key] = (nodes, answer)
    return answer


def _include_at(info: Info, path: tuple[str, ...]) -> Include:
    """`content_include` of what is selected at `path` below the field being resolved."""
    return _once(info, path, lambda: content_include(fields_under(selected(info), *path)))


def connection_include(info: Info) -> Include:
    """What to load for the nodes of the ContentConnection being resolved."""
    return _include_at(info, ("edges", "node"))


def item_include(info: Info) -> Include:
    """What to load for the content item the field being resolved answers with."""
    return _include_at(info, ())


def snippet_selected(info: Info) -> bool:
    """Whether a connection's edges ask for their search snippet."""
    return _once(
        info,
        "snippet",
        lambda: any(field.name == "snippet" for field in fields_under(selected(info), "edges")),
    )
