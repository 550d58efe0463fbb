"""npm as a downloader of package tarballs: `pack` fetches exact versions (no scripts, no
dependencies, no lockfile) and `extract` copies chosen files out of a tarball without
extracting it. Failures are one line, from npm's own JSON error report when it gives one."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

__all__ = ["NpmFailed", "extract", "pack"]

_LICENCE_NAMES = ("LICENSE", "LICENCE", "COPYING")


class NpmFailed(Exception):
    """npm could not fetch the packages; the message says why, on one line."""


def _tail(output: str, lines: int = 6) -> str:
    """The last lines of npm's output on one line, without npm's prefix and stack frames."""
    kept = []
    for line in output.splitlines():
        text = line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        if text and not text.startswith("at "):
            kept.append(text)
    return " | ".join(kept[-lines:]) or "no output"


def _npm_failure(done: subprocess.CompletedProcess[str]) -> str:
    """Why npm failed, on one line: its JSON error report (`--json` puts it on stdout),
    else the tail of what it wrote."""
    try:
        error = json.loads(done.stdout)["error"]
        reason = ": ".join(str(error[key]) for key in ("code", "summary") if error.get(key))
        detail = f" ({error['detail']})" if error.get("detail") else ""
    except (ValueError, TypeError, KeyError):
        return _tail(done.stderr or done.stdout)
    if not reason:
        return _tail(done.stderr or done.stdout)
    log = [line for line in done.stderr.splitlines() if "complete log of this run" in line]
    where = f"; npm's log: {log[-1].rpartition(': ')[2].strip()}" if log else ""
    return reason + detail + where


def pack(npm: str, specs: list[str], destination: Path, timeout: float) -> dict[str, Path]:
    """Fetch the packages' tarballs into `destination`; `package@version` -> tarball.
    `npm pack` of a registry package runs no scripts and resolves no dependencies."""
    destination.mkdir(parents=True)
    command = [
        npm, "pack", "--json", "--pack-destination", str(destination),
        "--ignore-scripts", "--no-package-lock", "--no-audit", "--no-fund",
        "--no-update-notifier", "--prefer-offline", *specs,
    ]  # fmt: skip
    wanted = " ".join(specs)
    try:
        done = subprocess.run(
            command,
            cwd=destination,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise NpmFailed(
            f"npm pack {wanted} did not finish within {timeout:g} s "
            "(is the package registry reachable? npm's proxy settings apply)"
        ) from None
    except OSError as error:
        raise NpmFailed(f"npm could not be run: {error}") from None
    if done.returncode != 0:
        raise NpmFailed(f"npm pack {wanted} failed (exit {done.returncode}): {_npm_failure(done)}")
    try:
        packed = json.loads(done.stdout)
        tarballs = {
            f"{item['name']}@{item['version']}": destination / item["filename"] for item in packed
        }
    except (ValueError, TypeError, KeyError):
        raise NpmFailed(
            f"npm pack {wanted} answered something else than its JSON report: " + _tail(done.stdout)
        ) from None
    missing = [spec for spec in specs if spec not in tarballs or not tarballs[spec].is_file()]
    if missing:
        raise NpmFailed(f"npm pack did not fetch {' '.join(missing)}: " + _tail(done.stdout))
    return tarballs


def _licence(relative: str) -> bool:
    return "/" not in relative and relative.upper().startswith(_LICENCE_NAMES)


def extract(tarball: Path, folder: Path, paths: set[str]) -> None:
    """Copy `paths`, package.json and the licence out of an npm tarball into `folder`.
    Members are read, never extracted: nothing lands outside `folder`."""
    folder.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 2:
                continue
            relative = "/".join(parts[1:])  # npm's tarballs hold one top folder, "package/"
            if relative not in paths and relative != "package.json" and not _licence(relative):
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with source, path.open("wb") as output:
                shutil.copyfileobj(source, output)
