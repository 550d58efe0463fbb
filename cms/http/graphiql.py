"""GraphiQL for editors: Strawberry's page, opened on the feed query and the example mutations.

`graphiql_page(settings)` returns Strawberry's own GraphiQL page with two changes:

* GraphiQL starts with two tabs, the public feed query and a tab of example mutations
  (create a draft, publish it) whose headers pane holds a hint for the editor's token;
* when an assets URL is given, every asset URL of the page (React, GraphiQL, the explorer
  plugin, their CSS) points at `{assets_url}/{package}@{version}/{path}`: the path layout of
  the public CDN the default page uses, so a strict-CSP or offline site mirrors exactly
  those files. The URL is `CMS_GRAPHIQL_ASSETS_URL` when set, or `/graphiql-assets` when
  the app serves `CMS_GRAPHIQL_ASSETS_DIR` itself (cms.http.graphiql_assets decides at
  start-up). The page's subresource-integrity hashes stay: a mirror serves the npm
  packages' files byte for byte, and, on another origin than the API, answers with an
  `Access-Control-Allow-Origin` header (the tags are `crossorigin`).

The page is built from Strawberry's template by small string replacements. If Strawberry
changes the template so that an anchor is gone, `GraphiQLPageError` is raised instead of
serving a page without the tabs, or one still loading assets from the CDN.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from strawberry.http import ides

from cms.config import Settings

__all__ = [
    "ASSET_URL",
    "FEED_QUERY",
    "MUTATIONS_EXAMPLE",
    "MUTATIONS_HEADERS",
    "MUTATIONS_VARIABLES",
    "Asset",
    "GraphiQLPageError",
    "assets",
    "default_assets",
    "graphiql_page",
    "render_page",
]

FEED_QUERY = """\
{ feed(first: 5) { edges { cursor node { __typename title slug publishedAt
    authors { name kind } section { name }
    ... on Article { readingTimeMinutes body(format: TEXT) }
    ... on VideoEpisode { videoUrl durationSeconds show } } }
  pageInfo { hasNextPage endCursor } } }
"""

MUTATIONS_EXAMPLE = '''\
# Editing needs a token: put the one `make serve` printed into the Headers pane below,
#   {"Authorization": "Bearer <token>"}
# Run CreateDraft (the run button asks which operation), copy the id it returns
# into the Variables pane, then run Publish.

mutation CreateDraft {
  createArticle(input: {
    title: "Volunteers rebuild the Kharkiv district library"
    body: """
Volunteers reopened the district library on **Saturday**, eight months after a strike
destroyed its reading room.

