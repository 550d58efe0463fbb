"""The GraphiQL page editors open at GET /graphql: default tabs, self-hosted assets."""

from __future__ import annotations

import json
import re

import pytest
from strawberry.http import ides

from cms.config import Settings
from cms.http import graphiql

MIRROR = "https://static.newsroom.example/vendor/graphiql"

STRAWBERRY_PAGE = ides.get_graphql_ide_html(graphql_ide="graphiql")

# Every absolute URL a tag of the page loads.
LOADED_URL = re.compile(r"""\b(?:src|href)=["'](https?://[^"'\s]+)["']""")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    graphiql._page.cache_clear()


def _default_tabs(page: str) -> list[dict[str, str]]:
    match = re.search(r"^ *defaultTabs: (\[.*\]),$", page, re.MULTILINE)
    assert match, "defaultTabs prop not found in the page"
    tabs: list[dict[str, str]] = json.loads(match[1])
    return tabs


def test_strawberry_page_loads_assets_from_a_cdn_in_package_at_version_form() -> None:
    # The premise of the rewrite: if this fails, Strawberry changed its page.
    urls = LOADED_URL.findall(STRAWBERRY_PAGE)
    assets = graphiql.default_assets()

    assert len(urls) == len(assets) >= 5
    packages = {asset.package for asset in assets}
    assert {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"} <= packages
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\S*", asset.version) for asset in assets)


def test_default_page_is_strawberrys_page_with_the_newsroom_tabs() -> None:
    page = graphiql.graphiql_page(Settings(graphiql_assets_url=None))

    assert LOADED_URL.findall(page) == LOADED_URL.findall(STRAWBERRY_PAGE)
    assert "React.createElement(NewsdeskGraphiQL, {" in page
    assert "React.createElement(GraphiQL, merged)" in page
    tabs = _default_tabs(page)
    assert [tab["query"] for tab in tabs] == [graphiql.FEED_QUERY, graphiql.MUTATIONS_EXAMPLE]
    feed, mutations = tabs
    assert "headers" not in feed
    assert json.loads(mutations["headers"]) == {
        "Authorization": "Bearer <paste the token printed by make serve>"
    }
    assert set(json.loads(mutations["variables"])) == {"id"}
    assert 'defaultEditorToolsVisibility: "headers"' in page
    assert "shouldPersistHeaders: undefined" in page  # GraphiQL's default, not Strawberry's true


def test_example_operations_follow_the_contract() -> None:
    assert graphiql.FEED_QUERY.startswith("{ feed(first: 5) { edges { cursor node {")
    example = graphiql.MUTATIONS_EXAMPLE
    assert "mutation CreateDraft {" in example
    assert "createArticle(input: {" in example
    assert 'sectionSlug: "war"' in example
    assert 'authorSlugs: ["news-desk"]' in example
    assert "mutation Publish($id: ID!) {" in example
    assert "publish(id: $id) {" in example
    assert "... on Article { id title slug status version }" in example
    assert "... on ValidationError { message field }" in example
    assert "... on Article { id status publishedAt url }" in example


def test_inline_script_cannot_be_closed_by_the_examples() -> None:
    page = graphiql.graphiql_page(Settings(graphiql_assets_url=None))
    script = page.split("<script>", 1)[1]
    assert script.index("</script>") > script.index("function NewsdeskGraphiQL")
    assert "<paste the token" not in page
    assert "\\u003cpaste the token printed by make serve>" in page


def test_assets_url_rewrites_every_asset_to_the_mirror() -> None:
    page = graphiql.graphiql_page(Settings(graphiql_assets_url=MIRROR + "/"))

    urls = LOADED_URL.findall(page)
    expected = [f"{MIRROR}/{asset.key}" for asset in graphiql.default_assets()]
    assert urls == expected
    package_at_version_path = re.escape(MIRROR) + r"/(@[\w.-]+/)?[\w.-]+@\d[\w.+-]*/[\w./-]+"
    for url in urls:
        assert re.fullmatch(package_at_version_path, url), url
    cdn_origins = {
        re.match(r"https?://[^/]+", url)[0]  # type: ignore[index]
        for url in LOADED_URL.findall(STRAWBERRY_PAGE)
    }
    for origin in cdn_origins:
        assert origin not in page
    # the integrity hashes stay: a mirror serves the packages' files unchanged
    assert page.count("integrity=") == STRAWBERRY_PAGE.count("integrity=")
    assert _default_tabs(page) == _default_tabs(graphiql.graphiql_page(Settings()))


def test_page_is_cached_per_assets_url() -> None:
    first = graphiql.graphiql_page(Settings(graphiql_assets_url=MIRROR))
    assert graphiql.graphiql_page(Settings(graphiql_assets_url=MIRROR)) is first
    assert graphiql.graphiql_page(Settings(graphiql_assets_url=None)) != first


@pytest.mark.parametrize(
    "anchor", ["React.createElement(GraphiQL, {", "<script>"], ids=["element", "inline-script"]
)
def test_missing_anchor_fails_loudly(anchor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = STRAWBERRY_PAGE.replace(anchor, "<!-- moved -->")
    with pytest.raises(graphiql.GraphiQLPageError, match="update cms/http/graphiql.py"):
        graphiql.render_page(changed, assets_url=None)

    monkeypatch.setattr(ides, "get_graphql_ide_html", lambda graphql_ide="graphiql": changed)
    with pytest.raises(graphiql.GraphiQLPageError):
        graphiql.graphiql_page(Settings(graphiql_assets_url=None))


def test_asset_url_in_an_unknown_form_fails_loudly() -> None:
    changed = STRAWBERRY_PAGE.replace(
        "</head>", '<script src="https://cdn.example/bundle.js?v=3"></script></head>'
    )
    graphiql.render_page(changed, assets_url=None)  # unset: served as Strawberry has it
    with pytest.raises(graphiql.GraphiQLPageError, match="cdn.example/bundle.js"):
        graphiql.render_page(changed, assets_url=MIRROR)


def test_page_without_cdn_assets_fails_loudly_when_a_mirror_is_set() -> None:
    changed = graphiql.ASSET_URL.sub("", STRAWBERRY_PAGE)
    with pytest.raises(graphiql.GraphiQLPageError, match="no package@version/path"):
        graphiql.render_page(changed, assets_url=MIRROR)


def test_each_asset_carries_the_integrity_hash_of_its_tag() -> None:
    tags = re.findall(r"<(?:script|link)\b[^>]*>", STRAWBERRY_PAGE)
    expected = [
        re.search(r'integrity="([^"]+)"', tag)[1]  # type: ignore[index]
        for tag in tags
        if LOADED_URL.search(tag)
    ]
    assets = graphiql.default_assets()
    assert [asset.integrity for asset in assets] == expected
    assert all(asset.integrity and asset.integrity.startswith("sha384-") for asset in assets)


def test_a_same_origin_path_as_assets_url() -> None:
    page = graphiql.render_page(STRAWBERRY_PAGE, assets_url="/graphiql-assets")

    assert re.findall(r"""\b(?:src|href)=["'](/graphiql-assets/[^"']+)["']""", page) == [
        f"/graphiql-assets/{asset.key}" for asset in graphiql.default_assets()
    ]
    assert not LOADED_URL.findall(page)
