"""One record per HTTP request: its access-log line and its share of /metrics.

The middleware starts an `Exchange` (and the SQL statement tally, cms.statements) for each
request; the GraphQL view and the response cache fill in what only they know (the
operation's name and type, the viewer's role, the outcome of the GraphQL result); at the
end the middleware writes one log line (CMS_ACCESS_LOG) and observes the request in
cms.http.metrics. The line names the path without its query string (a preview link's
token travels there) and never a header.

Operation names become metric labels, so their number is bounded: a name is kept when it
is a GraphQL name of at most 64 characters and one of the first `MAX_OPERATION_NAMES`
this worker has seen; later ones are "other", an operation without a name "anonymous".
"""

from __future__ import annotations

import logging
import re
import time
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms import logs, statements
from cms.auth.viewer import Viewer
from cms.http import negotiation

if TYPE_CHECKING:
    from cms.http.metrics import Metrics

__all__ = [
    "MAX_OPERATION_NAMES",
    "AccessMiddleware",
    "Exchange",
    "current",
    "operation_in_body",
    "operation_in_query_string",
    "operation_label",
]

MAX_OPERATION_NAMES: Final = 200
_NAME: Final = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

log = logging.getLogger(logs.ACCESS_LOGGER)


class Exchange:
    """What is known about the request in progress."""

    __slots__ = ("operation_name", "operation_type", "outcome", "role")

    def __init__(self) -> None:
        self.operation_name: str | None = None
        self.operation_type: str | None = None  # query, mutation, subscription
        self.role: str | None = None  # anonymous, viewer, author, editor, admin
        self.outcome: str | None = None  # ok, error, rejected, timeout

    def note_operation(self, name: str | None, operation_type: str) -> None:
        self.operation_name = name
        self.operation_type = operation_type

    def note_viewer(self, viewer: Viewer) -> None:
        self.role = "anonymous" if viewer.role is None else viewer.role.value


_CURRENT: ContextVar[Exchange | None] = ContextVar("newsdesk_exchange", default=None)


def current() -> Exchange | None:
    """The request in progress (None outside one: a WebSocket, a test calling the view)."""
    return _CURRENT.get()


@lru_cache(maxsize=1024)
def operation_in_query_string(query_string: bytes) -> str | None:
    """The operation a GET names (for a response the cache answered without the view)."""
    params = dict(parse_qsl(query_string.decode("latin-1")))
    given = params.get("operationName") or None
    query = params.get("query")
    return negotiation.operation_name(query, given) if query else given


def operation_in_body(body: bytes) -> str | None:
    """The operation a JSON POST names (an automatic persisted query's, usually)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    given = data.get("operationName")
    given = given if isinstance(given, str) and given else None
    query = data.get("query")
    return negotiation.operation_name(query, given) if isinstance(query, str) else given


class _Labels:
    """The operation names this worker labels metrics with (bounded)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: set[str] = set()

    def __call__(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.kept:
            return name
        if len(self.kept) >= self.limit or not _NAME.fullmatch(name):
            return "other"
        self.kept.add(name)
        return name


operation_label = _Labels(MAX_OPERATION_NAMES)


def _outcome(exchange: Exchange, status: int) -> str:
    if status >= 500:
        return "error"
    if exchange.outcome is not None:
        return exchange.outcome
    return "rejected" if status >= 400 else "ok"


class AccessMiddleware:
    """Outermost but for the request id: times the whole answer, caches included."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.metrics.route(scope)  # before the app runs: routing rewrites the scope
        started = time.perf_counter()
        status = 500
        exchange = Exchange()
        token = _CURRENT.set(exchange)
        tally, tally_token = statements.begin()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            seconds = time.perf_counter() - started
            statements.end(tally_token)
            _CURRENT.reset(token)
            outcome = None
            if exchange.operation_type is not None:
                outcome = _outcome(exchange, status)
                self.metrics.observe_operation(
                    operation_label(exchange.operation_name),
                    exchange.operation_type,
                    outcome,
                    seconds,
                )
            self.metrics.observe_request(scope["method"], route, status, seconds, tally.count)
            if self.log_requests:
                self._log(scope, status, seconds, tally.count, exchange, outcome)

    def _log(
        self,
        scope: Scope,
        status: int,
        seconds: float,
        sql: int,
        exchange: Exchange,
        outcome: str | None,
    ) -> None:
        level = logging.ERROR if status >= 500 else logging.INFO
        if not log.isEnabledFor(level):
            return
        path = scope.get("root_path", "") + scope["path"]  # never the query string
        duration_ms = round(seconds * 1000, 2)
        name = exchange.operation_name
        log.log(
            level,
            "%s %s %d %.1fms %s %s role=%s sql=%d",
            scope["method"], path, status, duration_ms, exchange.operation_type or "-",
            name or "-", exchange.role or "-", sql,
            extra={
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "operation_name": name,
                "operation_type": exchange.operation_type,
                "outcome": outcome,
                "role": exchange.role,
                "sql": sql,
            },
        )  # fmt: skip
