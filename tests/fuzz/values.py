"""Hostile values for GraphQL arguments, as JSON-like Python values, by input type.

Strings mix the newsroom's real slugs, IDs and cursors (so that mutations reach rows that
exist) with what breaks parsers and databases: lone surrogates, NUL, unicode digits, 40-digit
numbers, right-to-left marks, SQL and HTML, long strings and a 1 MB one. IDs are real global
IDs, global IDs of unknown types or with hostile primary keys, and junk; cursors are real ones
and well-encoded ones of impossible times; dates reach year 1 and year 9999 with offsets.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import graphql
from hypothesis import strategies as st

__all__ = [
    "Names",
    "custom_scalar_literals",
    "datetimes",
    "global_ids",
    "hostile_text",
    "mostly",
    "value_for",
]

TYPE_NAMES = (
    "Article", "VideoEpisode", "Author", "Section", "Tag", "Media", "Revision", "Webhook",
    "WebhookDelivery", "Content", "Node", "", "article",
)  # fmt: skip

SPECIAL = (
    "", " ", "\x00", "\ud800", "\udfff", "a\ud83d", "\U0001f3f3\ufe0f\u200d\U0001f308",
    "٣", "١٢٣", "１２", "𝟗", "²", "1e400", "-0", "9" * 40, "-" + "9" * 40, "NaN", "Infinity",
    "null", "%00", "\\", '"', "'; DROP TABLE content; --", "<script>alert(1)</script>",
    "../../etc/passwd", "\u202e", "\ufeff", "İ", "ß", "a\r\nb", "\t", "{", "$", "…", "Ǆ",
    "0x10", "1_000", " 1", "+1", "2026-11-29T19:00:00Z", "http://[::1", "javascript:alert(1)",
)  # fmt: skip


def mostly(
    common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], *, percent: int = 5
) -> st.SearchStrategy[Any]:
    """`rare` in about `percent` of the draws, `common` in the rest."""
    # sampled_from keeps close to the odds; integers(0, 99) < percent drew far more rare ones
    coin = st.sampled_from([False] * (100 - percent) + [True] * percent)
    return coin.flatmap(lambda rare_one: rare if rare_one else common)


_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_pieces = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=6), _surrogates)

hostile_text: st.SearchStrategy[str] = mostly(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(SPECIAL),
        st.lists(_pieces, max_size=6).map("".join),
        st.text(st.characters(codec=None), max_size=20),
    ),
    st.one_of(
        st.integers(1, 64).map(lambda k: "x" * (k * 1024)),  # up to 64 KB
        st.just("x" * 1_000_000),  # a 1 MB string: the body stays under CMS_MAX_BODY_BYTES
        st.just("é" * 600_000),  # 1.2 MB of UTF-8: over the body limit, a 413
    ),
    percent=3,
)

_huge_ints = mostly(
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([0, -1, 2**31 - 1, -(2**31), 2**31, 2**53 + 1, 2**63, 10**40, -(10**40)]),
    percent=20,
)

_zones = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])


def _iso(moment: datetime) -> str:
    return moment.isoformat()


datetimes: st.SearchStrategy[Any] = st.one_of(
    st.datetimes(timezones=st.none() | _zones).map(_iso),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-12:00",
            "9999-12-31T23:59:59.999999Z",
            "2026-02-30T00:00:00Z",
            "2026-11-29",
            "now",
            "2026-11-29T25:00:00Z",
            "+10000-01-01T00:00:00Z",
            "2026-11-29T19:00:00+24:00",
            "１９７０-01-01T00:00:00Z",
            "",
        ]
    ),
    hostile_text,
    _huge_ints,
)


def _b64(text: str, *, urlsafe: bool = False) -> str:
    raw = text.encode("utf-8", "surrogatepass")
    encoded = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return encoded.decode()


def global_ids(real: list[str]) -> st.SearchStrategy[Any]:
    """Real global IDs, well-encoded ones of unknown types or hostile keys, and junk."""
    keys = st.one_of(
        st.sampled_from(["9" * 40, "2147483648", "9223372036854775808", "-1", "0", "٣", " 1"]),
        _huge_ints.map(str),
        st.sampled_from(SPECIAL),
        st.text(max_size=8),
    )
    encoded = st.builds(
        lambda type_name, key: _b64(f"{type_name}:{key}"), st.sampled_from(TYPE_NAMES), keys
    )
    return mostly(st.sampled_from(real), st.one_of(encoded, hostile_text, _huge_ints), percent=40)


def _cursors(real: list[str]) -> st.SearchStrategy[str]:
    at = st.one_of(
        datetimes.filter(lambda value: isinstance(value, str)),
        st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]),
    )
    encoded = st.builds(
        lambda when, pk: _b64(f"{when}|{pk}", urlsafe=True).rstrip("="),
        at,
        st.one_of(_huge_ints.map(str), st.sampled_from(SPECIAL)),
    )
    return st.one_of(st.sampled_from(real), encoded) if real else encoded


@dataclass(frozen=True)
class Names:
    """What exists in the fuzzed newsroom: global IDs, slugs, cursors, URLs."""

    ids: list[str]
    slugs: list[str]
    cursors: list[str]
    urls: list[str] = field(
        default_factory=lambda: [
            "https://hooks.example/in", "http://127.0.0.1:1/x", "ftp://x", "https://[::1]:0/",
        ]
    )  # fmt: skip

    def __repr__(self) -> str:
        return f"Names({len(self.ids)} ids, {len(self.slugs)} slugs, {len(self.cursors)} cursors)"

    def strings(self) -> st.SearchStrategy[Any]:
        real = self.slugs + self.urls
        ours = st.one_of(st.sampled_from(real), _cursors(self.cursors), st.sampled_from(self.ids))
        return mostly(ours, hostile_text, percent=50)


def value_for(type_: graphql.GraphQLInputType, names: Names) -> st.SearchStrategy[Any]:
    """A JSON-like value for an argument or variable of `type_`: mostly one that fits the
    type's shape (so that it reaches the resolver), sometimes null or of the wrong shape."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return mostly(value_for(type_.of_type, names), st.none())
    if isinstance(type_, graphql.GraphQLList):
        item = value_for(type_.of_type, names)
        return mostly(st.lists(item, max_size=4), item | st.none(), percent=10)
    if isinstance(type_, graphql.GraphQLInputObjectType):
        return mostly(_objects(type_, names), st.none())
    if isinstance(type_, graphql.GraphQLEnumType):
        return mostly(st.sampled_from(list(type_.values)), hostile_text | st.none())
    assert isinstance(type_, graphql.GraphQLScalarType), type_
    return mostly(_scalar(type_.name, names), st.none())


