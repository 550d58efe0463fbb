"""Real-browser fixtures: Debian's chromium driven by playwright, and a live `cms serve` on
a fresh SQLite database serving GraphiQL's assets itself from a folder `cms graphiql-assets`
filled (what a user following the README runs), or a mirror of them on another origin.

Skipped, naming what is missing, without chromium, npm or the playwright package. Playwright
never downloads a browser here: it drives the system chromium through executable_path."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import assets
from tests.live import LiveServer, run_live_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_PREFIXES = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system chromium; skips, naming each missing piece, when the browser test cannot run."""
    missing = []
    path = _chromium()
    if path is None:
        missing.append(f"chromium ({CHROMIUM}: apt-get install -y chromium)")
    if find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[test]')")
    if missing:
        pytest.skip("browser test needs " + " and ".join(missing))
    assert path is not None
    return path


@pytest.fixture(scope="session")
def graphiql_site(chromium_path: str) -> Path:
    """GraphiQL's assets as `cms graphiql-assets` lays them out, fetched with npm once."""
    return assets.cached_site()


@pytest.fixture(scope="session")
def live_server(
    graphiql_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`cms serve` with CMS_GRAPHIQL_ASSETS_DIR holding the assets: it serves them itself."""
    workdir = tmp_path_factory.mktemp("live-server")  # cwd: no .env of the checkout applies
    with run_live_server(
        workdir, extra_env={"CMS_GRAPHIQL_ASSETS_DIR": str(graphiql_site)}
    ) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_url(graphiql_site: Path) -> Iterator[str]:
    """The same folder on another origin of 127.0.0.1, with a CORS header: a mirror."""
    with assets.serve(graphiql_site) as url:
        yield url


@pytest.fixture(scope="session")
def mirrored_server(
    graphiql_site: Path, mirror_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`cms serve` with CMS_GRAPHIQL_ASSETS_URL pointing at the mirror, and the assets
    folder present too: the URL wins."""
    workdir = tmp_path_factory.mktemp("mirrored-server")
    extra_env = {
        "CMS_GRAPHIQL_ASSETS_URL": mirror_url,
        "CMS_GRAPHIQL_ASSETS_DIR": str(graphiql_site),
    }
    with run_live_server(workdir, extra_env=extra_env) as server:
        yield server


@dataclass
class BrowserSession:
    """A chromium page; every URL it requested, and what its console reported."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_PREFIXES)]


@pytest.fixture
def browser(
    chromium_path: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BrowserSession]:
    """Chromium with an empty profile. Requests that leave 127.0.0.1 are recorded and
    aborted (CI has no CDN); a failing test leaves a screenshot in its tmp_path."""
    from playwright.sync_api import Route, sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"),
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            context.set_default_timeout(15_000)
            page = context.pages[0] if context.pages else context.new_page()
            session = BrowserSession(page=page)
            context.on("request", lambda req: session.requests.append(req.url))

            def local_only(route: Route) -> None:
                if route.request.url.startswith(LOCAL_PREFIXES):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", local_only)
            page.on("console", lambda msg: session.console.append(f"{msg.type}: {msg.text}"))
            page.on("pageerror", lambda exc: session.console.append(f"pageerror: {exc}"))
            yield session
            report = request.node.stash.get(_REPORTS, {}).get("call")
            if report is not None and report.failed:
                shot = tmp_path / "graphiql-failure.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot: {shot}")
                print("browser console:", *session.console, sep="\n  ")
                print("requests:", *session.requests, sep="\n  ")
        finally:
            context.close()
