"""GraphiQL's assets for the tests: installed once by the product's own installer
(cms.http.graphiql_assets, what `make graphiql-assets` runs) into `.cache/graphiql-assets`,
and a mirror of that folder on another origin of 127.0.0.1, with the CORS header a mirror
needs (what CMS_GRAPHIQL_ASSETS_URL points at)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cms.http import graphiql_assets

__all__ = ["CACHE_ROOT", "cached_site", "serve"]

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ROOT = REPO_ROOT / ".cache" / "graphiql-assets"


def cached_site() -> Path:
    """The page's assets in `.cache/graphiql-assets/site` (never committed), fetched with
    npm on the first run only: later runs find every file there and fetch nothing. Skips
    the test, saying why, when they cannot be had."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    ignore = CACHE_ROOT.parent / ".gitignore"  # the cache never reaches a commit
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    try:
        return graphiql_assets.install(CACHE_ROOT / "site", progress=lambda line: None)
    except graphiql_assets.AssetsUnavailable as exc:
        pytest.skip(f"needs GraphiQL's assets from npm: {exc}")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the CORS header the page's `crossorigin` tags need."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1; yields its base URL (no trailing slash)."""
    handler = functools.partial(_Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="graphiql-mirror", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
