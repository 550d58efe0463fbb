"""The GraphQL endpoint: Strawberry's ASGI view with Newsdesk's context, auth and JSON.

GraphQL over HTTP as its specification words it: the response media type is negotiated
from `Accept` (`application/json`, the legacy default, or
`application/graphql-response+json`, with which a request error answers 400); every
refusal is a JSON `{"errors": [...]}` body; a document with several operations needs an
`operationName` that names one of them; a mutation over GET answers 405 and never runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Final, cast

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from cms import budget
from cms.auth import tokens
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.cache import tags
from cms.config import Settings
from cms.content.links import Links
from cms.errors import Unauthenticated
from cms.events.broker import Broker
from cms.http import access, cache, graphiql, negotiation
from cms.http.client_address import client_address
from cms.http.encoding import json_bytes, json_text
from cms.http.fanout import Fanout
from cms.http.feed_sockets import FeedSocketHandler
from cms.http.negotiation import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    content_type,
    response_media_type,
    selected_operation,
)
from cms.http.outgoing import TOO_MANY_REQUESTS, Outgoing
from cms.http.persisted import PersistedQueries, PersistedQueryError
from cms.http.shutdown import GOING_AWAY, GOING_AWAY_REASON, Shutdown
from cms.http.uploads import UploadRequestAdapter
from schema import Context, NewsdeskSchema
from schema import cost as costs

__all__ = ["GraphQLView", "viewer_from_header"]

# What a refusal's status means, as `extensions.code` (Strawberry's refusals carry none).
_HTTP_CODES: Final = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
_NOT_JSON: Final = "Unable to parse request body as JSON"
_NO_PREFLIGHT: Final = (
    "A multipart request must carry the header Apollo-Require-Preflight (any non-empty "
    "value; Apollo Client's upload link sends it), so that a browser asks first."
)
_REQUEST_ERROR = "graphql_request_error"  # request.state flag set by process_result
_REFUSED = "graphql_refused"  # request.state flag: refused for its estimate (400 always)


async def viewer_from_header(authorization: str | None) -> Viewer:
    """Who is asking: no header is an anonymous reader; a bad token is refused, never
    downgraded to anonymous."""
    if not authorization:
        return ANONYMOUS
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return await tokens.verify(secret=secret.strip())


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing ran: no data and no error from a field (a field error has a path)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _is_refusal(result: ExecutionResult) -> bool:
    """Refused for its estimate (CMS_MAX_NODES): nothing ran."""
    return any((error.extensions or {}).get("code") == costs.CODE for error in result.errors or ())


_REJECTIONS: Final = frozenset({"UNAUTHENTICATED", "FORBIDDEN", costs.CODE})


def _outcome(result: ExecutionResult) -> str:
    """ok, timeout (QUERY_TIMEOUT), rejected (nothing ran, or the viewer may not) or error."""
    if not result.errors:
        return "ok"
    codes = {(error.extensions or {}).get("code") for error in result.errors}
    if "QUERY_TIMEOUT" in codes:
        return "timeout"
    if _is_request_error(result) or codes <= _REJECTIONS:
        return "rejected"
    return "error"


async def _requested_operation(request: Request) -> tuple[str | None, str]:
    if request.method == "GET":
        return access.operation_in_query_string(request.scope["query_string"])
    if parse_content_type(request.headers.get("content-type", ""))[0] != JSON:
        return None, "unknown"
    return access.operation_in_body(await request.body())


def _error_response(
    message: str,
    code: str,
    status: int,
    headers: dict[str, str] | None = None,
    media_type: str | None = JSON,
) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    response = JSONResponse(body, status_code=status, headers=headers)
    response.headers["content-type"] = content_type(media_type or JSON)
    return response


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are JSON in text frames. Strawberry's adapter sends
    bytes as binary frames, and `encode_json` (orjson) returns bytes: every standard
    client (graphql-ws, gql, GraphiQL) refuses those. Always send text.

    Sending never waits for the client: messages are queued on the socket's Outgoing
    (written in order by its own task; a reader that falls behind is dropped with 4429)."""

    def __init__(self, view: GraphQLView, request: WebSocket, response: WebSocket) -> None:
        super().__init__(cast(Any, view), request, response)
        self.outgoing = Outgoing(response, limit=view.settings.ws_max_pending_messages)
        if view.shutdown is not None:
            view.shutdown.watch(self.outgoing)  # closed with 1001 when the worker leaves

    async def send_json(self, message: Mapping[str, object]) -> None:
        self.outgoing.send(json_text(message))

    async def close(self, code: int, reason: str) -> None:
        """Close after what is queued, as the protocol's messages come before the close."""
        self.outgoing.close(code, reason)
        await self.outgoing.closed()

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        """Strawberry's messages, less what crashed its handler (1006): a message nested
        past the JSON parser's depth, or one that is not an object (an array, a number), is
        an invalid message, which closes the socket with 4400 as the protocol says."""
        messages = super().iter_json(ignore_parsing_errors=ignore_parsing_errors)
        while True:
            try:
                message = await anext(messages)
            except StopAsyncIteration:
                return
            except RecursionError as error:
                if ignore_parsing_errors:
                    return
                raise NonJsonMessageReceived from error
            if isinstance(message, dict):
                yield message
            elif not ignore_parsing_errors:
                raise NonJsonMessageReceived


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = TextFrameWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = FeedSocketHandler
    request_adapter_class = UploadRequestAdapter

    def __init__(
        self,
        schema: NewsdeskSchema,
        settings: Settings,
        persisted: PersistedQueries | None = None,
        broker: Broker | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            # The legacy graphql-ws protocol stays off: it has a known authentication bypass.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
            allowed_origins=settings.allowed_origins,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.links = Links.from_settings(settings)
        self.persisted = persisted
        self.broker = broker
        self.plans = schema.plans  # compiled reads (None when CMS_COMPILED_READS=false)
        self.costs = schema.costs
        self.fanout = Fanout(schema, self._audience_context)
        self.sockets_by_address: Counter[str] = Counter()
        # What a write over a WebSocket must do before its answer goes out: the response
        # cache's invalidation, as after a POST (set by cms.http.app; None without one).
        self.after_write: Callable[[set[str]], Awaitable[None]] | None = None
        self.trusted_proxies = settings.trusted_proxy_networks  # CMS_TRUSTED_PROXIES
        # The worker's shutdown (set by cms.http.app): open sockets close with 1001 then.
        self.shutdown: Shutdown | None = None

    def _audience_context(self, viewer: Viewer) -> Context:
        """The context a subscription stream runs in: shared by its members, who all read
        as `viewer` (a role) does."""
        return Context(settings=self.settings, links=self.links, viewer=viewer, broker=self.broker)

    async def parse_http_body(self, request: Any) -> Any:
        if request.method == "POST":
            await self._check_post_body(request)
        data = await super().parse_http_body(request)
        if not isinstance(data, GraphQLRequestData):
            return data
        if not isinstance(data.operation_name, str | None):
            raise HTTPException(
                400,
                "The GraphQL operation's `operationName` must be a string or null, if provided.",
            )
        data.operation_name = data.operation_name or None  # "" names no operation
        if self.persisted is not None:
            anonymous = "authorization" not in request.headers
            data = await self.persisted.resolve(data, anonymous=anonymous)
        self._note_operation(data)
        return data

    def _note_operation(self, data: GraphQLRequestData) -> None:
        """The operation's name and type for the access line and /metrics (known before
        the viewer is: a wrong token's request is counted under its operation too)."""
        exchange = access.current()
        if exchange is None or data.query is None:
            return
        max_tokens = self.settings.max_tokens
        operation = selected_operation(data.query, data.operation_name, max_tokens=max_tokens)
        exchange.note_operation(
            negotiation.operation_name(data.query, data.operation_name, max_tokens=max_tokens),
            operation.value if isinstance(operation, OperationType) else "unknown",
        )

    def parse_json(self, data: str | bytes) -> Any:
        """JSON from a body, a `variables` or `extensions` parameter or a multipart part;
        anything that is not JSON (not UTF-8, nested past the parser's depth) is a 400."""
        try:
            return self.decode_json(data)
        except RecursionError as error:
            raise HTTPException(400, f"{_NOT_JSON}: nested too deeply.") from error
        except UnicodeDecodeError as error:
            raise HTTPException(400, f"{_NOT_JSON}: it is not UTF-8.") from error
        except ValueError as error:  # JSONDecodeError: Strawberry's own message
            raise HTTPException(400, _NOT_JSON) from error

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """The GraphQL multipart request spec's `operations` with the files put in place;
        `operations` that is not an object, or a `map` that is not an object of lists of
        paths that lead to a variable set to null, is a 400 (Strawberry failed with 500s)."""
        try:
            operations = await super().parse_multipart(request)
            if not isinstance(operations, dict):
                raise TypeError("operations is not an object")
            return operations
        except (TypeError, AttributeError, IndexError, KeyError, ValueError) as error:
            raise HTTPException(
                400,
                "The multipart request does not follow the GraphQL multipart request spec: "
                "`operations` must be a JSON object and `map` an object of lists of paths "
                'to its variables, such as {"0": ["variables.file"]}.',
            ) from error

    async def _check_post_body(self, request: Any) -> None:
        """415 for a body that is neither JSON nor an upload (Strawberry said 400); 400 for
        JSON that is not an object (Strawberry failed with a 500 on `null` or `123`)."""
        content_type = parse_content_type(request.content_type or "")[0]
        if content_type == "multipart/form-data" and self.multipart_uploads_enabled:
            if not request.headers.get("apollo-require-preflight", "").strip():
                # A form can post multipart cross-site with no CORS preflight; a custom
                # header forces one (Apollo Server's CSRF prevention does the same).
                raise HTTPException(400, _NO_PREFLIGHT)
            return
        if content_type != JSON:
            raise HTTPException(
                415, "Send the request as application/json (uploads: multipart/form-data)."
            )
        body = await request.get_body()
        if body.lstrip()[:1] == b"{":
            return  # an object: Strawberry reads it
        try:
            value = self.decode_json(body)
        except (ValueError, RecursionError):
            return  # parse_json answers _NOT_JSON
        batching = self.schema.config.batching_config is not None
        if not isinstance(value, dict | list) or (isinstance(value, list) and not batching):
            raise HTTPException(
                400, 'The request body must be a JSON object: {"query": "...", "variables": {...}}.'
            )

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry ran the first of several operations when no `operationName` picked
        one, and answered a mutation over GET with 400: the operation is chosen here first,
        by the GraphQL spec's rules, and nothing runs unless exactly one is chosen."""
        if request_data.query is not None:
            operation = selected_operation(
                request_data.query,
                request_data.operation_name,
                max_tokens=self.settings.max_tokens,
            )
            if isinstance(operation, GraphQLError):
                return ExecutionResult(data=None, errors=[operation])
            if operation is not OperationType.QUERY:
                context.cache_tags.refuse()  # a write's answer is never replayed
            if operation is OperationType.MUTATION and request_adapter.method == "GET":
                raise HTTPException(405, "Mutations are not allowed over GET: send them by POST.")
            if operation is OperationType.SUBSCRIPTION:
                message = "Subscriptions are served over WebSocket (graphql-transport-ws) only."
                error = GraphQLError(message, extensions={"code": "BAD_REQUEST"})
                return ExecutionResult(data=None, errors=[error])
            if operation is OperationType.QUERY:
                # One time budget for the whole request: a plan and, should it give up,
                # graphql-core after it.
                with budget.within(self.settings.query_timeout_ms):
                    return await self._query(
                        request, request_adapter, sub_response, context, root_value, request_data
                    )
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def _query(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A query: from its compiled plan when there is one and its estimate, already
        made for its document, is within the limit (then the answer carries it in
        `extensions.cost`, as Strawberry's pipeline writes it); otherwise through the
        pipeline, which estimates, refuses or answers."""
        query = request_data.query
        if self.plans is not None and query is not None:
            operation_name, variables = request_data.operation_name, request_data.variables
            cost = self.costs.estimate(query, None, operation_name, variables)
            if cost is not None and cost <= self.costs.limit:
                data = await self.plans.answer(query, operation_name, variables, context)
                if data is not None:
                    return ExecutionResult(data=data, errors=None, extensions={"cost": cost})
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        exchange = access.current()
        if exchange is not None:
            exchange.outcome = _outcome(result)
        if _is_request_error(result):
            # Nothing ran, so there is no `data` entry (the GraphQL spec), and with
            # application/graphql-response+json the status is 400 (see run).
            del response["data"]
            setattr(request.state, _REQUEST_ERROR, True)
            if _is_refusal(result):
                setattr(request.state, _REFUSED, True)
        return response

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        viewer = ANONYMOUS
        if isinstance(request, Request):
            viewer = await viewer_from_header(request.headers.get("authorization"))
        exchange = access.current()
        if exchange is not None:
            exchange.note_viewer(viewer)
        collector = request.scope.get(cache.COLLECTOR)
        return Context(
            cache_tags=collector if isinstance(collector, tags.Collector) else tags.Collector(),
            settings=self.settings,
            links=self.links,
            viewer=viewer,
            request=request,
            response=response,
            broker=self.broker,
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """graphql-transport-ws: the token comes in connection_init's payload as
        {"authorization": "Bearer …"}; a bad one closes the socket with 4403."""
        params = context.connection_params or {}  # an object: Strawberry closed with 4400
        authorization = params.get("authorization", params.get("Authorization"))
        if authorization is not None and not isinstance(authorization, str):
            # A number or a list is a mistake, not a reader without a token.
            raise ConnectionRejectionError(
                {"message": "connection_init's authorization must be 'Bearer <token>'"}
            )
        try:
            context.viewer = await viewer_from_header(authorization)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        return await super().on_ws_connect(context)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's run, answering in the media type `Accept` asks for, with every
        refusal (Strawberry's text/plain ones included) as a GraphQL error body."""
        if not isinstance(request, Request):
            return await self._run_socket(request, context, root_value)
        media_type = response_media_type(request.headers.get("accept"))
        try:
            if media_type is None and not self.should_render_graphql_ide(request):
                message = f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}."
                return _error_response(message, "NOT_ACCEPTABLE", 406)
            response = await super().run(request, context, root_value)
        except HTTPException as error:
            headers = None
            if error.status_code == 405:
                headers = {"Allow": "POST" if request.method == "GET" else "GET, POST"}
            code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            return _error_response(error.reason, code, error.status_code, headers, media_type)
        except Unauthenticated as error:
            exchange = access.current()
            if exchange is not None:
                exchange.role = "unauthenticated"  # a wrong or revoked token: never its name
                if exchange.operation_type is None:  # refused before the body was read
                    exchange.note_operation(*await _requested_operation(request))
            headers = {"WWW-Authenticate": "Bearer"}
            return _error_response(error.message, "UNAUTHENTICATED", 401, headers, media_type)
        except PersistedQueryError as error:
            return _error_response(error.message, error.code, error.status, None, media_type)
        finally:
            await request.close()  # a multipart request's files: close their temporary files
        if media_type == GRAPHQL_RESPONSE_JSON and response.media_type == JSON:
            response.headers["content-type"] = content_type(GRAPHQL_RESPONSE_JSON)
            if getattr(request.state, _REQUEST_ERROR, False) and response.status_code == 200:
                response.status_code = 400
        if getattr(request.state, _REFUSED, False):
            response.status_code = 400  # in either media type: the request asks too much
        return response

    async def _run_socket(self, websocket: WebSocket, context: Any, root_value: Any) -> Any:
        """A WebSocket, counted against CMS_MAX_CONNECTIONS_PER_CLIENT while it is open."""
        address = client_address(websocket.scope, self.trusted_proxies)
        limit = self.settings.max_connections_per_client
        refusal: tuple[int, str] | None = None
        if self.shutdown is not None and self.shutdown.begun:
            # Leaving: the client should reconnect, to another worker, at once.
            refusal = (GOING_AWAY, GOING_AWAY_REASON)
        elif self.sockets_by_address[address] >= limit:
            refusal = (TOO_MANY_REQUESTS, f"Too many connections from this address (limit {limit})")
        if refusal is not None:
            if not self._check_websocket_origin(websocket):
                return await self.reject_websocket(websocket)
            subprotocol = await self.pick_websocket_subprotocol(websocket)
            await websocket.accept(subprotocol=subprotocol)
            await websocket.close(code=refusal[0], reason=refusal[1])
            return websocket
        self.sockets_by_address[address] += 1
        try:
            return await super().run(websocket, context, root_value)
        finally:
            self.sockets_by_address[address] -= 1
            if self.sockets_by_address[address] <= 0:
                del self.sockets_by_address[address]

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A persisted-query GET carries no `query` either: it is for the API, not the IDE.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql.graphiql_page(self.settings))

    def encode_json(self, data: object) -> bytes:
        return json_bytes(data)
