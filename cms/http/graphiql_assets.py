"""GraphiQL's browser files on this server: fetched once with npm, served at /graphiql-assets.

Strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from a public CDN,
so offline, or behind a strict network, it stays on "Loading…". `install(target)` (the
`cms graphiql-assets` command, `make graphiql-assets`) fetches exactly the npm packages the
page names, at the versions it names, and lays them out the way the CDN does:

    {target}/react@18.2.0/umd/react.production.min.js
    {target}/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js
    …

Each package folder holds the files the page loads, plus the package's `package.json`
(its version is checked) and licence. They are real files, not links, so the folder can be
copied anywhere (a Docker image, another machine). Every file is checked against the
subresource-integrity hash of the page's tag: the browser refuses a file that differs.

npm fetches the packages' tarballs (`npm pack`: the packages alone, none of their
dependencies, no install scripts, no lockfile); Python extracts the few files needed. A
second run with every file in place does nothing. A package folder appears whole or not at
all: it is assembled in a staging folder beside the target, then renamed into place.

At start-up `page_assets(settings)` decides where the page loads its assets from:
`CMS_GRAPHIQL_ASSETS_URL` when set; else `/graphiql-assets` on this server when
`CMS_GRAPHIQL_ASSETS_DIR` holds every file the page loads (create_app mounts it there);
else the CDN, as Strawberry's page has it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from cms.config import Settings
from cms.http import graphiql, npm
from cms.http.graphiql import Asset

__all__ = [
    "MOUNT_PATH",
    "NPM_TIMEOUT_SECONDS",
    "AssetFiles",
    "AssetsUnavailable",
    "PageAssets",
    "check",
    "install",
    "page_assets",
]

MOUNT_PATH = "/graphiql-assets"
NPM_TIMEOUT_SECONDS = 300.0

# The paths are versioned ({package}@{version}/…): a file never changes meaning.
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}

_HASHES = ("sha256", "sha384", "sha512")  # weakest first, as subresource integrity ranks them


class AssetsUnavailable(Exception):
    """npm is missing or failed, or the folder cannot be written; the message says why."""


# --- checking a folder ---------------------------------------------------------------------


def _by_package(assets: Iterable[Asset]) -> dict[str, list[Asset]]:
    """The assets grouped by `package@version`, in page order."""
    groups: dict[str, list[Asset]] = {}
    for asset in assets:
        groups.setdefault(asset.spec, []).append(asset)
    return groups


def _safe(relative: str) -> bool:
    path = PurePosixPath(relative)
    return bool(relative) and not path.is_absolute() and ".." not in path.parts


def _integrity_matches(data: bytes, integrity: str) -> bool:
    """Subresource integrity as a browser applies it: the strongest algorithm listed
    decides, and any of its hashes may match. No known algorithm: nothing to check."""
    listed: dict[str, list[str]] = {}
    for token in integrity.split():
        algorithm, _, digest = token.partition("-")
        if algorithm in _HASHES:
            listed.setdefault(algorithm, []).append(digest.partition("?")[0])
    if not listed:
        return True
    strongest = max(listed, key=_HASHES.index)
    actual = base64.b64encode(hashlib.new(strongest, data).digest()).decode("ascii")
    return actual in listed[strongest]


def _package_problems(site: Path, spec: str, assets: Sequence[Asset]) -> list[str]:
    """What is wrong with one `{site}/{package}@{version}` folder (nothing: empty)."""
    package, version = assets[0].package, assets[0].version
    folder = site / spec
    manifest = folder / "package.json"
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{spec} is missing"]
    except (OSError, ValueError) as error:
        return [f"{spec}/package.json is unreadable ({error})"]
    if not isinstance(meta, dict) or (meta.get("name"), meta.get("version")) != (package, version):
        found = f"{meta.get('name')}@{meta.get('version')}" if isinstance(meta, dict) else "?"
        return [f"{spec} holds {found}, the page loads {spec}"]
    problems = []
    root = site.resolve()
    for asset in assets:
        path = folder / asset.path
        if not _safe(asset.path):
            problems.append(f"{asset.key}: the page names a path outside its package")
        elif not path.is_file():
            problems.append(f"{asset.key} is missing")
        elif not path.resolve().is_relative_to(root):
            # Not served (StaticFiles stays inside its folder), and gone once copied elsewhere.
            problems.append(f"{asset.key} links out of the folder")
        elif asset.integrity and not _integrity_matches(path.read_bytes(), asset.integrity):
            problems.append(f"{asset.key} differs from the file the page's integrity hash names")
    return problems


def _problems_by_package(site: Path, assets: Sequence[Asset]) -> dict[str, list[str]]:
    found = {
        spec: _package_problems(site, spec, group) for spec, group in _by_package(assets).items()
    }
    return {spec: problems for spec, problems in found.items() if problems}


def check(site: Path, assets: Sequence[Asset] | None = None) -> list[str]:
    """What keeps `site` from serving every file GraphiQL's page loads, in plain words;
    empty when the page can load all of them from it (right package, right version, bytes
    matching the page's integrity hashes)."""
    if assets is None:
        assets = graphiql.default_assets()
    if not site.is_dir():
        return [f"{site} is not a folder"]
    return [
        problem for problems in _problems_by_package(site, assets).values() for problem in problems
    ]


# --- installing ------------------------------------------------------------------------------


def _move_into(site: Path, target: Path, specs: Iterable[str], aside: Path) -> None:
    """Rename each staged package folder into `target`, a previous one moved aside first."""
    target.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        destination = target / spec
        destination.parent.mkdir(parents=True, exist_ok=True)  # @scope/
        if destination.exists() or destination.is_symlink():
            old = aside / spec
            old.parent.mkdir(parents=True, exist_ok=True)
            destination.rename(old)
        (site / spec).rename(destination)


def install(
    target: Path,
    *,
    progress: Callable[[str], None],
    timeout: float = NPM_TIMEOUT_SECONDS,
) -> Path:
    """Put every file GraphiQL's page loads into `target` as `{package}@{version}/{path}`,
    fetching with npm only the packages that are missing or wrong there; return `target`.
    Raises AssetsUnavailable, with a one-line message, when npm is missing or fails."""
    target = Path(target)
    assets = graphiql.default_assets()
    groups = _by_package(assets)
    for asset in assets:
        if not _safe(asset.path):
            raise AssetsUnavailable(f"GraphiQL's page names an unsafe asset path: {asset.key}")
    needed = _problems_by_package(target, assets)
    if not needed:
        progress(
            f"{target} already holds the {len(assets)} files GraphiQL's page loads "
            f"({', '.join(groups)}): nothing to do"
        )
        return target
    specs = sorted(needed)
    if target.exists():
        for problems in needed.values():
            progress(f"{target}: " + "; ".join(problems))

    executable = shutil.which("npm")
    if executable is None:
        raise AssetsUnavailable(
            "npm is not installed: apt-get install -y npm (or install Node.js, which brings npm)"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise AssetsUnavailable(f"cannot write beside {target}: {error.strerror}") from None
    try:
        progress(f"fetching {' '.join(specs)} with npm")
        tarballs = npm.pack(executable, specs, staging / "npm", timeout)
        site = staging / "site"
        for spec in specs:
            npm.extract(tarballs[spec], site / spec, {asset.path for asset in groups[spec]})
        wrong = [
            problem for spec in specs for problem in _package_problems(site, spec, groups[spec])
        ]
        if wrong:
            raise AssetsUnavailable(
                "npm's packages are not the files GraphiQL's page loads: " + "; ".join(wrong)
            )
        _move_into(site, target, specs, staging / "replaced")
    except npm.NpmFailed as error:
        raise AssetsUnavailable(str(error)) from None
    except OSError as error:
        raise AssetsUnavailable(f"cannot write {target}: {error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    problems = check(target, assets)
    if problems:
        raise AssetsUnavailable(f"{target} is still incomplete: " + "; ".join(problems))
    progress(f"{target}: {len(assets)} files in place, each matching the page's integrity hash")
    return target


# --- serving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageAssets:
    """Where GraphiQL's page loads its assets from, decided once at start-up.

    `url` is the base URL the page's asset URLs are rewritten to (None: Strawberry's CDN);
    `directory` is the folder this app serves at MOUNT_PATH (None: it serves none);
    `note` says which, for the start-up log; `warning` when a folder is there but unusable."""

    url: str | None
    directory: Path | None
    note: str
    warning: bool = False


def page_assets(settings: Settings) -> PageAssets:
    """`CMS_GRAPHIQL_ASSETS_URL` when set; else this app's `/graphiql-assets` when
    `CMS_GRAPHIQL_ASSETS_DIR` holds every file the page loads; else the CDN."""
    url = settings.graphiql_assets_url
    if url:
        return PageAssets(
            url, None, f"GraphiQL loads its assets from CMS_GRAPHIQL_ASSETS_URL={url}"
        )
    directory = Path(settings.graphiql_assets_dir)
    if not directory.exists():
        return PageAssets(
            None,
            None,
            f"GraphiQL loads its assets from the public CDN: {directory} does not exist "
            "(`make graphiql-assets` fetches them for offline use)",
        )
    problems = check(directory)
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        return PageAssets(
            None,
            None,
            f"GraphiQL loads its assets from the public CDN: {directory} is incomplete "
            f"({problems[0]}{more}; `make graphiql-assets` repairs it)",
            warning=True,
        )
    return PageAssets(
        MOUNT_PATH,
        directory,
        f"GraphiQL's assets are served from {directory} at {MOUNT_PATH}/",
    )


class AssetFiles(StaticFiles):
    """The assets folder, with long-lived cache headers (its paths are versioned)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, follow_symlink=False)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
        status_code: int = 200,
    ) -> Response:  # fmt: skip
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(ASSET_HEADERS)
        return response
