"""An editor in GraphiQL, in a real browser: the default tabs, the token in the headers pane,
createArticle and publish, and nothing loaded from outside 127.0.0.1."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from cms.http import graphiql
from tests.browser.conftest import BrowserSession
from tests.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESPONSE = ".graphiql-response .CodeMirror"
EXAMPLE_TITLE = re.search(r'title: "([^"]+)"', graphiql.MUTATIONS_EXAMPLE)[1]  # type: ignore[index]


def open_graphiql(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/graphql")
    page.locator(QUERY_EDITOR).wait_for()
    page.locator(".graphiql-tab").nth(1).wait_for()


def editor_text(page: Page, selector: str) -> str:
    text: str = page.evaluate("s => document.querySelector(s).CodeMirror.getValue()", selector)
    return text


def set_editor_text(page: Page, selector: str, text: str) -> None:
    page.evaluate("([s, t]) => document.querySelector(s).CodeMirror.setValue(t)", [selector, text])


def open_tab(page: Page, title: str) -> None:
    page.locator(".graphiql-tab-button", has_text=title).click()


def open_tool(page: Page, name: str) -> None:
    """Show the Variables or Headers pane under the query editor."""
    page.locator(f'.graphiql-editor-tools button[data-name="{name}"]').click()
    page.locator(TOOL_EDITOR).wait_for()


def run(page: Page, operation: str | None = None) -> dict[str, Any]:
    """Press the run button (choosing the operation when the document has several) and
    return the JSON the result pane shows."""
    set_editor_text(page, RESPONSE, "")
    page.locator(".graphiql-execute-button").click()
    if operation is not None:
        page.get_by_role("menuitem", name=operation).click()
    page.wait_for_function(
        """s => {
            const text = document.querySelector(s).CodeMirror.getValue();
            try { JSON.parse(text); return true; } catch { return false; }
        }""",
        arg=RESPONSE,
    )
    result: dict[str, Any] = json.loads(editor_text(page, RESPONSE))
    return result


def error_codes(result: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in result.get("errors") or []]


def test_graphiql_opens_on_the_feed_with_local_assets_only(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    open_graphiql(page, live_server)

    assert editor_text(page, QUERY_EDITOR) == graphiql.FEED_QUERY
    tabs = page.locator(".graphiql-tab-button").all_inner_texts()
    assert len(tabs) == 2 and tabs[1] == "CreateDraft", tabs
    result = run(page)
    assert "errors" not in result, result
    edges = result["data"]["feed"]["edges"]
    assert edges and all(edge["node"]["title"] for edge in edges)

    assert browser.foreign_requests == []
    page_errors = [line for line in browser.console if line.startswith("pageerror")]
    assert page_errors == []


def test_mutation_without_a_token_is_unauthenticated(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    open_graphiql(page, live_server)
    open_tab(page, "CreateDraft")
    open_tool(page, "headers")
    set_editor_text(page, TOOL_EDITOR, "{}")

    result = run(page, "CreateDraft")

    assert error_codes(result) == ["UNAUTHENTICATED"], result
    assert "UNAUTHENTICATED" in editor_text(page, RESPONSE)
    assert browser.foreign_requests == []


def test_editor_creates_and_publishes_with_the_token_in_the_headers_pane(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    open_graphiql(page, live_server)
    open_tab(page, "CreateDraft")
    assert editor_text(page, QUERY_EDITOR) == graphiql.MUTATIONS_EXAMPLE
    open_tool(page, "headers")
    assert editor_text(page, TOOL_EDITOR) == graphiql.MUTATIONS_HEADERS
    set_editor_text(page, TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {live_server.token}"}))

    created = run(page, "CreateDraft")

    assert "errors" not in created, created
    article = created["data"]["createArticle"]
    assert article["__typename"] == "Article", article
    assert article["title"] == EXAMPLE_TITLE
    assert article["status"] == "DRAFT"
    shown = editor_text(page, RESPONSE)
    assert EXAMPLE_TITLE in shown and '"Article"' in shown

    open_tool(page, "variables")
    set_editor_text(page, TOOL_EDITOR, json.dumps({"id": article["id"]}))
    published = run(page, "Publish")

    assert "errors" not in published, published
    assert published["data"]["publish"]["__typename"] == "Article", published
    assert published["data"]["publish"]["status"] == "PUBLISHED"

    open_tab(page, "<untitled>")
    feed = run(page)
    assert "errors" not in feed, feed
    assert feed["data"]["feed"]["edges"][0]["node"]["title"] == EXAMPLE_TITLE
    assert browser.foreign_requests == []
