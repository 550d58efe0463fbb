"""Load generation: wrk (one thread, pinned to its own core) with a Lua script that rotates
request bodies and prints a JSON summary, or bench.loadgen when wrk is not installed.
Both print one line `BENCH {...}` with the same fields."""

from __future__ import annotations

import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.servers import REPO_ROOT, pinned

__all__ = [
    "LoadResult",
    "Requests",
    "available_tool",
    "merged",
    "percentile",
    "probe",
    "run_load",
]

TIMEOUT = 30

# The summary, and every latency wrk saw as (microseconds, count) pairs: slices of one
# figure measured apart are merged into one distribution (bench/run.py).
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  local pairs_seen = {}
  for i = 1, #latency do
    local value, count = latency(i)
    pairs_seen[#pairs_seen + 1] = string.format('[%.0f, %.0f]', value, count)
  end
  io.write(string.format(
    'BENCH {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"errors": %.0f, "non_2xx": %.0f, "latency_us": [%s]}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(pairs_seen, ', ')))
end
"""


@dataclass(frozen=True)
class Requests:
    """What to send, rotating through `bodies` (POST), or through `paths` (GET), or one
    request to `path`; every request carries `headers`."""

    method: str
    path: str
    bodies: tuple[bytes, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    paths: tuple[str, ...] = ()

    def sent(self) -> list[tuple[str, bytes | None]]:
        """(path, body) of each request in the rotation, in order."""
        if self.paths:
            return [(path, None) for path in self.paths]
        if self.bodies:
            return [(self.path, body) for body in self.bodies]
        return [(self.path, None)]

    def all_headers(self) -> dict[str, str]:
        content_type = {"Content-Type": "application/json"} if self.bodies else {}
        return content_type | dict(self.headers)


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    # Every latency seen, in microseconds, with how often: {latency: count}.
    latencies: dict[int, int] = field(default_factory=dict, repr=False, compare=False)


def percentile(latencies: dict[int, int], share: float) -> float:
    """The latency (µs) at `share` (0.99 for p99) of a {latency: count} distribution."""
    total = sum(latencies.values())
    if not total:
        return 0.0
    rank = max(1, math.ceil(total * share))
    seen = 0
    for latency in sorted(latencies):
        seen += latencies[latency]
        if seen >= rank:
            return float(latency)
    return float(max(latencies))


def merged(results: list[LoadResult]) -> LoadResult:
    """Slices of one figure as one: their requests over their time, their latencies as one
    distribution."""
    latencies: dict[int, int] = {}
    for result in results:
        for latency, count in result.latencies.items():
            latencies[latency] = latencies.get(latency, 0) + count
    requests = sum(result.requests for result in results)
    seconds = sum(result.seconds for result in results)
    return LoadResult(
        tool=results[0].tool,
        requests=requests,
        seconds=round(seconds, 2),
        rps=round(requests / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(latencies, 0.50) / 1000, 3),
        p99_ms=round(percentile(latencies, 0.99) / 1000, 3),
        errors=sum(result.errors for result in results),
        non_2xx=sum(result.non_2xx for result in results),
        latencies=latencies,
    )


def available_tool(preferred: str) -> str:
    """ "wrk" when asked for and installed, else the bundled Python load generator."""
    return "wrk" if preferred == "wrk" and shutil.which("wrk") else "python"


def _long_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def _lua(requests: Requests) -> str:
    method = json.dumps(requests.method)
    headers = ", ".join(
        f"[ {_long_string(name)} ] = {_long_string(value)}"
        for name, value in requests.all_headers().items()
    )
    items = ",\n".join(
        f"{{{_long_string(path)}, {'nil' if body is None else _long_string(body.decode())}}}"
        for path, body in requests.sent()
    )
    return f"""
local requests = {{
{items}
}}
local prepared = {{}}
local next_index = 0
init = function(args)
  for i, item in ipairs(requests) do
    prepared[i] = wrk.format({method}, item[1], {{{headers}}}, item[2])
  end
end
request = function()
  next_index = next_index % #prepared + 1
  return prepared[next_index]
end
{_DONE}"""


def _parse(output: str, tool: str) -> LoadResult:
    line = next((line for line in output.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"{tool} printed no summary:\n{output[-2000:]}")
    data = json.loads(line.removeprefix("BENCH "))
    seconds = data["duration_us"] / 1e6
    return LoadResult(
        tool=tool,
        requests=int(data["requests"]),
        seconds=round(seconds, 2),
        rps=round(data["requests"] / seconds, 1),
        p50_ms=round(data["p50_us"] / 1000, 3),
        p99_ms=round(data["p99_us"] / 1000, 3),
        errors=int(data["errors"]),
        non_2xx=int(data["non_2xx"]),
        latencies={int(latency): int(count) for latency, count in data.get("latency_us", [])},
    )


def run_load(
    url: str,
    requests: Requests,
    *,
    seconds: float,
    connections: int,
    workdir: Path,
    name: str,
    tool: str = "wrk",
    core: int = 1,
) -> LoadResult:
    """Load `url` for `seconds` with `connections` connections from one thread on `core`."""
    if tool == "wrk":
        script = workdir / f"{name}.lua"
        script.write_text(_lua(requests))
        # --timeout: slow answers are measured, not dropped
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={TIMEOUT}s"]
        command += ["--latency", "-s", str(script), url + requests.path]
    else:
        spec = workdir / f"{name}.json"
        sent = [[path, None if body is None else body.decode()] for path, body in requests.sent()]
        headers = requests.all_headers()
        spec.write_text(
            json.dumps({"method": requests.method, "requests": sent, "headers": headers})
        )
        command = [sys.executable, "-m", "bench.loadgen", "--url", url, "--spec", str(spec)]
        command += ["--seconds", str(seconds), "--connections", str(connections)]
    done = subprocess.run(
        pinned(command, core),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=seconds + TIMEOUT + 30,
        check=False,
    )
    (workdir / f"{name}.out").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return _parse(done.stdout, tool)


def probe(url: str, requests: Requests, *, count: int = 3) -> LoadResult:
    """`count` requests one after another: for answers too slow for a load run to see
    any of them complete."""
    sent = requests.sent()
    headers = requests.all_headers()
    timings = []
    with httpx.Client(base_url=url, timeout=600, trust_env=False, headers=headers) as client:
        for number in range(count):
            started = time.perf_counter()
            path, body = sent[number % len(sent)]
            if body is not None:
                response = client.post(path, content=body)
            else:
                response = client.get(path)
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
    ordered = sorted(timings)
    return LoadResult(
        tool=f"{count} sequential requests",
        requests=count,
        seconds=round(sum(timings), 2),
        rps=round(count / sum(timings), 2),
        p50_ms=round(statistics.median(ordered) * 1000, 3),
        p99_ms=round(ordered[-1] * 1000, 3),
        errors=0,
        non_2xx=0,
    )
