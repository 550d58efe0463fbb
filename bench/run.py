"""`make bench`: generate (or reuse) a newsroom, then measure Newsdesk and the baseline.

    python -m bench.run [--items N] [--db sqlite|postgres] [--only A,B] [--regenerate]
                        [--seconds S] [--day-seconds S] [--loadgen wrk|python]

Each server runs as one uvicorn worker pinned to core 0 (only the one under load is
busy); the load generator runs on core 1. Newsdesk runs twice: with the response cache
off (CMS_RESPONSE_CACHE=false) for the uncached figures, sent as POST requests that no
cache serves anyway, and with its default settings for the cached figure (one GET
repeated), the newsroom day (bench/newsday.py: a mix of GET reads, without writes and
then with an editor's write every 2 s) and the publish mutation, timed last since they
write. With `--db postgres` the newsroom is loaded into PostgreSQL (bench/pgload.py,
BENCH_DATABASE_URL) and both servers read it there; PostgreSQL's own CPU is not counted
in either server's CPU per request.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console

from bench import generate, newsday, pgload, report, servers, targets
from bench.load import LoadResult, Requests, available_tool, merged, probe, run_load
from bench.plan import READS, Plan, make_plan
from bench.publish import measure_publish

__all__ = ["main"]

SQL_PAGE_SIZES = (1, 20, 100)
# Each read figure is this many alternating slices per server (bench/run.py measure_pair).
SLICES = 5
# The newsroom day's two figures: this many alternating slices each.
DAY_SLICES = 4
SCENARIOS = (*READS, "feed_cached")
PARTS = (*SCENARIOS, "newsday", "publish")
# The figures also measured one request at a time, interleaved (`Session.one_at_a_time`).
_ONE_LABELS = {"feed_uncached": "first", "feed_deep": "deep", "search": "search"}

console = Console(width=None if sys.stdout.isatty() else 120)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark Newsdesk against a raw baseline.")
    parser.add_argument(
        "--items",
        type=int,
        default=generate.DEFAULT_ITEMS,
        help="articles in the newsroom (plus 10%% video episodes)",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate the newsroom anew")
    parser.add_argument("--seconds", type=int, default=10, help="load per figure")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up load before each figure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--loadgen", choices=("wrk", "python"), default="wrk")
    parser.add_argument("--publishes", type=int, default=200, help="publish mutations timed")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the database both servers read (postgres: BENCH_DATABASE_URL, "
        f"default {pgload.DEFAULT_URL})",
    )
    parser.add_argument(
        "--only",
        type=_parts,
        default=PARTS,
        help=f"comma-separated figures to measure, of: {', '.join(PARTS)} (default all)",
    )
    parser.add_argument(
        "--day-seconds", type=int, default=20, help="load per newsroom-day figure (two figures)"
    )
    return parser.parse_args()


def _parts(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in PARTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; choose from {PARTS}")
    return chosen


def _command(argv: list[str], *, make: bool) -> str:
    """The command that made this run, as its reader would type it again."""
    if not make:
        return f"python -m bench.run {shlex.join(argv)}".strip()
    rest, database = list(argv), None
    if "--db" in rest[:-1]:
        at = rest.index("--db")
        database = rest[at + 1]
        del rest[at : at + 2]
    options = shlex.join(rest)
    return (
        "make bench"
        + (f" DB={database}" if database else "")
        + (f' ARGS="{options}"' if options else "")
    )


def _machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo.splitlines()
        if line.startswith("model name")
    ]
    return {
        "cpu": models[0] if models else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


def _cms(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cms", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cms {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def _prepare(
    newsroom: generate.GeneratedNewsroom, run_dir: Path, db: str
) -> tuple[Path, str, float | None]:
    """A scratch copy of the cached newsroom (the publish figure writes to it), migrated,
    and the URL the servers read: the copy's, or a PostgreSQL database loaded from it.
    Returns the copy, the URL and the seconds loading PostgreSQL took."""
    run_dir.mkdir(parents=True, exist_ok=True)
    database = run_dir / "newsroom.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(newsroom.path, database)
    url, loaded = f"sqlite://{database}", None
    if db == "postgres":
        url = pgload.database_url()
        console.print(f"loading the newsroom into {url}")
        loaded = pgload.load(newsroom, url)
        console.print(f"  loaded in {loaded} s")
    _cms(["migrate"], servers.base_env(url, run_dir), run_dir)
    return database, url, loaded


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        content=body,
        timeout=30,
        trust_env=False,
        headers={"content-type": "application/json", **(headers or {})},
    )
    response.raise_for_status()
    data = response.json()
    if data.get("errors"):
        raise RuntimeError(f"{url} answered errors: {data['errors']}")
    return data


class Session:
    """One run's servers, figures and answers."""

    def __init__(self, args: argparse.Namespace, run_dir: Path, plan: Plan) -> None:
        self.args = args
        self.run_dir = run_dir
        self.plan = plan
        self.tool = available_tool(args.loadgen)
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.rss: dict[str, float] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        self.one_request_p50: dict[str, dict[str, float]] = {}
        self.day: dict[str, Any] = {}

    def answer(self, server: servers.Server, who: str) -> None:
        """Ask once for each kind of answer (and fail early if one is an error)."""
        checks = self.plan.checks(who)
        self.answers[who] = {
            name: _post(server.url, body, self.plan.check_headers(name))
            for name, body in checks.items()
        }

    def one_at_a_time(
        self, server: servers.Server, who: str, scenarios: tuple[str, ...], *, rounds: int = 100
    ) -> None:
        """p50 latency of the first page, the deep page and a search (its words in turn),
        one request at a time, interleaved so that all see the same machine: the figures
        that drift on a shared machine cannot tilt."""
        bodies = {scenario: self.plan.requests(who, scenario).bodies for scenario in scenarios}
        timings: dict[str, list[float]] = {scenario: [] for scenario in scenarios}
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as client:
            for round_ in range(rounds):
                for scenario, sent in bodies.items():
                    body = sent[round_ % len(sent)]
                    started = time.perf_counter()
                    client.post("/graphql", content=body, headers=headers).raise_for_status()
                    timings[scenario].append((time.perf_counter() - started) * 1000)
        p50 = {
            scenario: round(statistics.median(values), 3) for scenario, values in timings.items()
        }
        shown = ", ".join(f"{_ONE_LABELS[scenario]} {p50[scenario]:.2f} ms" for scenario in p50)
        console.print(f"  {who:<24} one at a time: p50 {shown}")
        self.one_request_p50[who] = p50

    def answer_get(self, server: servers.Server, who: str) -> None:
        """The cached figure's GET, asked twice: the second answer may come from a cache."""
        path = self.plan.requests(who, "feed_cached").path
        for _ in range(2):
            response = httpx.get(server.url + path, timeout=30, trust_env=False)
            response.raise_for_status()
        self.answers[who]["feed (cached GET)"] = response.json()

    def measure_pair(self, pair: dict[str, servers.Server], scenario: str) -> None:
        """One figure of Newsdesk and of the baseline, measured in alternating slices
        (Newsdesk, baseline, Newsdesk, ...), each server's slices merged into one figure:
        both see the same machine, so a minute of a slower shared machine tilts neither
        the throughput nor the latency ratio (the tails above all)."""
        common = {"connections": self.args.connections, "workdir": self.run_dir, "tool": self.tool}
        plans = {who: self.plan.requests(who, scenario) for who in pair}
        for who, server in pair.items():
            name = f"{who}-{scenario}-warmup"
            run_load(server.url, plans[who], seconds=self.args.warmup, name=name, **common)
            server.wait_idle()
        slices: dict[str, list[LoadResult]] = {who: [] for who in pair}
        cpu: dict[str, float] = dict.fromkeys(pair, 0.0)
        seconds = max(1, self.args.seconds // SLICES)
        for number in range(SLICES):
            for who, server in pair.items():
                before = server.cpu_seconds()
                name = f"{who}-{scenario}-{number + 1}"
                result = run_load(server.url, plans[who], seconds=seconds, name=name, **common)
                slices[who].append(result)
                cpu[who] += server.cpu_seconds() - before
                server.wait_idle()
        for who, server in pair.items():
            result = merged(slices[who])
            if not result.requests:  # every answer took longer than a slice
                before = server.cpu_seconds()
                result = probe(server.url, plans[who])
                cpu[who] = server.cpu_seconds() - before
            self.scenarios.setdefault(scenario, {})[who] = self._figures(
                f"{who}-{scenario}", result, cpu[who]
            )

    def _figures(self, name: str, result: LoadResult, cpu: float) -> dict[str, Any]:
        cpu_ms = round(cpu * 1000 / result.requests, 3)
        if result.errors or result.non_2xx:
            console.print(
                f"[red]{name}: {result.errors} socket errors, {result.non_2xx} non-2xx[/red]"
            )
        console.print(
            f"  {name:<24} {result.rps:>8,.1f} req/s  p50 {result.p50_ms:8.2f} ms  "
            f"p99 {result.p99_ms:8.2f} ms  CPU {cpu_ms:6.2f} ms/request  ({result.tool})"
        )
        figures = {key: value for key, value in asdict(result).items() if key != "latencies"}
        return figures | {"cpu_ms": cpu_ms}

    def newsroom_day(self, server: servers.Server, token: str, database: Path) -> None:
        """The newsroom day's reads without writes and with an editor's write every 2 s,
        in alternating slices (as the read figures are, so that a slower minute of a shared
        machine tilts neither); the cache hit rate of each from /metrics, when the server
        counts it."""
        day = newsday.make_day_plan(database)
        requests = Requests("GET", day.paths[0], paths=day.paths)
        for path in newsday.one_of_each(day.paths):
            response = httpx.get(server.url + path, timeout=30, trust_env=False)
            response.raise_for_status()
            if response.json().get("errors"):
                raise RuntimeError(f"newsroom day: {path} answered {response.json()['errors']}")
        common = {"connections": self.args.connections, "workdir": self.run_dir, "tool": self.tool}
        # Fill the cache once, as a morning's first readers do.
        run_load(server.url, requests, seconds=self.args.warmup, name="newsday-warmup", **common)
        labels = ("without_writes", "with_writes")
        slices: dict[str, list[LoadResult]] = {label: [] for label in labels}
        cpu = dict.fromkeys(labels, 0.0)
        lookups = {label: newsday.CacheCounts(0.0, 0.0) for label in labels}
        counted = True
        written = newsday.WriteResult()
        seconds = max(1, self.args.day_seconds // DAY_SLICES)
        for number in range(DAY_SLICES):
            for label in labels:
                editor = newsday.Editor(server.url, token, day) if label == "with_writes" else None
                before = newsday.read_cache_counts(server.url)
                cpu_before = server.cpu_seconds()
                if editor is not None:
                    editor.start()
                try:
                    name = f"newsday-{label}-{number + 1}"
                    slices[label].append(
                        run_load(server.url, requests, seconds=seconds, name=name, **common)
                    )
                finally:
                    if editor is not None:
                        written.merge(editor.stop())
                cpu[label] += server.cpu_seconds() - cpu_before
                after = newsday.read_cache_counts(server.url)
                if before is None or after is None:
                    counted = False
                else:
                    lookups[label] = lookups[label] + (after - before)
                server.wait_idle()
        figures: dict[str, Any] = {}
        for label in labels:
            result = merged(slices[label])
            figures[label] = self._figures(f"newsday-{label}", result, cpu[label])
            rate = newsday.hit_rate(newsday.CacheCounts(0.0, 0.0), lookups[label])
            figures[label]["cache_hit_rate"] = rate if counted else None
            shown = f"{rate:.1%}" if counted and rate is not None else "not measured"
            console.print(f"  {'cache hit rate':<24} {shown}")
        figures["with_writes"]["writes"] = written.summary()
        console.print(
            f"  {'editor':<24} {written.count} writes ({written.errors} failed), "
            f"p50 {figures['with_writes']['writes']['p50_ms']:.1f} ms"
        )
        figures |= {
            "hot_articles": newsday.HOT_ARTICLES,
            "rotation": len(day.paths),
            "distinct_urls": len(set(day.paths)),
            "mix": dict(newsday.MIX),
            "slices": DAY_SLICES,
        }
        self.day = figures

    def same_json(self) -> dict[str, bool]:
        for who, served in self.answers.items():
            path = self.run_dir / f"answers-{who}.json"
            path.write_bytes(orjson.dumps(served, option=orjson.OPT_INDENT_2))
        newsdesk, base = self.answers["newsdesk"], self.answers["baseline"]
        same = {name: newsdesk[name] == base[name] for name in newsdesk}
        same["cached GET = POST"] = newsdesk["feed (cached GET)"] == newsdesk["feed"]
        for name, ok in same.items():
            if not ok:
                console.print(f"[red]{name}: the answers differ ({self.run_dir}/answers-*)[/red]")
        return same


def _count_sql(env: dict[str, str], run_dir: Path) -> dict[str, dict[str, int]]:
    console.print("counting SQL statements per feed page (in-process)")


def _count_sql(env: dict[str, str], run_dir: Path) -> dict[str, dict[str, int]]:
    console.print("counting SQL statements per feed page (in-process)")
    command = [sys.executable, "-m", "bench.sqlcount", *map(str, SQL_PAGE_SIZES)]
    done = subprocess.run(command, env=env, cwd=run_dir, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench.sqlcount exited {done.returncode}:\n{done.stderr}")
    counts: dict[str, dict[str, int]] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return counts


def main() -> None:
    args = _arguments()
    command = _command(sys.argv[1:], make=bool(os.environ.get("MAKELEVEL")))
    started = time.perf_counter()
    machine = _machine()
    if os.getloadavg()[0] > 1:
        console.print(
            f"[yellow]the machine is busy (load average {machine['load_average']}): figures "
            "will be noisy; the ratios hold better than the absolute numbers[/yellow]"
        )
    newsroom = generate.ensure(args.items, regenerate=args.regenerate)
    console.print(f"newsroom: {newsroom.path.name}, {newsroom.public:,} public items")
    suffix = "" if args.db == "sqlite" else f"-{args.db}"
    run_dir = generate.WORK_DIR / f"run-{args.items}{suffix}"
    database, url, loaded = _prepare(newsroom, run_dir, args.db)
    env = servers.base_env(url, run_dir)
    uncached_env = {**env, "CMS_RESPONSE_CACHE": "false"}
    created = _cms(["token", "create", "--name", "bench", "--role", "editor"], env, run_dir)
    token = created.strip().splitlines()[-1]
    plan = make_plan(database, public=newsroom.public, token=token)
    session = Session(args, run_dir, plan)
    sql = _count_sql(uncached_env, run_dir)

    only = set(args.only)
    publish = None
    serve = functools.partial(servers.serve, log_dir=run_dir)
    with serve("newsdesk", ["cms", "serve"], env) as nd:
        with contextlib.ExitStack() as others:
            nd_off = others.enter_context(
                serve("newsdesk-cache-off", ["cms", "serve"], uncached_env)
            )
            base = others.enter_context(serve("baseline", ["bench.baseline"], env))
            session.answer(nd_off, "newsdesk")
            session.answer(base, "baseline")
            session.answer_get(nd, "newsdesk")
            session.answer_get(base, "baseline")
            for scenario in (scenario for scenario in SCENARIOS if scenario in only):
                newsdesk = nd if scenario == "feed_cached" else nd_off
                session.measure_pair({"newsdesk": newsdesk, "baseline": base}, scenario)
            one = tuple(scenario for scenario in _ONE_LABELS if scenario in only)
            if "feed_uncached" in one and len(one) > 1:
                session.one_at_a_time(nd_off, "newsdesk", one)
                session.one_at_a_time(base, "baseline", one)
            session.rss |= {"newsdesk_uncached": nd_off.rss_mb(), "baseline": base.rss_mb()}
        # With the other servers stopped: the figures that write are one worker's.
        if "newsday" in only:
            console.print("  newsroom day: GET reads of the front page, sections, hot articles")
            session.newsroom_day(nd, token, database)
        if "publish" in only:
            console.print(f"  timing {args.publishes} publish mutations")
            publish = measure_publish(nd.url, token, count=args.publishes)
        session.rss["newsdesk"] = nd.rss_mb()

    run = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "database": args.db,
        "machine": machine,
        "newsroom": {key: value for key, value in asdict(newsroom).items() if key != "path"},
        "postgres_load_seconds": loaded,
        "load": {
            "tool": session.tool,
            "connections": args.connections,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "day_seconds": args.day_seconds,
        },
        "deep_depth": session.plan.deep_depth,
        "scenarios": session.scenarios,
        "newsroom_day": session.day or None,
        "sql_per_page": sql,
        "rss_mb": session.rss,
        "publish": asdict(publish) if publish is not None else None,
        "one_request_p50_ms": session.one_request_p50,
        "same_json": session.same_json(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    if args.db == "postgres":
        run["machine"]["postgres"] = _postgres_version(url)
    runs = report.save(run)
    report.print_table(run, console)
    for verdict in targets.judge(runs, report.run_key(run)):
        state = {True: "[green]met[/green]", False: "[red]NOT MET[/red]", None: "not measured"}
        console.print(f"  {state[verdict.met]}: {verdict.target}: {verdict.measured}")
    console.print(f"wrote {report.RESULTS_MD} and {report.RESULTS_JSON} ({run['wall_seconds']} s)")


def _postgres_version(url: str) -> str:
    import asyncio

    import asyncpg

    async def version() -> str:
        connection = await asyncpg.connect(pgload.dsn(url))
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    return asyncio.run(version())


if __name__ == "__main__":
    main()
