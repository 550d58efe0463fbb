"""One record per HTTP request: its access-log line and its share of /metrics.

The middleware starts an `Exchange` (and the SQL statement tally, cms.statements) for each
request; the GraphQL view and the response cache fill in what only they know (the
operation's name and type, the viewer's role, the outcome of the GraphQL result); at the
end the middleware writes one log line (CMS_ACCESS_LOG) and observes the request in
cms.http.metrics. The line names the path without its query string (a preview link's
token travels there) and never a header.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.types.graphql import OperationType

from cms import logs, statements
from cms.auth.viewer import Viewer
from cms.http import negotiation

if TYPE_CHECKING:
    from cms.http.metrics import Metrics

__all__ = [
    "AccessMiddleware",
    "Exchange",
    "current",
    "operation_in_body",
    "operation_in_query_string",
    "socket_operation",
]

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


def _named(query: object, given: object) -> tuple[str | None, str]:
    name = given if isinstance(given, str) and given else None
    if not isinstance(query, str):
        return name, "unknown"
    chosen = negotiation.selected_operation(query, name)
    kind = chosen.value if isinstance(chosen, OperationType) else "unknown"
    return negotiation.operation_name(query, name), kind


@lru_cache(maxsize=1024)
def operation_in_query_string(query_string: bytes) -> tuple[str | None, str]:
    """The (name, type) of the operation a GET asks for, read before or without the view
    (a response from the cache, a request refused for its token)."""
    params = dict(parse_qsl(query_string.decode("latin-1")))
    return _named(params.get("query"), params.get("operationName"))


def operation_in_body(body: bytes) -> tuple[str | None, str]:
    """The (name, type) of the operation a JSON POST asks for."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, "unknown"
    if not isinstance(data, dict):
        return None, "unknown"
    return _named(data.get("query"), data.get("operationName"))


def socket_operation(*, path: str, name: str | None, operation_type: str, viewer: Viewer) -> None:
    """The access line of an operation started over a WebSocket (graphql-transport-ws):
    its name, type and the socket's role, under the socket's request id."""
    if not log.isEnabledFor(logging.INFO):
        return
    role = "anonymous" if viewer.role is None else viewer.role.value
    _write(
        logging.INFO, "WS %s %s %s role=%s", (path, operation_type, name or "(anonymous)", role),
        {"method": "WS", "path": path, "operation_name": name,
         "operation_type": operation_type, "role": role},
    )  # fmt: skip


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
                    exchange.operation_name,
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
        fields = {
            "method": scope["method"],
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "operation_name": name,
            "operation_type": exchange.operation_type,
            "outcome": outcome,
            "role": exchange.role,
            "sql": sql,
        }
        if exchange.operation_type is None:  # not GraphQL: /healthz, a feed, media
            _write(level, "%s %s %d %.1fms sql=%d",
                   (scope["method"], path, status, duration_ms, sql), fields)  # fmt: skip
            return
        _write(
            level, "%s %s %d %.1fms %s %s role=%s sql=%d",
            (scope["method"], path, status, duration_ms, exchange.operation_type,
             name or "(anonymous)", exchange.role or "-", sql),
            fields,
        )  # fmt: skip


def _write(level: int, message: str, args: tuple[object, ...], fields: dict[str, object]) -> None:
    """`log.log` without looking up the caller's frame (an access line's place in the code
    is always here)."""
    log.handle(log.makeRecord(log.name, level, __file__, 0, message, args, None, extra=fields))
