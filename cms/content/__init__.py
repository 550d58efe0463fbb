"""The newsroom's rules: the only code that reads and writes content rows.

Every module is re-exported; import them and qualify by module: `from cms.content import
publishing`, then `publishing.publish(...)`.
"""

from cms.content import (
    corrections,
    editing,
    enums,
    feed,
    ids,
    inputs,
    items,
    links,
    lookups,
    payloads,
    people,
    pins,
    publishing,
    records,
    rendering,
    review,
    revisions,
    search,
    slugs,
    syndication,
    taxonomy,
    text,
    times,
    visibility,
)

__all__ = [
    "corrections",
    "editing",
    "enums",
    "feed",
    "ids",
    "inputs",
    "items",
    "links",
    "lookups",
    "payloads",
    "people",
    "pins",
    "publishing",
    "records",
    "rendering",
    "review",
    "revisions",
    "search",
    "slugs",
    "syndication",
    "taxonomy",
    "text",
    "times",
    "visibility",
]