def _objects(type_: graphql.GraphQLInputObjectType, names: Names) -> st.SearchStrategy[Any]:
    required = {name: value_for(f.type, names) for name, f in type_.fields.items()
                if graphql.is_required_input_field(f)}  # fmt: skip
    optional = {name: value_for(f.type, names) for name, f in type_.fields.items()
                if name not in required}  # fmt: skip
    fitting = st.fixed_dictionaries(required, optional=optional)
    extra = st.builds(lambda d, key: {**d, key: 1}, fitting, st.sampled_from(["nope", "", "id"]))
    return mostly(fitting, extra | hostile_text)


def _scalar(name: str, names: Names) -> st.SearchStrategy[Any]:
    if name == "String":
        return names.strings()
    if name == "ID":
        return global_ids(names.ids)
    if name == "Int":
        return mostly(_huge_ints, st.sampled_from([1.0, 1.5, "1", "١", True]))
    if name == "Float":
        return mostly(st.floats() | _huge_ints, st.sampled_from(["1.5", "١"]))
    if name == "Boolean":
        return mostly(st.booleans(), st.sampled_from([0, 1, "true", ""]))
    if name == "DateTime":
        return datetimes
    if name == "Upload":
        return st.one_of(st.none(), hostile_text, st.builds(dict))
    return st.recursive(  # JSON and any scalar added later
        st.none() | st.booleans() | _huge_ints | st.floats() | hostile_text,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=5), children, max_size=3)
        ),
        max_leaves=8,
    )


def custom_scalar_literals(schema: graphql.GraphQLSchema) -> dict[str, st.SearchStrategy[Any]]:
    """Literal strategies for hypothesis-graphql, for every scalar it does not know."""
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    scalars = [t.name for t in schema.type_map.values()
               if isinstance(t, graphql.GraphQLScalarType) and t.name not in builtin]  # fmt: skip
    strings = st.text(max_size=30).map(lambda text: graphql.StringValueNode(value=text))
    dates = st.datetimes(timezones=st.none() | _zones).map(
        lambda moment: graphql.StringValueNode(value=moment.isoformat())
    )
    return {name: dates | strings if name == "DateTime" else strings for name in scalars}
