"""GraphiQL's assets on this server: `install` (what `cms graphiql-assets` and `make
graphiql-assets` run) with the real npm, `check`, and the app serving the folder at
/graphiql-assets with the page pointing there."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.http import ides
from typer.testing import CliRunner

from cms import cli
from cms.config import Settings, get_settings
from cms.http import graphiql, graphiql_assets
from cms.http.app import create_app
from tests.browser.assets import cached_site

ASSETS = graphiql.default_assets()
LOADED_URL = re.compile(r"""\b(?:src|href)=["']([^"']+\.(?:js|css))["']""")
MIRROR = "https://static.newsroom.example/vendor/graphiql"


@pytest.fixture(scope="session")
def site() -> Path:
    """The page's assets installed by `install` with the real npm, into the test cache
    (fetched on the first run only; later runs find them and fetch nothing)."""
    return cached_site()


@pytest.fixture
def copy(site: Path, tmp_path: Path) -> Path:
    """A copy of the installed folder, as `cp -r` or a Dockerfile's COPY makes one."""
    target = tmp_path / "graphiql-assets"
    shutil.copytree(site, target, symlinks=True)
    return target


@pytest.fixture
def no_npm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH without npm."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """An `npm` that runs `script` (sh), alone on PATH."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin")


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder`: (inode, mtime in ns)."""
    return {
        str(path.relative_to(folder)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# --- install and check, with the real npm ----------------------------------------------------


def test_install_lays_out_every_asset_as_a_real_file(site: Path) -> None:
    for asset in ASSETS:
        path = site / f"{asset.package}@{asset.version}" / asset.path
        assert path.is_file() and not path.is_symlink(), asset.key
        assert asset.integrity == sri(path.read_bytes()), asset.key  # the browser's own check
        manifest = json.loads((site / asset.spec / "package.json").read_text(encoding="utf-8"))
        assert (manifest["name"], manifest["version"]) == (asset.package, asset.version)
    assert not [path for path in site.rglob("*") if path.is_symlink()]
    packages = {str(path.parent.relative_to(site)) for path in site.rglob("package.json")}
    assert packages == {asset.spec for asset in ASSETS}  # the packages alone, not their deps
    assert (site / "graphiql@3.8.3" / "LICENSE").is_file()
    assert graphiql_assets.check(site) == []


def test_a_copy_of_the_folder_is_complete(copy: Path) -> None:
    assert graphiql_assets.check(copy) == []


def test_a_second_install_does_nothing_and_needs_no_npm(copy: Path, no_npm: None) -> None:
    before = snapshot(copy)
    lines: list[str] = []

    assert graphiql_assets.install(copy, progress=lines.append) == copy

    assert snapshot(copy) == before
    assert len(lines) == 1 and lines[0].endswith("nothing to do"), lines
    assert "graphiql@3.8.3" in lines[0]


def test_install_refetches_only_what_is_missing_or_wrong(copy: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("needs npm (apt-get install -y npm)")
    (copy / "graphiql@3.8.3" / "graphiql.min.js").unlink()
    manifest = copy / "react@18.2.0" / "package.json"
    manifest.write_text(json.dumps({"name": "react", "version": "18.3.1"}), encoding="utf-8")
    (copy / "README.txt").write_text("ours\n", encoding="utf-8")
    untouched = {
        name: snapshot(copy / name)
        for name in ("react-dom@18.2.0", "js-cookie@3.0.5", "@graphiql/plugin-explorer@1.0.2")
    }

    assert graphiql_assets.check(copy) == [
        "react@18.2.0 holds react@18.3.1, the page loads react@18.2.0",
        "graphiql@3.8.3/graphiql.min.js is missing",
    ]
    lines: list[str] = []
    graphiql_assets.install(copy, progress=lines.append)

    assert graphiql_assets.check(copy) == []
    assert any(line == "fetching graphiql@3.8.3 react@18.2.0 with npm" for line in lines), lines
    assert lines[-1].endswith("each matching the page's integrity hash"), lines
    for name, files in untouched.items():
        assert snapshot(copy / name) == files, name
    assert (copy / "README.txt").read_text(encoding="utf-8") == "ours\n"
    assert [path.name for path in copy.parent.iterdir()] == [copy.name]  # no staging left


def test_check_names_a_file_the_browser_would_refuse(copy: Path) -> None:
    css = copy / "graphiql@3.8.3" / "graphiql.min.css"
    css.write_bytes(css.read_bytes() + b"\n/* changed */\n")

    assert graphiql_assets.check(copy) == [
        "graphiql@3.8.3/graphiql.min.css differs from the file the page's integrity hash names"
    ]


def test_check_refuses_a_link_out_of_the_folder(copy: Path, site: Path) -> None:
    # The layout the tests once used: links into node_modules, which the app does not serve
    # and which break when the folder is copied.
    shutil.rmtree(copy / "react@18.2.0")
    (copy / "react@18.2.0").symlink_to(site / "react@18.2.0", target_is_directory=True)

    assert graphiql_assets.check(copy) == [
        "react@18.2.0/umd/react.production.min.js links out of the folder"
    ]


def test_check_of_an_absent_folder(tmp_path: Path) -> None:
    assert graphiql_assets.check(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere'} is not a folder"
    ]


# --- install when npm is missing or fails ----------------------------------------------------


def test_without_npm_install_says_how_to_get_it(tmp_path: Path, no_npm: None) -> None:
    target = tmp_path / "assets"
    with pytest.raises(graphiql_assets.AssetsUnavailable) as raised:
        graphiql_assets.install(target, progress=lambda line: None)

    message = str(raised.value)
    assert "npm is not installed" in message and "apt-get install -y npm" in message
    assert "\n" not in message
    assert not target.exists()


def test_npm_failure_reports_its_last_lines_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_npm(
        tmp_path,
        monkeypatch,
        'for i in 1 2 3 4 5 6 7 8; do echo "npm error line $i" >&2; done; '
        'echo "npm error     at Foo (bar.js:1:1)" >&2; exit 1',
    )
    target = tmp_path / "data" / "assets"

    with pytest.raises(graphiql_assets.AssetsUnavailable) as raised:
        graphiql_assets.install(target, progress=lambda line: None)

    message = str(raised.value)
    assert message.startswith("npm pack ") and "failed (exit 1)" in message
    assert message.endswith("failed (exit 1): line 3 | line 4 | line 5 | line 6 | line 7 | line 8")
    assert "line 2" not in message and "bar.js" not in message  # the tail, no stack frames
    assert "\n" not in message
    assert list((tmp_path / "data").iterdir()) == []  # no target, no staging folder


def test_npm_failure_reports_npms_own_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What npm 9-11 write with --json when the registry cannot be reached.
    report = {
        "error": {
            "code": "ECONNREFUSED",
            "summary": "FetchError: request to http://127.0.0.1:9/react failed",
            "detail": "If you are behind a proxy, please make sure that the 'proxy' config is set",
        }
    }
    (tmp_path / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    fake_npm(
        tmp_path,
        monkeypatch,
        f"cat {tmp_path / 'report.json'}; echo 'npm error code ECONNREFUSED' >&2; "
        "echo 'npm error     at ClientRequest.<anonymous> (index.js:130:14)' >&2; "
        "echo 'npm error A complete log of this run can be found in: /tmp/npm.log' >&2; exit 1",
    )

    with pytest.raises(graphiql_assets.AssetsUnavailable) as raised:
        graphiql_assets.install(tmp_path / "assets", progress=lambda line: None)

    assert str(raised.value).endswith(
        "failed (exit 1): ECONNREFUSED: FetchError: request to http://127.0.0.1:9/react failed "
        "(If you are behind a proxy, please make sure that the 'proxy' config is set); "
        "npm's log: /tmp/npm.log"
    )


def test_npm_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_npm(tmp_path, monkeypatch, "exec sleep 60")

    with pytest.raises(graphiql_assets.AssetsUnavailable, match="did not finish within 0.5 s"):
        graphiql_assets.install(tmp_path / "assets", progress=lambda line: None, timeout=0.5)


def test_npm_that_fetches_other_files_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: Path
) -> None:
    # An npm (or registry mirror) handing out other bytes than the page's integrity hashes.
    tarballs = tmp_path / "tarballs"
    tarballs.mkdir()
    report = []
    for spec in sorted({asset.spec for asset in ASSETS}):
        package, version = spec.rsplit("@", 1)
        folder = tmp_path / "packages" / spec / "package"
        shutil.copytree(site / spec, folder)
        for path in folder.rglob("*.js"):
            path.write_bytes(path.read_bytes() + b"\n// changed\n")
        name = f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
        shutil.make_archive(str(tarballs / name[: -len(".tgz")]), "gztar", folder.parent)
        (tarballs / f"{name[: -len('.tgz')]}.tar.gz").rename(tarballs / name)
        report.append({"name": package, "version": version, "filename": name})
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    fake_npm(
        tmp_path,
        monkeypatch,
        f'while [ "$1" != --pack-destination ]; do shift; done; cp {tarballs}/*.tgz "$2"; '
        f"cat {tmp_path / 'report.json'}",
    )
    target = tmp_path / "assets"

    with pytest.raises(graphiql_assets.AssetsUnavailable) as raised:
        graphiql_assets.install(target, progress=lambda line: None)

    assert "react@18.2.0/umd/react.production.min.js differs" in str(raised.value)
    assert not target.exists()


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def fresh_settings() -> Any:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_command_with_everything_present(copy: Path, no_npm: None, fresh_settings: None) -> None:
    result = CliRunner().invoke(cli.app, ["graphiql-assets", "--dir", str(copy)])

    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    assert f"GraphiQL's assets are in {copy}" in result.output


def test_command_without_npm_fails_in_one_line(
    tmp_path: Path, no_npm: None, fresh_settings: None
) -> None:
    result = CliRunner().invoke(cli.app, ["graphiql-assets", "--dir", str(tmp_path / "x")])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: npm is not installed")


# --- the app serving the folder ------------------------------------------------------------


def app_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an app that is only asked for GraphiQL's page and files (no query runs)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite://{tmp_path / 'unused.sqlite3'}",
        "env": "test",
        "media_dir": str(tmp_path / "media"),
        "graphiql_assets_url": None,
        "run_dispatcher": False,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(autouse=True)
def _fresh_page_cache() -> None:
    graphiql._page.cache_clear()


@pytest.fixture
async def start(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Any]:
    """create_app(settings) -> (HTTP client on it, the start-up log lines about GraphiQL)."""
    clients: list[httpx.AsyncClient] = []

    async def started(settings: Settings) -> tuple[httpx.AsyncClient, list[logging.LogRecord]]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="cms.http.app"):
            app = create_app(settings, manage_database=False)
        records = [record for record in caplog.records if "GraphiQL" in record.getMessage()]
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(client)
        return client, records

    yield started
    for client in clients:
        await client.aclose()


async def page_of(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


async def test_app_serves_a_complete_folder_and_the_page_points_at_it(
    copy: Path, tmp_path: Path, start: Any
) -> None:
    client, logged = await start(app_settings(tmp_path, graphiql_assets_dir=str(copy)))

    assert [record.getMessage() for record in logged] == [
        f"GraphiQL's assets are served from {copy} at /graphiql-assets/"
    ]
    page = await page_of(client)
    assert LOADED_URL.findall(page) == [f"/graphiql-assets/{asset.key}" for asset in ASSETS]
    # same origin: the tags keep their integrity hashes and crossorigin attributes
    strawberry_page = ides.get_graphql_ide_html(graphql_ide="graphiql")
    assert page.count("integrity=") == strawberry_page.count("integrity=") == len(ASSETS)
    assert page.count("crossorigin") == strawberry_page.count("crossorigin")
    for asset in ASSETS:
        response = await client.get(f"/graphiql-assets/{asset.key}")
        assert response.status_code == 200, asset.key
        assert sri(response.content) == asset.integrity
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/css" if asset.path.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(kind)
    assert (await client.get("/graphiql-assets/react@18.2.0/umd/nothing.js")).status_code == 404


async def test_without_the_folder_the_page_loads_from_the_cdn_as_before(
    tmp_path: Path, start: Any
) -> None:
    absent = tmp_path / "graphiql-assets"
    client, logged = await start(app_settings(tmp_path, graphiql_assets_dir=str(absent)))

    [record] = logged
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("GraphiQL loads its assets from the public CDN")
    assert f"{absent} does not exist" in record.getMessage()
    page = await page_of(client)
    strawberry_page = ides.get_graphql_ide_html(graphql_ide="graphiql")
    assert LOADED_URL.findall(page) == LOADED_URL.findall(strawberry_page)
    assert all(url.startswith("https://") for url in LOADED_URL.findall(page))
    response = await client.get(f"/graphiql-assets/{ASSETS[0].key}")
    assert response.status_code == 404


async def test_an_incomplete_folder_is_not_served_and_says_why(
    copy: Path, tmp_path: Path, start: Any
) -> None:
    (copy / "react-dom@18.2.0" / "umd" / "react-dom.production.min.js").unlink()
    client, logged = await start(app_settings(tmp_path, graphiql_assets_dir=str(copy)))

    [record] = logged
    assert record.levelno == logging.WARNING
    assert "react-dom@18.2.0/umd/react-dom.production.min.js is missing" in record.getMessage()
    assert "make graphiql-assets" in record.getMessage()
    assert "/graphiql-assets/" not in await page_of(client)
    assert (await client.get(f"/graphiql-assets/{ASSETS[0].key}")).status_code == 404


async def test_assets_url_wins_over_the_folder(copy: Path, tmp_path: Path, start: Any) -> None:
    settings = app_settings(tmp_path, graphiql_assets_dir=str(copy), graphiql_assets_url=MIRROR)
    client, logged = await start(settings)

    assert [record.getMessage() for record in logged] == [
        f"GraphiQL loads its assets from CMS_GRAPHIQL_ASSETS_URL={MIRROR}"
    ]
    page = await page_of(client)
    assert LOADED_URL.findall(page) == [f"{MIRROR}/{asset.key}" for asset in ASSETS]
    assert (await client.get(f"/graphiql-assets/{ASSETS[0].key}")).status_code == 404


async def test_without_graphiql_nothing_is_served(copy: Path, tmp_path: Path, start: Any) -> None:
    client, logged = await start(
        app_settings(tmp_path, graphiql_assets_dir=str(copy), graphiql=False)
    )

    assert logged == []
    assert (await client.get(f"/graphiql-assets/{ASSETS[0].key}")).status_code == 404
