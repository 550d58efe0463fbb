"""The report: a table of every Newsdesk figure beside the baseline's, bench/results.json
(every run, one per newsroom size) and bench/RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import targets

__all__ = [
    "RESULTS_JSON",
    "RESULTS_MD",
    "database_name",
    "load_runs",
    "print_table",
    "run_key",
    "save",
    "title",
    "write_markdown",
]

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "RESULTS.md"

Run = dict[str, Any]
Row = tuple[str, str, str, str]

_SCENARIOS = (
    ("feed_uncached", "feed, 20 items, uncached (POST)"),
    ("feed_cached", "feed, 20 items, cached (repeated GET)"),
    ("feed_deep", "feed, deep page (POST)"),
    ("article", "article(slug), rotating slugs (POST)"),
    ("search", "search(query), 20 items, rotating words (POST)"),
    ("contents", "contents, 20 items, editor's token, every status (POST)"),
    ("author", "author(slug) with content(first: 20), rotating authors (POST)"),
    ("node", "node(id), rotating content items (POST)"),
)
_DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def database_name(run: Run) -> str:
    return _DATABASES[run.get("database", "sqlite")]


def run_key(run: Run) -> str:
    """results.json's key of a run: its size, and its database unless SQLite ("100000",
    "100000-postgres"); one run is kept per key."""
    database = run.get("database", "sqlite")
    items = int(run["newsroom"]["items"])
    return str(items) if database == "sqlite" else f"{items}-{database}"


def title(run: Run) -> str:
    return f"{run['newsroom']['items']:,} items, {database_name(run)}"


def _share(newsdesk: float, baseline: float) -> str:
    return f"{newsdesk / baseline:.0%}" if newsdesk and baseline else "-"


def _times(newsdesk: float, baseline: float) -> str:
    return f"{newsdesk / baseline:.1f}x" if newsdesk and baseline else "-"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _latency(
    label: str, newsdesk: float | None, baseline: float | None, *, indent: str = "    "
) -> Row:
    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return (indent + label, shown(newsdesk), shown(baseline), _times(newsdesk or 0, baseline or 0))


def rows(run: Run) -> list[Row]:
    """(figure, Newsdesk, baseline, ratio); throughput ratios are Newsdesk's share of the
    baseline's, latency and size ratios how many times the baseline's."""
    table: list[Row] = []
    for key, label in _SCENARIOS:
        if key not in run["scenarios"]:  # a run from before the scenario existed
            continue
        if key == "feed_deep":
            label = f"feed, page after item {run['deep_depth']:,} (POST)"
        nd, base = run["scenarios"][key]["newsdesk"], run["scenarios"][key]["baseline"]
        for who, figures in (("Newsdesk", nd), ("baseline", base)):
            if figures["tool"] != run["load"]["tool"]:  # no answer came within a load run
                label += f" [{who}: {figures['tool']}]"
        table += [
            (
                f"{label}: req/s",
                _count(nd["rps"]),
                _count(base["rps"]),
                _share(nd["rps"], base["rps"]),
            ),
            _latency("p50 latency (ms)", nd["p50_ms"], base["p50_ms"]),
            _latency("p99 latency (ms)", nd["p99_ms"], base["p99_ms"]),
            _latency("server CPU per request (ms)", nd.get("cpu_ms"), base.get("cpu_ms")),
        ]
    table += _day_rows(run.get("newsroom_day"))
    one = run.get("one_request_p50_ms")
    for key, label in (
        ("feed_uncached", "feed, first page"),
        ("feed_deep", "feed, deep page"),
        ("search", "search, rotating words"),
    ):
        if one and key in one["newsdesk"]:
            table.append(
                _latency(f"{label}, one request at a time: p50 (ms)",
                         one["newsdesk"][key], one["baseline"][key], indent="")
            )  # fmt: skip
    sql = run["sql_per_page"]
    for size in sorted(sql["newsdesk"], key=int):
        nd_sql, base_sql = sql["newsdesk"][size], sql["baseline"][size]
        table.append(
            (
                f"SQL statements per feed page, first={size}",
                str(nd_sql),
                str(base_sql),
                _times(nd_sql, base_sql),
            )
        )
    rss = run["rss_mb"]
    table += [
        (
            "worker RSS after load, response cache off (MB)",
            f"{rss['newsdesk_uncached']:.0f}",
            f"{rss['baseline']:.0f}",
            _times(rss["newsdesk_uncached"], rss["baseline"]),
        ),
        (
            "worker RSS after load, default settings (MB)",
            f"{rss['newsdesk']:.0f}",
            f"{rss['baseline']:.0f}",
            _times(rss["newsdesk"], rss["baseline"]),
        ),
    ]
    if run.get("publish"):
        table += [
            ("publish mutation p50 (ms)", f"{run['publish']['p50_ms']:.1f}", "-", "-"),
            ("publish mutation p99 (ms)", f"{run['publish']['p99_ms']:.1f}", "-", "-"),
        ]
    return table


def _hit_rate(figures: dict[str, Any]) -> str:
    rate = figures.get("cache_hit_rate")
    return "not measured" if rate is None else f"{rate:.1%}"


def _day_rows(day: dict[str, Any] | None) -> list[Row]:
    """The newsroom day: Newsdesk alone (the baseline has no writes to invalidate with);
    the ratio column is with writes as a share of without."""
    if not day:
        return []
    calm, busy = day["without_writes"], day["with_writes"]
    writes = busy.get("writes", {})
    label = (
        f"newsroom day (GET: front page, sections, {day['hot_articles']:,} hot articles by "
        "Zipf, searches; cache on)"
    )
    return [
        (f"{label}: req/s without writes", _count(calm["rps"]), "-", "-"),
        (
            f"    req/s with an editor's write every {writes.get('every_seconds', 2):g} s "
            f"({writes.get('count', 0)} writes)",
            _count(busy["rps"]),
            "-",
            _share(busy["rps"], calm["rps"]),
        ),
        (
            "    p99 latency without / with writes (ms)",
            f"{calm['p99_ms']:.2f} / {busy['p99_ms']:.2f}",
            "-",
            "-",
        ),
        (
            "    server CPU per request without / with writes (ms)",
            f"{calm['cpu_ms']:.2f} / {busy['cpu_ms']:.2f}",
            "-",
            "-",
        ),
        (
            "    cache hit rate without / with writes",
            f"{_hit_rate(calm)} / {_hit_rate(busy)}",
            "-",
            "-",
        ),
    ]


def print_table(run: Run, console: Console) -> None:
    table = Table(title=f"Newsdesk vs baseline, {title(run)}")
    for header in ("figure", "Newsdesk", "baseline", "ratio"):
        table.add_column(header, justify="left" if header == "figure" else "right")
    for row in rows(run):
        table.add_row(*row)
    console.print(table)


def load_runs() -> dict[str, Run]:
    """Every kept run by its key (see run_key)."""
    if not RESULTS_JSON.exists():
        return {}
    return dict(json.loads(RESULTS_JSON.read_text())["sizes"].items())


def _ordered(runs: dict[str, Run]) -> list[str]:
    """Keys by database (SQLite first), then size."""
    order = list(_DATABASES)
    return sorted(
        runs,
        key=lambda key: (
            order.index(runs[key].get("database", "sqlite")),
            int(runs[key]["newsroom"]["items"]),
        ),
    )


def _markdown_table(run: Run) -> list[str]:
    lines = ["| figure | Newsdesk | baseline | ratio |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {' | '.join(row).replace('    ', '&nbsp;&nbsp;')} |" for row in rows(run)]
    return lines


def _run_section(run: Run) -> list[str]:
    machine, newsroom, load = run["machine"], run["newsroom"], run["load"]
    same = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in run["same_json"].items())
    return [
        f"## {title(run)}",
        "",
        f"- date: {run['date']}",
        f"- command: `{run['command']}`",
        f"- machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}"
        + (f", PostgreSQL {machine['postgres']}" if machine.get("postgres") else "")
        + f"; load average at start {machine['load_average']}",
        f"- newsroom: {newsroom['articles']:,} articles + {newsroom['videos']:,} video episodes "
        f"({newsroom['public']:,} public), {newsroom['size_bytes'] / 1e6:,.0f} MB, generated in "
        f"{newsroom['generated_seconds']} s"
        + (
            f", loaded into PostgreSQL in {run['postgres_load_seconds']} s"
            if run.get("postgres_load_seconds")
            else ""
        ),
        f"- load: {load['tool']}, 1 thread, {load['connections']} connections, "
        f"{load['seconds']} s per figure after {load['warmup']} s of warm-up"
        + (f" ({load['day_seconds']} s per newsroom-day figure)" if load.get("day_seconds") else "")
        + "; server on core 0, load generator on core 1",
        f"- same JSON from Newsdesk and the baseline: {same}",
        "",
        *_markdown_table(run),
        "",
    ]


def _verdicts(verdicts: list[targets.Verdict]) -> list[str]:
    states = {True: "met", False: "NOT MET", None: "not measured"}
    lines = [f"- **{states[v.met]}**: {v.target}: {v.measured}" for v in verdicts]
    return [*lines, ""]


def _targets_section(runs: dict[str, Run]) -> list[str]:
    lines = ["## Targets (issue 5, part 2; issue 11, part 4)", ""]
    for key in _ordered(runs):
        lines += [f"### {title(runs[key])} (run of {runs[key]['date']})", ""]
        lines += _verdicts(targets.of_run(runs[key]))
    return [*lines, "### Across sizes (SQLite)", "", *_verdicts(targets.across_sizes(runs))]


_INTRO = (
    "Written by `make bench` (bench/run.py). Each figure is Newsdesk beside a minimal raw "
    "endpoint (bench/baseline.py: hand-written batched SQL on sqlite3 and orjson) over the "
    "same database file in the same run, because absolute numbers on a shared machine drift "
    "and ratios do not. Each read figure is measured in five alternating slices (Newsdesk "
    "2 s, baseline 2 s, Newsdesk 2 s, ...) after a warm-up of each, and each server's slices "
    "are merged: their requests over their time, and every latency wrk saw in one "
    "distribution for p50 and p99, so that a slower minute of the shared machine falls on "
    "both. Throughput ratios are Newsdesk's share of the baseline's; latency, "
    "statement and memory ratios are how many times the baseline's. Server CPU per request is "
    "the worker's user + system CPU time over the measured load divided by the requests "
    "answered: on a busy machine it is the steadier figure. The deep-page and 1,000,000-item "
    "targets are judged on the p50 of requests sent one at a time, first pages, deep pages "
    "and searches interleaved, because two load runs made one after the other on a shared "
    "machine drift "
    "apart; the figures under load stand beside. Each database has its own sections: "
    "`make bench DB=postgres` loads the same newsroom into PostgreSQL and both servers read it "
    "there (the baseline on asyncpg; PostgreSQL's own CPU is in neither server's figure). The "
    "newsroom day is Newsdesk alone with its default settings (response cache on): GET reads "
    "of the front page, section fronts, 2,000 hot articles picked by a Zipf distribution and "
    "a few searches, without writes and while an editor saves or publishes an item every 2 s "
    "(four alternating slices of each); its ratio is the throughput with writes as a share "
    "of without, and the cache hit rate comes from the server's /metrics."
)


# Below this line RESULTS.md holds figures of the other benchmarks (bench-outbox,
# bench-portability, ...), written by hand with their date and command: kept as they are.
KEPT = "<!-- Other benchmarks, written by hand below this line: make bench keeps them. -->"


def write_markdown(runs: dict[str, Run], path: Path = RESULTS_MD) -> None:
    """RESULTS.md: the targets, then the newest run's table, then the others' (a section
    per size and database), then whatever stood below the KEPT line."""
    newest = max(runs, key=lambda key: runs[key]["date"])
    lines = ["# Benchmark results", "", _INTRO, "", *_targets_section(runs)]
    for key in [newest, *(key for key in _ordered(runs) if key != newest)]:
        lines += _run_section(runs[key])
    text = "\n".join(lines).rstrip() + "\n"
    before = path.read_text() if path.exists() else ""
    if KEPT in before:
        text += "\n" + KEPT + before.split(KEPT, 1)[1]
    path.write_text(text)


def save(run: Run) -> dict[str, Run]:
    """Add `run` to results.json (replacing the previous run of its size and database),
    rewrite RESULTS.md; return every run by key."""
    runs = load_runs()
    runs[run_key(run)] = run
    ordered = {key: runs[key] for key in _ordered(runs)}
    RESULTS_JSON.write_text(json.dumps({"sizes": ordered}, indent=2) + "\n")
    write_markdown(runs)
    return runs


if __name__ == "__main__":  # python -m bench.report: RESULTS.md again from results.json
    write_markdown(load_runs())
