"""The `cms` command line. Bad input is one line on stderr and exit status 1."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import logging.config
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, TypeVar, cast

import typer
from pydantic import ValidationError

from cms import db, logs
from cms.config import Settings, get_settings
from cms.errors import CmsError

__all__ = ["app"]

app = typer.Typer(
    help="Newsdesk: a headless CMS for newsrooms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")

T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise _fail(f"invalid setting CMS_{where.upper()}: {first['msg']}") from None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; turn expected failures into one line on stderr."""
    try:
        return asyncio.run(coroutine)
    except CmsError as error:
        raise _fail(error.message) from None
    except (OSError, ValueError) as error:
        raise _fail(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


async def _with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async with db.lifespan(settings):
        return await work()


def _say_database(settings: Settings) -> None:
    typer.echo(f"database: {db.describe(settings)}", err=True)


def _database_command(function: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Wrap `async def f(settings, ...)` as a command on an existing Newsdesk database: it
    says which database, refuses one that does not exist (never creating it), applies
    pending migrations, opens it, and reports failures as one line."""

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> T:
        settings = _settings()
        _say_database(settings)

        async def main() -> T:
            await db.require_existing(settings)
            await db.migrate(settings)
            return await _with_database(settings, lambda: function(settings, *args, **kwargs))

        return _run(main())

    # Typer reads the signature: show it without the `settings` the wrapper supplies.
    signature = inspect.signature(function, eval_str=True)
    parameters = list(signature.parameters.values())[1:]
    wrapper = cast(Any, command)
    wrapper.__signature__ = signature.replace(parameters=parameters)
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    del wrapper.__wrapped__
    return command


def served_url(host: str, port: int) -> str:
    """This server's URL as a local client reaches it (a wildcard address is reached on
    the loopback one)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the app (GraphQL at /graphql); applies pending migrations first."""
    import uvicorn

    settings = _settings()
    say = _announcer(settings)
    say(f"database: {db.describe(settings)}", True)
    if settings.auto_migrate:
        applied = _run(db.migrate(settings))
        for name in applied:
            say(f"applied migration {name}", False)
    if "public_url" not in settings.model_fields_set:
        # Links to this server (media, the feeds' self links) name the port really served.
        os.environ["CMS_PUBLIC_URL"] = served_url(host, port)
        get_settings.cache_clear()
    say(f"Newsdesk serving {served_url(host, port)}/graphql", True)
    # uvicorn raises SIGTERM again once it has stopped gracefully, for the handler that
    # was there before it; with the default one a clean stop would read as "killed by
    # SIGTERM" (status 143) to an orchestrator. A stop that was asked for exits 0.
    signal.signal(signal.SIGTERM, _stopped)
    with _metrics_dir(settings, workers):
        uvicorn.run(
            "cms.http.app:app_from_environment",
            log_config=logs.config(settings.log_lines),  # CMS_LOG_FORMAT
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,  # cms.http.access writes the access line (CMS_ACCESS_LOG)
            proxy_headers=True,
            # SIGTERM: requests in flight get this long once the worker stops accepting
            # (cms.http.shutdown runs first: /readyz 503, sockets closed with 1001, the drain).
            timeout_graceful_shutdown=settings.shutdown_seconds,
        )


def _announcer(settings: Settings) -> Callable[[str, bool], None]:
    """How `cms serve` says what it does before uvicorn runs: plain lines (to stderr, or
    stdout), or with CMS_LOG_FORMAT=json log lines like the server's, so that a log
    collector reads every line of the process as JSON."""
    if settings.log_lines != "json":
        return lambda message, err: typer.echo(message, err=err)
    logging.config.dictConfig(logs.config("json"))
    log = logging.getLogger("cms.serve")
    return lambda message, err: log.info("%s", message)


@contextlib.contextmanager
def _metrics_dir(settings: Settings, workers: int) -> Iterator[None]:
    """prometheus-client's multiprocess directory for the workers, so that one scrape of
    /metrics sums them all: PROMETHEUS_MULTIPROC_DIR when set (emptied first, as
    prometheus-client asks: the files of an earlier run would be counted), else a
    temporary one for more than one worker, removed afterwards."""
    given = settings.metrics_dir
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        yield
        return
    if workers == 1:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="newsdesk-metrics-") as made:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        get_settings.cache_clear()
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            get_settings.cache_clear()


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@app.command()
def migrate() -> None:
    """Apply pending migrations (safe to run again); creates the database if needed."""
    settings = _settings()
    _say_database(settings)
    applied = _run(db.migrate(settings))
    for name in applied:
        typer.echo(f"applied migration {name}")
    typer.echo("database is up to date" if not applied else f"{len(applied)} migration(s) applied")


@app.command()
@_database_command
async def seed(
    settings: Settings,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo newsroom.")] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only when the database holds no content.")
    ] = False,
) -> None:
    """Load the demo newsroom (running it twice changes nothing)."""
    from cms.demo import loader

    if not demo:
        raise CmsError("say what to seed: cms seed --demo")
    report = await loader.load(
        media_dir=Path(settings.media_dir),
        default_locale=settings.default_locale,
        only_if_empty=if_empty,
        progress=lambda step: typer.echo(f"  {step}", err=True),
    )
    if report.skipped_not_empty:
        typer.echo("demo newsroom not loaded: the database already has content")
    else:
        typer.echo(f"demo newsroom: {report.created} created, {report.existing} already there")


@app.command()
@_database_command
async def reindex(settings: Settings) -> None:
    """Rebuild the full-text search index of every item (safe while serving: searches
    keep answering from the old rows until each batch is replaced)."""
    from cms.content import search

    with _progress("indexing") as progress:
        indexed = await search.reindex(progress=progress)
    typer.echo(f"search index rebuilt: {indexed:,} items")


@app.command("export")
@_database_command
async def export_command(
    settings: Settings,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to FILE (default: standard output)."),
    ] = None,
) -> None:
    """Write the whole newsroom as newline-delimited JSON (never a token or a secret)."""
    from cms.portability import export

    with _progress("exporting") as progress:
        if output is None:
            counts = await export.export(write=sys.stdout.buffer.write, progress=progress)
            sys.stdout.buffer.flush()
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as file:
                counts = await export.export(write=file.write, progress=progress)
            partial.replace(output)  # a failed export leaves no half file under the name
    total = sum(counts.values())
    shown = ", ".join(f"{kind} {n:,}" for kind, n in counts.items())
    typer.echo(f"exported {total:,} rows: {shown}", err=True)


@app.command("import")
@_database_command
async def import_command(
    settings: Settings,
    file: Annotated[Path, typer.Argument(help="An export file (cms export).")],
) -> None:
    """Load an export file: creates what is missing, updates what differs, skips what is
    there already (a second run changes nothing); one transaction per batch of lines."""
    from cms.portability import import_

    if not file.is_file():
        raise CmsError(f"no such file: {file}")
    size = file.stat().st_size
    with _progress("importing (bytes)") as progress, file.open("rb") as lines:
        try:
            report = await import_.load(lines, progress=lambda read: progress(read, size))
        except import_.LineError as error:
            _say_report(error.report, "before the stop (committed)")
            raise
    _say_report(report, "imported")


def _say_report(report: Any, heading: str) -> None:
    typer.echo(f"{heading}:")
    for kind, row in report.counts.items():
        typer.echo(
            f"  {kind}: {row['created']:,} created, {row['updated']:,} updated, "
            f"{row['skipped']:,} skipped"
        )
    for url, secret in report.webhook_secrets:
        typer.echo(f"  webhook {url}: new signing secret (shown once) {secret}")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Copy the SQLite database to FILE, safely while the server runs (SQLite's backup
    API); on PostgreSQL, print the pg_dump command to use instead (exit status 2)."""
    from cms.portability import backup as backups

    settings = _settings()
    _say_database(settings)
    source = backups.sqlite_file(settings)
    if source is None:
        if settings.is_sqlite:
            raise _fail("an in-memory database has nothing to back up")
        typer.echo(
            "cms backup copies SQLite databases only; back PostgreSQL up with pg_dump "
            "(the password from PGPASSWORD or ~/.pgpass):",
            err=True,
        )
        typer.echo(backups.pg_dump_command(settings.database_url, file))
        raise typer.Exit(code=2)
    try:
        size = backups.sqlite_backup(source, file, force=force)
    except CmsError as error:
        raise _fail(error.message) from None
    typer.echo(f"backed up {source} to {file} ({size:,} bytes)")


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """`progress(done, total)` for long work: a progress bar on a terminal, a line every
    10% otherwise (logs, CI)."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress

        # On stderr: stdout may be the data itself (`cms export > newsroom.jsonl`).
        with Progress(console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task(label, total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield advance
        return
    shown = [-1]

    def say(done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth != shown[0]:
            shown[0] = tenth
            typer.echo(f"  {label}: {done:,} of {total:,}", err=True)

    yield say


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from schema import build_schema

    typer.echo(build_schema(_settings()).as_str())


@app.command("graphiql-assets")
def graphiql_assets(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to put them (default: CMS_GRAPHIQL_ASSETS_DIR)."),
    ] = None,
) -> None:
    """Fetch GraphiQL's browser files with npm, at the exact versions the page loads; the
    server then serves them itself instead of the page loading them from a CDN."""
    from cms.http import graphiql_assets as assets

    settings = _settings()
    target = directory or Path(settings.graphiql_assets_dir)
    try:
        site = assets.install(target, progress=lambda line: typer.echo(line, err=True))
    except assets.AssetsUnavailable as error:
        raise _fail(str(error)) from None
    if target.resolve() == Path(settings.graphiql_assets_dir).resolve():
        typer.echo(f"GraphiQL's assets are in {site}; `cms serve` serves them at /graphiql-assets/")
    else:
        typer.echo(
            f"GraphiQL's assets are in {site}; set CMS_GRAPHIQL_ASSETS_DIR={target} "
            "for `cms serve` to serve them at /graphiql-assets/"
        )


@token_app.command("create")
@_database_command
async def token_create(
    settings: Settings,
    name: Annotated[str, typer.Option(help="A name to tell the token by.")],
    role: Annotated[str, typer.Option(help="viewer, author, editor or admin.")],
) -> None:
    """Create a token; the secret is printed once, alone on the last line."""
    from cms.auth import tokens

    token, secret = await tokens.create(name=name, role=role)
    typer.echo(f"created token {token.name!r} with role {token.role}; keep the secret below, "
               "it is not shown again:", err=True)  # fmt: skip
    typer.echo(secret)


@token_app.command("list")
@_database_command
async def token_list(settings: Settings) -> None:
    """List tokens (never their secrets)."""
    from cms.auth import tokens

    rows = await tokens.list_tokens()
    if not rows:
        typer.echo("no tokens")
    for token in rows:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        typer.echo(f"{token.name}\t{token.role}\t{token.prefix}…\t{state}")


@token_app.command("revoke")
@_database_command
async def token_revoke(settings: Settings, name: str) -> None:
    """Revoke a token by name."""
    from cms.auth import tokens

    await tokens.revoke(name=name)
    typer.echo(f"revoked token {name!r}")


@token_app.command("local", hidden=True)
@_database_command
async def token_local(settings: Settings) -> None:
    """(make serve) Print a fresh editor token named local-editor; development only."""
    from cms.auth import tokens

    if settings.is_production:
        raise CmsError("refusing to make a local editor token with CMS_ENV=production")
    secret = await tokens.ensure_dev_token()
    typer.echo(f"Local editor token (development only): {secret}")
    typer.echo(
        "More tokens: make token NAME=<name> ROLE=<viewer|author|editor|admin> "
        "(the same as .venv/bin/cms token create --name <name> --role <role>)",
        err=True,
    )
