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
    "FEED",
    "PUBLISH",
    "CREATE_ARTICLE",
    "SEARCH",
    "article_body",
    "feed_body",
    "feed_get_path",
    "search_body",
]

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

PUBLISH = """mutation Publish($id: ID!) {
  publish(id: $id) {
    __typename
    ... on Content { id status publishedAt }
    ... on Error { message }
  }
}"""


def _body(query: str, operation: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": query, "operationName": operation, "variables": variables})


def feed_body(*, first: int = 20, after: str | None = None) -> bytes:
    variables: dict[str, Any] = {"first": first}
    if after is not None:
        variables["after"] = after
    return _body(FEED, "Feed", variables)


def search_body(text: str, *, first: int = 20) -> bytes:
    return _body(SEARCH, "Search", {"query": text, "first": first})


def article_body(slug: str) -> bytes:
    return _body(ARTICLE, "Article", {"slug": slug})


def feed_get_path(*, first: int = 20) -> str:
    """The cached scenario's request: a GET with the document in the URL."""
    variables = orjson.dumps({"first": first}).decode()
    return "/graphql?" + urlencode({"query": FEED, "operationName": "Feed", "variables": variables})
