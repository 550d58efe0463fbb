"""Where the CPU of one read goes, layer by layer: `make profile` (bench/PROFILE.md).

    python -m bench.profile [--items N] [--requests N] [--query feed|deep|article|search]

Serves the benchmark's request in process (the ASGI app called directly, no sockets) over
a copy of the generated newsroom, with the response cache off: first timed, then under
cProfile. Each function's own time is charged to the layer its module belongs to (the HTTP
stack, Newsdesk's view, Strawberry, graphql-core, the schema and its plans, the content
services, the ORM, the SQLite driver, the event loop), and the layers' shares are scaled
to the CPU a request took without the profiler.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import generate, queries
from bench.plan import SEARCHES, make_plan
from cms import db
from cms.config import Settings
from cms.http.app import create_app

__all__ = ["LAYERS", "main"]

PROFILE_MD = Path(__file__).resolve().parent / "PROFILE.md"

# (layer, fragments of a module's path): the first match wins.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("waiting for the database thread (epoll)", ("select.epoll",)),
    ("SQLite driver (aiosqlite, sqlite3)", ("aiosqlite", "sqlite3", "/asyncpg/")),
    ("ORM (Tortoise, PyPika)", ("/tortoise/", "pypika", "iso8601")),
    ("content services (cms.content)", ("/cms/content/",)),
    ("compiled plans (schema.plans)", ("/schema/plans/",)),
    ("schema: resolvers and types", ("/schema/",)),
    ("graphql-core", ("/graphql/",)),
    ("Strawberry", ("/strawberry/",)),
    ("Newsdesk's HTTP layer (cms.http)", ("/cms/http/",)),
    ("HTTP stack (Starlette)", ("/starlette/",)),
    ("event loop (asyncio)", ("/asyncio/",)),
    ("builtins called by the layers above (getattr, isinstance, orjson, …)", ("~",)),
    ("standard library (enum, urllib, base64, datetime, …)", ("/lib/python3",)),
]


def _layer(filename: str, name: str) -> str:
    where = f"{filename} {name}"
    for layer, fragments in LAYERS:
        if any(fragment in where for fragment in fragments):
            return layer
    return "other"


async def _serve(app: Any, method: str, path: str, body: bytes) -> int:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000), "state": {}, "app": app,
        "headers": [(b"content-type", b"application/json"), (b"host", b"127.0.0.1")],
    }  # fmt: skip
    await app(scope, receive, send)
    return int(sent[0]["status"])


def _body(name: str, database: Path, public: int) -> bytes:
    plan = make_plan(database, public=public)
    if name == "feed":
        return queries.feed_body()
    if name == "deep":
        return queries.feed_body(after=plan.deep_cursors["newsdesk"])
    if name == "article":
        return queries.article_body(plan.slugs[0])
    if name == "search":
        return queries.search_body(SEARCHES[1])
    raise SystemExit(f"no query {name!r}: feed, deep, article or search")


async def _profile(
    args: argparse.Namespace, newsroom: generate.GeneratedNewsroom
) -> dict[str, Any]:
    database = generate.WORK_DIR / f"profile-{args.items}.sqlite3"
    shutil.copyfile(newsroom.path, database)
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite://{database}",
        response_cache=False,
        run_dispatcher=False,
        media_dir=str(generate.WORK_DIR / "media"),
    )
    body = _body(args.query, database, newsroom.public)
    app = create_app(settings, manage_database=False)
    await db.open(settings)
    try:
        for _ in range(50):
            status = await _serve(app, "POST", "/graphql", body)
            if status != 200:
                raise SystemExit(f"the server answered {status}")
        started = time.process_time()
        for _ in range(args.requests):
            await _serve(app, "POST", "/graphql", body)
        cpu_ms = (time.process_time() - started) * 1000 / args.requests
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            await _serve(app, "POST", "/graphql", body)
        profiler.disable()
    finally:
        await db.close()
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)
    functions = []
    for (filename, line, name), (_, calls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        own[_layer(filename, name)] += tottime
        functions.append((tottime, calls, f"{Path(filename).name}:{line}({name})"))
    total = sum(own.values()) or 1.0
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "items": args.items,
        "query": args.query,
        "requests": args.requests,
        "cpu_ms": cpu_ms,
        "layers": sorted(
            ((layer, seconds / total) for layer, seconds in own.items()), key=lambda pair: -pair[1]
        ),  # fmt: skip
        "top": sorted(functions, reverse=True)[:25],
    }


def _report(result: dict[str, Any], command: str) -> str:
    lines = [
        "# Where a read's CPU goes",
        "",
        f"Written by `{command}` on {result['date']}: the `{result['query']}` request of the "
        f"benchmark, {result['items']:,} items, answered {result['requests']} times in process "
        f"with the response cache off. **{result['cpu_ms']:.2f} ms of CPU a request** "
        "(without the profiler); each layer's share of the profiled own time, scaled to it "
        "(cProfile's clock includes the loop's wait for the database thread; SQLite's own work "
        "runs in aiosqlite's thread, which the profiler does not see).",
        "",
        "| layer | share | ms a request |",
        "| --- | ---: | ---: |",
    ]
    for layer, share in result["layers"]:
        lines.append(f"| {layer} | {share:.0%} | {share * result['cpu_ms']:.2f} |")
    lines += ["", "## The 25 functions with the most own time", "",
              "| own time (s, profiled) | calls | function |", "| ---: | ---: | --- |"]  # fmt: skip
    for tottime, calls, where in result["top"]:
        lines.append(f"| {tottime:.3f} | {calls:,} | `{where}` |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=generate.DEFAULT_ITEMS)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--query", default="feed", choices=("feed", "deep", "article", "search"))
    args = parser.parse_args()
    # Generated first: the generator runs its own event loop.
    newsroom = generate.ensure(args.items)
    result = asyncio.run(_profile(args, newsroom))
    command = "make profile" if args.items == generate.DEFAULT_ITEMS else "python -m bench.profile"
    report = _report(result, command)
    PROFILE_MD.write_text(report, encoding="utf-8")
    print(report)
    print(f"wrote {PROFILE_MD}")


if __name__ == "__main__":
    main()