- 4,000 books donated
- a generator for the winter
"""
    sectionSlug: "war"
    authorSlugs: ["news-desk"]
    tagSlugs: ["missile-strikes"]
  }) {
    __typename
    ... on Article { id title slug status version }
    ... on ValidationError { message field }
    ... on Error { message }
  }
}

mutation Publish($id: ID!) {
  publish(id: $id) {
    __typename
    ... on Article { id status publishedAt url }
    ... on Error { message }
  }
}
'''

MUTATIONS_VARIABLES = '{\n  "id": "<the id CreateDraft returned>"\n}'

MUTATIONS_HEADERS = '{\n  "Authorization": "Bearer <paste the token printed by make serve>"\n}'

# An asset of the page: src="https://host/package@version/path" or href="…", where a
# package may be scoped (@graphiql/plugin-explorer). No host is named: any CDN matches.
ASSET_URL = re.compile(
    r"""(?P<attribute>\b(?:src|href)=["'])"""
    r"""(?P<origin>https?://[^/"'\s]+)/"""
    r"""(?P<package>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)"""
    r"""@(?P<version>\d[\w.+-]*)"""
    r"""/(?P<path>[^"'\s?#]+)"""
    r"""(?=["'])"""
)

# A tag's subresource-integrity attribute: "sha384-BASE64", possibly several hashes.
_INTEGRITY = re.compile(r"""\bintegrity=["'](?P<value>[^"']+)["']""")

# Any absolute URL loaded by a tag; after rewriting, each must start with the assets URL.
_LOADED_URL = re.compile(r"""\b(?:src|href)=["'](?P<url>https?://[^"'\s]+)""")

# Where the page's inline script starts, and where it creates the GraphiQL element.
_SCRIPT_ANCHOR = "<script>"
_ELEMENT_ANCHOR = "React.createElement(GraphiQL, {"

# Wraps Strawberry's GraphiQL element: its props pass through, ours are added.
# - Strawberry controls `query` (its welcome text, or ?q= of a shared link) and passes
#   every edit back down as that prop, a render after GraphiQL's own (debounced) change;
#   GraphiQL writes a changed `query` prop into whichever tab is active, so one lagging
#   behind a tab switch overwrote the tab just opened with the previous tab's query. Only
#   the first value is passed, and only for a shared link: the welcome text would replace
#   the first tab's query.
# - Strawberry persists headers; GraphiQL's default (kept here) does not, and the editor
#   may turn "Persist headers" on in GraphiQL's settings. With headers persisted, GraphiQL
#   3 adds a duplicate of the active tab on each visit when that tab has headers. (Its
#   history pane still keeps the headers of operations run, as GraphiQL always does.)
_WRAPPER = """
      const NEWSDESK_GRAPHIQL_PROPS = {
        defaultTabs: %(tabs)s,
        defaultEditorToolsVisibility: "headers",
        shouldPersistHeaders: undefined,
      };
      const NEWSDESK_SHARED_QUERY = new URLSearchParams(window.location.search).has("q");

      function NewsdeskGraphiQL(props) {
        const initialQuery = React.useRef(props.query);
        const merged = Object.assign({}, props, NEWSDESK_GRAPHIQL_PROPS);
        if (NEWSDESK_SHARED_QUERY) {
          merged.query = initialQuery.current;
        } else {
          delete merged.query;
        }
        return React.createElement(GraphiQL, merged);
      }
"""


class GraphiQLPageError(RuntimeError):
    """Strawberry's GraphiQL page no longer has the shape this module rewrites."""


@dataclass(frozen=True)
class Asset:
    """One file the page loads: `{package}@{version}/{path}` on the CDN or a mirror, and
    the subresource-integrity value of its tag (None when the tag has none)."""

    package: str
    version: str
    path: str
    integrity: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def key(self) -> str:
        return f"{self.package}@{self.version}/{self.path}"


def _js(value: object) -> str:
    """A JavaScript literal that is safe inside an inline <script>."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _tabs() -> list[dict[str, str]]:
    return [
        {"query": FEED_QUERY},
        {
            "query": MUTATIONS_EXAMPLE,
            "variables": MUTATIONS_VARIABLES,
            "headers": MUTATIONS_HEADERS,
        },
    ]


def _replace_once(html: str, anchor: str, replacement: str) -> str:
    count = html.count(anchor)
    if count != 1:
        raise GraphiQLPageError(
            f"Strawberry's GraphiQL page has {count} occurrences of {anchor!r} (expected 1): "
            "update cms/http/graphiql.py for this Strawberry version"
        )
    return html.replace(anchor, replacement)


def _integrity_of_tag(html: str, start: int, end: int) -> str | None:
    """The integrity attribute of the tag around html[start:end], if it has one."""
    tag = html[html.rfind("<", 0, start) : html.find(">", end)]
    found = _INTEGRITY.search(tag)
    return found["value"] if found else None


def assets(html: str) -> list[Asset]:
    """The assets an IDE page loads, in page order."""
    return [
        Asset(
            match["package"],
            match["version"],
            match["path"],
            _integrity_of_tag(html, match.start(), match.end()),
        )
        for match in ASSET_URL.finditer(html)
    ]


def _rewrite_assets(html: str, assets_url: str) -> str:
    base = assets_url.rstrip("/")
    if not assets(html):
        raise GraphiQLPageError(
            "no package@version/path asset URL found in Strawberry's GraphiQL page: "
            "update cms/http/graphiql.py for this Strawberry version"
        )
    rewritten = ASSET_URL.sub(
        lambda m: f"{m['attribute']}{base}/{m['package']}@{m['version']}/{m['path']}", html
    )
    foreign = [
        m["url"] for m in _LOADED_URL.finditer(rewritten) if not m["url"].startswith(base + "/")
    ]
    if foreign:
        raise GraphiQLPageError(
            f"Strawberry's GraphiQL page loads URLs not in package@version/path form: {foreign}"
        )
    return rewritten


def render_page(html: str, *, assets_url: str | None) -> str:
    """Rewrite an IDE page (Strawberry's GraphiQL template) for Newsdesk."""
    html = _replace_once(html, _ELEMENT_ANCHOR, "React.createElement(NewsdeskGraphiQL, {")
    html = _replace_once(html, _SCRIPT_ANCHOR, _SCRIPT_ANCHOR + _WRAPPER % {"tabs": _js(_tabs())})
    if assets_url:
        html = _rewrite_assets(html, assets_url)
    return html


def default_assets() -> list[Asset]:
    """The files Strawberry's GraphiQL page loads: what a mirror must serve."""
    return assets(ides.get_graphql_ide_html(graphql_ide="graphiql"))


@lru_cache(maxsize=8)
def _page(assets_url: str | None) -> str:
    return render_page(ides.get_graphql_ide_html(graphql_ide="graphiql"), assets_url=assets_url)


def graphiql_page(settings: Settings) -> str:
    """The GraphiQL page served on a browser's GET /graphql (cached per assets URL)."""
    return _page(settings.graphiql_assets_url)
