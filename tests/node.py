"""Real JavaScript clients for the tests: npm packages at pinned versions, installed once into
`.cache/node/<key>` (never committed), and Node.js scripts run against a live server.

Tests that use them skip, naming what is missing, when `node` or `npm` is not installed
(Debian: `apt-get install -y nodejs npm`). CI installs both."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["CACHE_ROOT", "NodeUnavailable", "install", "node_packages", "run_script"]

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_ROOT = REPO_ROOT / ".cache" / "node"
NPM_TIMEOUT_SECONDS = 300


class NodeUnavailable(Exception):
    """node or npm is missing, or npm failed; the message says what to do."""


def _installed(prefix: Path, specs: list[str]) -> bool:
    for spec in specs:
        package, _, version = spec.rpartition("@")
        manifest = prefix / "node_modules" / package / "package.json"
        if not manifest.is_file():
            return False
        if json.loads(manifest.read_text(encoding="utf-8")).get("version") != version:
            return False
    return True


def install(specs: list[str], cache_root: Path = CACHE_ROOT) -> Path:
    """Install exact `package@version` specs once (idempotent); return the folder holding
    their `node_modules`, for a script run with that folder as its working directory."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise NodeUnavailable(f"{tool} is not installed (apt-get install -y nodejs npm)")
    specs = sorted(specs)
    key = hashlib.sha256(" ".join(specs).encode()).hexdigest()[:16]
    target = cache_root / key
    if _installed(target, specs):
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    ignore = cache_root.parent / ".gitignore"  # the cache never reaches a commit
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    staging = cache_root / f"{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    (staging / "package.json").write_text('{"private": true}\n', encoding="utf-8")
    command = [
        "npm", "install", "--prefix", str(staging), "--no-save", "--no-package-lock",
        "--no-audit", "--no-fund", "--ignore-scripts", *specs,
    ]  # fmt: skip
    try:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise NodeUnavailable(f"npm install {' '.join(specs)} timed out") from exc
        if done.returncode != 0 or not _installed(staging, specs):
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
            raise NodeUnavailable(f"npm install {' '.join(specs)} failed:\n{tail}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def node_packages(specs: list[str]) -> Path:
    """`install` for a fixture: skips the test, saying why, when the packages cannot be had."""
    try:
        return install(specs)
    except NodeUnavailable as exc:
        pytest.skip(f"needs npm packages {' '.join(specs)}: {exc}")


def run_script(
    folder: Path, script: str, *, args: list[str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run an ES module script with `folder`'s node_modules; stdout and stderr are captured."""
    path = folder / f"script-{hashlib.sha256(script.encode()).hexdigest()[:12]}.mjs"
    if not path.exists():
        path.write_text(script, encoding="utf-8")
    return subprocess.run(
        ["node", str(path), *(args or [])],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
