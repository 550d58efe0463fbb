"""An editor in GraphiQL, in a real browser: the page's assets served by the app itself (or
a mirror), the default tabs, the token in the headers pane, createArticle and publish, a
live subscription, and nothing loaded from outside 127.0.0.1.

Every step waits for what a person would see before the next one, never for a fixed time:
GraphiQL parses the query editor 100 ms after a change (tab switches included), and until
then its run button still has the form it had for the previous document (a menu of
operations, or a plain button); a click in between opens a stale menu and runs nothing."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from cms.http import graphiql
from tests.browser.conftest import BrowserSession
from tests.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESPONSE = ".graphiql-response .CodeMirror"
EXECUTE = ".graphiql-execute-button"
MENU = '[role="menu"]'
EXAMPLE_TITLE = re.search(r'title: "([^"]+)"', graphiql.MUTATIONS_EXAMPLE)[1]  # type: ignore[index]
SUBSCRIPTION = "subscription { feedEvents { type contentId content { title } } }"

# Records, in the page, the text of every WebSocket frame it sends (an observer only).
RECORD_SENT_FRAMES = """
window.newsdeskSentFrames = [];
const newsdeskSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.newsdeskSentFrames.push(String(data));
  return newsdeskSend.call(this, data);
};
"""

# GraphiQL has parsed the query editor's current text, and the run button has the form
# that document gives it: a menu when it holds several operations, a plain button else.
PARSED = """([editor, button]) => {
  const cm = document.querySelector(editor).CodeMirror;
  const ast = cm.documentAST;
  if (!ast || !ast.loc || ast.loc.source.body !== cm.getValue()) return false;
  const menu = document.querySelector(button).getAttribute("aria-haspopup") === "menu";
  return menu === (cm.operations || []).length > 1;
}"""

RESULT_SHOWN = """s => {
  const text = document.querySelector(s).CodeMirror.getValue();
  try { JSON.parse(text); return true; } catch { return false; }
}"""


def open_graphiql(page: Page, server: LiveServer, search: str = "") -> None:
    page.goto(f"{server.url}/graphql{search}")
    page.locator(QUERY_EDITOR).wait_for()
    page.locator(".graphiql-tab").nth(1).wait_for()
    wait_until_parsed(page)


def editor_text(page: Page, selector: str) -> str:
    text: str = page.evaluate("s => document.querySelector(s).CodeMirror.getValue()", selector)
    return text


def set_editor_text(page: Page, selector: str, text: str) -> None:
    page.evaluate("([s, t]) => document.querySelector(s).CodeMirror.setValue(t)", [selector, text])


def wait_for_editor_text(page: Page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).CodeMirror.getValue() === t", arg=[selector, text]
    )


def open_tab(page: Page, title: str, query: str) -> None:
    """Switch to a tab and wait until it is selected and its query is in the editor."""
    page.locator(".graphiql-tab-button", has_text=title).click()
    page.locator('.graphiql-tab[aria-selected="true"]', has_text=title).wait_for()
    wait_for_editor_text(page, QUERY_EDITOR, query)


def open_tool(page: Page, name: str) -> None:
    """Show the Variables or Headers pane under the query editor."""
    page.locator(f'.graphiql-editor-tools button[data-name="{name}"]').click()
    page.locator(TOOL_EDITOR).wait_for()


def wait_until_parsed(page: Page) -> None:
    page.wait_for_function(PARSED, arg=[QUERY_EDITOR, EXECUTE])


def _operation_response(server: LiveServer) -> Any:
    """A predicate for the answer to the operation run (not GraphiQL's introspection)."""

    def matches(response: Response) -> bool:
        request = response.request
        if request.method != "POST" or response.url != f"{server.url}/graphql":
            return False
        body = request.post_data_json or {}
        return bool(body.get("operationName") != "IntrospectionQuery")

    return matches


def run(page: Page, server: LiveServer, operation: str | None = None) -> dict[str, Any]:
    """Press the run button (choosing the operation from its menu when the document has
    several), wait for the server's answer and the menu to close, and return the JSON the
    result pane shows (checked equal to the server's answer)."""
    wait_until_parsed(page)
    set_editor_text(page, RESPONSE, "")
    with page.expect_response(_operation_response(server)) as answered:
        page.locator(EXECUTE).click()
        if operation is not None:
            page.get_by_role("menuitem", name=operation).click()
    if operation is not None:
        page.locator(MENU).wait_for(state="detached")  # nothing covers the page any more
    answer = answered.value.json()
    page.wait_for_function(RESULT_SHOWN, arg=RESPONSE)
    shown: dict[str, Any] = json.loads(editor_text(page, RESPONSE))
    assert shown == answer
    return shown


def error_codes(result: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in result.get("errors") or []]


def asset_requests(browser: BrowserSession) -> list[str]:
    keys = {asset.key for asset in graphiql.default_assets()}
    return sorted(url for url in browser.requests if any(url.endswith(f"/{k}") for k in keys))


def post(server: LiveServer, query: str, **variables: Any) -> dict[str, Any]:
    """An editor's GraphQL request over HTTP, outside the browser."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=30,
        trust_env=False,
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def test_graphiql_opens_on_the_feed_with_assets_served_by_the_app(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    open_graphiql(page, live_server)

    assert editor_text(page, QUERY_EDITOR) == graphiql.FEED_QUERY
    tabs = page.locator(".graphiql-tab-button").all_inner_texts()
    assert len(tabs) == 2 and tabs[1] == "CreateDraft", tabs
    result = run(page, live_server)
    assert "errors" not in result, result
    edges = result["data"]["feed"]["edges"]
    assert edges and all(edge["node"]["title"] for edge in edges)

    expected = sorted(
        f"{live_server.url}/graphiql-assets/{asset.key}" for asset in graphiql.default_assets()
    )
    assert asset_requests(browser) == expected
    assert all(url.startswith(f"{live_server.url}/") for url in browser.requests)
    assert browser.foreign_requests == []
    page_errors = [line for line in browser.console if line.startswith("pageerror")]
    assert page_errors == []


def test_assets_url_wins_over_the_folder(
    browser: BrowserSession, mirrored_server: LiveServer, mirror_url: str
) -> None:
    page = browser.page
    open_graphiql(page, mirrored_server)

    result = run(page, mirrored_server)

    assert result["data"]["feed"]["edges"], result
    expected = sorted(f"{mirror_url}/{asset.key}" for asset in graphiql.default_assets())
    assert asset_requests(browser) == expected
    assert not any("/graphiql-assets/" in url for url in browser.requests)
    assert browser.foreign_requests == []


def test_mutation_without_a_token_is_unauthenticated(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    open_graphiql(page, live_server)
    open_tab(page, "CreateDraft", graphiql.MUTATIONS_EXAMPLE)
    open_tool(page, "headers")
    set_editor_text(page, TOOL_EDITOR, "{}")

    result = run(page, live_server, "CreateDraft")

    assert error_codes(result) == ["UNAUTHENTICATED"], result
    assert "UNAUTHENTICATED" in editor_text(page, RESPONSE)
    assert browser.foreign_requests == []


def test_editor_creates_and_publishes_with_the_token_in_the_headers_pane(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    open_graphiql(page, live_server)
    open_tab(page, "CreateDraft", graphiql.MUTATIONS_EXAMPLE)
    open_tool(page, "headers")
    assert editor_text(page, TOOL_EDITOR) == graphiql.MUTATIONS_HEADERS
    set_editor_text(page, TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {live_server.token}"}))

    created = run(page, live_server, "CreateDraft")

    assert "errors" not in created, created
    article = created["data"]["createArticle"]
    assert article["__typename"] == "Article", article
    assert article["title"] == EXAMPLE_TITLE
    assert article["status"] == "DRAFT"
    shown = editor_text(page, RESPONSE)
    assert EXAMPLE_TITLE in shown and '"Article"' in shown

    open_tool(page, "variables")
    set_editor_text(page, TOOL_EDITOR, json.dumps({"id": article["id"]}))
    published = run(page, live_server, "Publish")

    assert "errors" not in published, published
    assert published["data"]["publish"]["__typename"] == "Article", published
    assert published["data"]["publish"]["status"] == "PUBLISHED"

    open_tab(page, "<untitled>", graphiql.FEED_QUERY)
    feed = run(page, live_server)
    assert "errors" not in feed, feed
    assert feed["data"]["feed"]["edges"][0]["node"]["title"] == EXAMPLE_TITLE
    assert browser.foreign_requests == []


def test_a_shared_link_opens_its_query_in_the_first_tab(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    shared = "{ sections { name slug } }"
    open_graphiql(page, live_server, "?q=" + quote(shared, safe=""))

    assert editor_text(page, QUERY_EDITOR) == shared
    result = run(page, live_server)
    assert result["data"]["sections"], result
    open_tab(page, "CreateDraft", graphiql.MUTATIONS_EXAMPLE)
    open_tab(page, "<untitled>", shared)  # each tab keeps its own query
    assert page.locator(".graphiql-tab-button").all_inner_texts() == ["<untitled>", "CreateDraft"]
    assert browser.foreign_requests == []


def test_a_subscription_shows_a_publication_as_it_happens(
    browser: BrowserSession, live_server: LiveServer
) -> None:
    page = browser.page
    page.add_init_script(RECORD_SENT_FRAMES)
    open_graphiql(page, live_server)
    page.locator(".graphiql-tab-add").click()
    page.locator(".graphiql-tab").nth(2).and_(page.locator('[aria-selected="true"]')).wait_for()
    set_editor_text(page, QUERY_EDITOR, SUBSCRIPTION)
    wait_until_parsed(page)
    set_editor_text(page, RESPONSE, "")

    page.locator(EXECUTE).click()
    # What the editor sees: the run button turns into a stop button. What the server must
    # have had before anything is published: GraphiQL's subscribe message (sent once the
    # server acknowledged the connection), on the graphql-transport-ws protocol.
    page.locator(f'{EXECUTE}[aria-label^="Stop"]').wait_for()
    page.wait_for_function(
        "() => window.newsdeskSentFrames.some(f => JSON.parse(f).type === 'subscribe')"
    )

    title = f"Live from the newsroom {uuid.uuid4().hex[:8]}"
    created = post(
        live_server,
        'mutation($title: String!) { createArticle(input: {title: $title, body: "Now."}) '
        "{ ... on Article { id } } }",
        title=title,
    )
    content_id = created["createArticle"]["id"]
    post(live_server, "mutation($id: ID!) { publish(id: $id) { __typename } }", id=content_id)

    page.wait_for_function(
        "([s, t]) => document.querySelector(s).CodeMirror.getValue().includes(t)",
        arg=[RESPONSE, title],
    )
    shown = json.loads(editor_text(page, RESPONSE))
    assert shown["data"] == {
        "feedEvents": {
            "type": "CONTENT_PUBLISHED",
            "contentId": content_id,
            "content": {"title": title},
        }
    }
    page.locator(EXECUTE).click()  # stop
    page.locator(f'{EXECUTE}[aria-label^="Execute"]').wait_for()
    assert browser.foreign_requests == []
    assert not [line for line in browser.console if "missing the 'type' property" in line]
