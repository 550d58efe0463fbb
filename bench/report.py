"""The report: a table of every Newsdesk figure beside the baseline's, bench/results.json
(every run, one per newsroom size) and bench/RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import targets

__all__ = ["RESULTS_JSON", "RESULTS_MD", "load_runs", "print_table", "save", "write_markdown"]

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
)


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
    one = run.get("one_request_p50_ms")
    for key, label in (("feed_uncached", "first page"), ("feed_deep", "deep page")):
        if one:
            table.append(
                _latency(f"feed, {label}, one request at a time: p50 (ms)",
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
        ("publish mutation p50 (ms)", f"{run['publish']['p50_ms']:.1f}", "-", "-"),
        ("publish mutation p99 (ms)", f"{run['publish']['p99_ms']:.1f}", "-", "-"),
    ]
    return table


def print_table(run: Run, console: Console) -> None:
    table = Table(title=f"Newsdesk vs baseline, {run['newsroom']['items']:,} items")
    for header in ("figure", "Newsdesk", "baseline", "ratio"):
        table.add_column(header, justify="left" if header == "figure" else "right")
    for row in rows(run):
        table.add_row(*row)
    console.print(table)


def load_runs() -> dict[int, Run]:
    if not RESULTS_JSON.exists():
        return {}
    return {int(size): run for size, run in json.loads(RESULTS_JSON.read_text())["sizes"].items()}


def _markdown_table(run: Run) -> list[str]:
    lines = ["| figure | Newsdesk | baseline | ratio |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {' | '.join(row).replace('    ', '&nbsp;&nbsp;')} |" for row in rows(run)]
    return lines


def _run_section(run: Run) -> list[str]:
    machine, newsroom, load = run["machine"], run["newsroom"], run["load"]
    same = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in run["same_json"].items())
    return [
        f"## {newsroom['items']:,} items",
        "",
        f"- date: {run['date']}",
        f"- command: `{run['command']}`",
        f"- machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}; load average at start {machine['load_average']}",
        f"- newsroom: {newsroom['articles']:,} articles + {newsroom['videos']:,} video episodes "
        f"({newsroom['public']:,} public), {newsroom['size_bytes'] / 1e6:,.0f} MB, generated in "
        f"{newsroom['generated_seconds']} s",
        f"- load: {load['tool']}, 1 thread, {load['connections']} connections, "
        f"{load['seconds']} s per figure after {load['warmup']} s of warm-up; server on core 0, "
        "load generator on core 1",
        f"- same JSON from Newsdesk and the baseline: {same}",
        "",
        *_markdown_table(run),
        "",
    ]


def _verdicts(verdicts: list[targets.Verdict]) -> list[str]:
    states = {True: "met", False: "NOT MET", None: "not measured"}
    lines = [f"- **{states[v.met]}**: {v.target}: {v.measured}" for v in verdicts]
    return [*lines, ""]


def _targets_section(runs: dict[int, Run]) -> list[str]:
    lines = ["## Targets (issue 5, part 2)", ""]
    for size in sorted(runs):
        lines += [f"### {size:,} items (run of {runs[size]['date']})", ""]
        lines += _verdicts(targets.of_run(runs[size]))
    return [*lines, "### Across sizes", "", *_verdicts(targets.across_sizes(runs))]


_INTRO = (
    "Written by `make bench` (bench/run.py). Each figure is Newsdesk beside a minimal raw "
    "endpoint (bench/baseline.py: hand-written batched SQL on sqlite3 and orjson) over the "
    "same database file in the same run, because absolute numbers on a shared machine drift "
    "and ratios do not. Throughput ratios are Newsdesk's share of the baseline's; latency, "
    "statement and memory ratios are how many times the baseline's. Server CPU per request is "
    "the worker's user + system CPU time over the measured load divided by the requests "
    "answered: on a busy machine it is the steadier figure. The deep-page and 1,000,000-item "
    "targets are judged on the p50 of requests sent one at a time, first and deep pages "
    "interleaved, because two load runs made one after the other on a shared machine drift "
    "apart; the figures under load stand beside."
)


def write_markdown(runs: dict[int, Run]) -> None:
    """RESULTS.md: the targets, then the newest run's table, then the other sizes'."""
    newest = max(runs, key=lambda size: runs[size]["date"])
    lines = ["# Benchmark results", "", _INTRO, "", *_targets_section(runs)]
    for size in [newest, *(size for size in sorted(runs) if size != newest)]:
        lines += _run_section(runs[size])
    RESULTS_MD.write_text("\n".join(lines).rstrip() + "\n")


def save(run: Run) -> dict[int, Run]:
    """Add `run` to results.json (replacing the previous run of its size), rewrite
    RESULTS.md; return every run by size."""
    runs = load_runs()
    runs[int(run["newsroom"]["items"])] = run
    ordered = {str(size): runs[size] for size in sorted(runs)}
    RESULTS_JSON.write_text(json.dumps({"sizes": ordered}, indent=2) + "\n")
    write_markdown(runs)
    return runs


if __name__ == "__main__":  # python -m bench.report: RESULTS.md again from results.json
    write_markdown(load_runs())
