"""GraphiQL's assets for a browser without a CDN: the npm packages at the versions the page
uses, laid out as `{package}@{version}/{path}` (the path form of CMS_GRAPHIQL_ASSETS_URL)
and served on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cms.http import graphiql

__all__ = ["CACHE_ROOT", "AssetsUnavailable", "install", "serve"]

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ROOT = REPO_ROOT / ".cache" / "graphiql-assets"
NPM_TIMEOUT_SECONDS = 300


class AssetsUnavailable(Exception):
    """npm is missing or failed; the message says what to do."""


def _specs(assets: list[graphiql.Asset]) -> list[str]:
    return sorted({f"{asset.package}@{asset.version}" for asset in assets})


def _check(site: Path, assets: list[graphiql.Asset]) -> list[str]:
    """What is missing or of another version in a laid-out site."""
    problems = []
    for asset in assets:
        package_dir = site / f"{asset.package}@{asset.version}"
        manifest = package_dir / "package.json"
        if not manifest.is_file():
            problems.append(f"{asset.package}@{asset.version} is not installed")
            continue
        installed = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if installed != asset.version:
            problems.append(f"{asset.package} is {installed}, the page uses {asset.version}")
        elif not (package_dir / asset.path).is_file():
            problems.append(f"{asset.key} is not in the package")
    return problems


def _npm_install(prefix: Path, specs: list[str]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsUnavailable("npm is not installed (apt-get install -y npm, or Node.js)")
    command = [
        npm, "install", "--prefix", str(prefix), "--no-save", "--no-package-lock",
        "--no-audit", "--no-fund", "--ignore-scripts", "--legacy-peer-deps", *specs,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AssetsUnavailable(f"npm install {' '.join(specs)} timed out") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise AssetsUnavailable(f"npm install {' '.join(specs)} failed:\n{tail}")


def _lay_out(prefix: Path, specs: list[str]) -> None:
    """site/{package}@{version} -> node_modules/{package}: the CDN's path layout."""
    for spec in specs:
        package = spec.rpartition("@")[0]
        link = prefix / "site" / spec
        link.parent.mkdir(parents=True, exist_ok=True)
        target = prefix / "node_modules" / package
        link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)


def install(cache_root: Path = CACHE_ROOT) -> Path:
    """Install the page's asset packages once (idempotent) and return the site directory.

    The cache is keyed by the exact package versions Strawberry's page uses, so a Strawberry
    upgrade installs the new versions beside the old ones."""
    assets = graphiql.default_assets()
    specs = _specs(assets)
    key = hashlib.sha256(" ".join(specs).encode()).hexdigest()[:16]
    target = cache_root / key
    if not _check(target / "site", assets):
        return target / "site"

    cache_root.mkdir(parents=True, exist_ok=True)
    ignore = cache_root / ".gitignore"  # the cache never reaches a commit
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    staging = cache_root / f"{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _npm_install(staging, specs)
        _lay_out(staging, specs)
        problems = _check(staging / "site", assets)
        if problems:
            raise AssetsUnavailable(
                "npm installed other files than the page uses: " + "; ".join(problems)
            )
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "site"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the CORS header the page's `crossorigin` tags need."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve a site directory on 127.0.0.1; yields its base URL (no trailing slash)."""
    handler = functools.partial(_Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="graphiql-assets", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
