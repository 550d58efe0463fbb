"""Export and import rates, and their peak memory, on the benchmark newsroom.

    python -m bench.portability [--items N] [--db sqlite|postgres] [--work DIR]

Takes the generated newsroom (bench/generate.py: N articles + N/10 video episodes,
cached under bench/work/), runs `cms export` on it, `cms import` of that file into an
empty database (a SQLite file, or with --db postgres the database BENCH_PORTABILITY_URL,
default postgres://postgres@127.0.0.1:5432/bench_portability, dropped and made anew), then
`cms export` of the result, and checks that both exports hold the same lines. Each command
runs as its own process, as an operator runs it: its wall time gives the rate (items per
second) and the kernel's accounting its peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bench import generate, pgload

__all__ = ["Run", "main"]

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/bench_portability"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One command's cost."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def _cms(args: list[str], database_url: str) -> Run:
    """Run `python -m cms ARGS` on `database_url`; its wall time, CPU time and peak RSS.

    The peak is the kernel's high-water mark of the command's own memory (VmHWM), read
    while it runs: the rusage figure of a child would include this process's memory at
    the fork, which holds the generated newsroom."""
    env = {**os.environ, "CMS_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "cms", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        peak_kib = 0
        while True:
            peak_kib = max(peak_kib, _high_water_kib(process.pid))
            waited, status, usage = os.wait4(process.pid, os.WNOHANG)
            if waited:
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"cms {' '.join(args)} failed:\n{errors.read().decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime  # the command's own CPU (the database's too on SQLite)
    return Run(seconds=seconds, cpu_seconds=cpu, peak_rss_mb=peak_kib / 1024)


def _high_water_kib(pid: int) -> int:
    """VmHWM of a running process (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _postgres_url() -> str:
    url = os.environ.get("BENCH_PORTABILITY_URL", DEFAULT_POSTGRES)
    if not urlsplit(url).path.lstrip("/").startswith("bench"):
        raise SystemExit("BENCH_PORTABILITY_URL must name a database called bench…")
    return url


def _target(db: str, work: Path) -> str:
    """An empty, migrated database to import into."""
    if db == "postgres":
        url = _postgres_url()
        asyncio.run(pgload._recreate(url))
    else:
        path = work / "imported.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite://{path}"
    env = {**os.environ, "CMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "cms", "migrate"], env=env, check=True, capture_output=True
    )
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=generate.DEFAULT_ITEMS)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--work",
        type=Path,
        default=generate.WORK_DIR / "portability",
        help="where the files go (another one lets a SQLite and a PostgreSQL run go at once)",
    )
    parser.add_argument(
        "--export",
        type=Path,
        help="import this file, an earlier run's export of the same --items, instead of "
        "exporting again (a PostgreSQL run beside a SQLite one)",
    )
    args = parser.parse_args()

    newsroom = generate.ensure(args.items)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    rows = newsroom.articles + newsroom.videos
    first, second = work / "export.jsonl", work / "again.jsonl"

    load_before = os.getloadavg()[0]
    exported = None
    if args.export is None:
        source = work / "source.sqlite3"
        shutil.copyfile(newsroom.path, source)  # export opens it read-write (WAL): a copy
        exported = _cms(["export", "--output", str(first)], f"sqlite://{source}")
        _done("export", exported)
    else:
        first = args.export
    target = _target(args.db, work)
    imported = _cms(["import", str(first)], target)
    _done("import", imported)
    again = _cms(["export", "--output", str(second)], target)
    _done("second export", again)
    same = _same(first, second)

    size_mb = first.stat().st_size / 1e6
    print(f"## Export and import, {rows:,} items ({args.db} import), {datetime.now(UTC):%Y-%m-%d}")
    print()
    print(f"File: {size_mb:,.0f} MB; the second export holds the same lines: {same}")
    print()
    print(  # the machine may be shared: a busy one makes every wall time longer
        f"Load average (1 min) on {os.cpu_count()} CPUs: {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print()
    print("| step | seconds | items/s | CPU seconds | items per CPU second | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, run in (
        ("export (SQLite)", exported),
        (f"import ({args.db})", imported),
        (f"export ({args.db})", again),
    ):
        if run is None:
            print(f"| {name} | (the file of an earlier run: {first}) | | | | |")
            continue
        rate, cpu_rate = rows / run.seconds, rows / run.cpu_seconds
        print(
            f"| {name} | {run.seconds:,.1f} | {rate:,.0f} | {run.cpu_seconds:,.1f} | "
            f"{cpu_rate:,.0f} | {run.peak_rss_mb:,.0f} MB |"
        )
    if not same:
        raise SystemExit("the exports differ")


def _done(step: str, run: Run) -> None:
    """A line on stderr as each step ends: a run at a million items takes a while."""
    print(f"{datetime.now(UTC):%H:%M:%S} {step}: {run.seconds:,.0f} s", file=sys.stderr, flush=True)


def _same(first: Path, second: Path) -> bool:
    with first.open("rb") as a, second.open("rb") as b:
        while True:
            left, right = a.read(1 << 20), b.read(1 << 20)
            if left != right:
                return False
            if not left:
                return True


if __name__ == "__main__":
    main()
