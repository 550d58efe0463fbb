"""The GraphQL documents the benchmark sends, and the request bodies and URLs made of them.

Newsdesk and the baseline receive the very same requests: POST bodies (which no response
cache serves) for uncached figures, and one repeated GET for the cached figure.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

__all__ = [
    "ARTICLE",
    "AUTHOR",
    "CONTENTS",
    "CREATE_ARTICLE",
    "FEED",
    "NODE",
    "PUBLISH",
    "SEARCH",
    "SECTION_FEED",
    "UPDATE_ARTICLE",
    "article_body",
    "article_get_path",
    "author_body",
    "contents_body",
    "feed_body",
    "feed_get_path",
    "get_path",
    "node_body",
    "search_body",
    "search_get_path",
    "section_feed_get_path",
]

_NODE_FIELDS = """
    __typename id
    ... on Content {
      title slug dek publishedAt url
      section { name slug }
      authors { name slug kind avatar { url } }
      tags { name slug }
      heroImage { url width height altText }
    }
    ... on Article { readingTimeMinutes }
    ... on VideoEpisode { videoUrl durationSeconds show }
"""

_CONNECTION = """
    edges {
      cursor
      node {
        __typename id title slug dek publishedAt url
        section { name slug }
        authors { name slug kind avatar { url } }
        tags { name slug }
        heroImage { url width height altText }
        ... on Article { readingTimeMinutes }
        ... on VideoEpisode { videoUrl durationSeconds show }
      }
    }
    pageInfo { hasNextPage endCursor }
"""

FEED = f"""query Feed($first: Int, $after: String) {{
  feed(first: $first, after: $after) {{{_CONNECTION}  }}
}}"""

_EDITOR_CONNECTION = _CONNECTION.replace("dek publishedAt", "dek status publishedAt")

# The editors' list: every status, most recently updated first (needs a token).
CONTENTS = f"""query Contents($first: Int, $after: String) {{
  contents(first: $first, after: $after) {{{_EDITOR_CONNECTION}  }}
}}"""

# A section front: the public feed narrowed to one section.
SECTION_FEED = f"""query SectionFeed($section: String, $first: Int) {{
  feed(section: $section, first: $first) {{{_CONNECTION}  }}
}}"""

# An author's page: the byline and their newest public items.
AUTHOR = f"""query Author($slug: String!, $first: Int) {{
  author(slug: $slug) {{
    __typename id name slug kind bio avatar {{ url }}
    content(first: $first) {{{_CONNECTION}    }}
  }}
}}"""

# One content item by its global ID ("Article:42", base64-encoded).
NODE = f"""query Node($id: ID!) {{
  node(id: $id) {{{_NODE_FIELDS}  }}
}}"""

SEARCH = f"""query Search($query: String!, $first: Int, $after: String) {{
  search(query: $query, first: $first, after: $after) {{{_CONNECTION}  }}
}}"""

ARTICLE = """query Article($slug: String!) {
  article(slug: $slug) {
    __typename id title slug dek publishedAt url body readingTimeMinutes
    section { name slug }
    authors { name slug kind avatar { url } }
    tags { name slug }
    heroImage { url width height altText }
  }
}"""

CREATE_ARTICLE = """mutation Create($input: ArticleInput!) {
  createArticle(input: $input) {
    __typename
    ... on Article { id }
    ... on Error { message }
  }
}"""

UPDATE_ARTICLE = """mutation Update($id: ID!, $input: ArticlePatch!) {
  updateArticle(id: $id, input: $input) {
    __typename
    ... on Article { id version }
    ... on Error { message }
  }
}"""

PUBLISH = """mutation Publish($id: ID!) {
  publish(id: $id) {
    __typename
    ... on Content { id status publishedAt }
    ... on Error { message }
  }
}"""


def _body(query: str, operation: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": query, "operationName": operation, "variables": variables})


def _page(first: int, after: str | None) -> dict[str, Any]:
    return {"first": first} if after is None else {"first": first, "after": after}


def feed_body(*, first: int = 20, after: str | None = None) -> bytes:
    return _body(FEED, "Feed", _page(first, after))


def search_body(text: str, *, first: int = 20) -> bytes:
    return _body(SEARCH, "Search", {"query": text, "first": first})


def article_body(slug: str) -> bytes:
    return _body(ARTICLE, "Article", {"slug": slug})


def contents_body(*, first: int = 20, after: str | None = None) -> bytes:
    return _body(CONTENTS, "Contents", _page(first, after))


def author_body(slug: str, *, first: int = 20) -> bytes:
    return _body(AUTHOR, "Author", {"slug": slug, "first": first})


def node_body(global_id: str) -> bytes:
    return _body(NODE, "Node", {"id": global_id})


def get_path(query: str, operation: str, variables: dict[str, Any]) -> str:
    """A GET request for `query`: the document and its variables in the URL."""
    encoded = orjson.dumps(variables).decode()
    return "/graphql?" + urlencode(
        {"query": query, "operationName": operation, "variables": encoded}
    )


def feed_get_path(*, first: int = 20) -> str:
    """The cached scenario's request: a GET with the document in the URL."""
    return get_path(FEED, "Feed", {"first": first})


def section_feed_get_path(section: str, *, first: int = 20) -> str:
    return get_path(SECTION_FEED, "SectionFeed", {"section": section, "first": first})


def article_get_path(slug: str) -> str:
    return get_path(ARTICLE, "Article", {"slug": slug})


def search_get_path(text: str, *, first: int = 20) -> str:
    return get_path(SEARCH, "Search", {"query": text, "first": first})
