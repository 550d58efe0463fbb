"""The GraphQL endpoint: Strawberry's ASGI view with Newsdesk's context, auth and JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from cms.auth import tokens
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.config import Settings
from cms.content.links import Links
from cms.errors import Unauthenticated
from cms.events.broker import InMemoryBroker
from cms.http import graphiql
from cms.http.persisted import PersistedQueries, PersistedQueryError
from schema import Context, NewsdeskSchema

__all__ = ["GraphQLView", "viewer_from_header"]


async def viewer_from_header(authorization: str | None) -> Viewer:
    """Who is asking: no header is an anonymous reader; a bad token is refused, never
    downgraded to anonymous."""
    if not authorization:
        return ANONYMOUS
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return await tokens.verify(secret=secret.strip())


def _error_response(
    message: str, code: str, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are JSON in text frames. Strawberry's adapter sends
    bytes as binary frames, and `encode_json` (orjson) returns bytes: every standard
    client (graphql-ws, gql, GraphiQL) refuses those. Always send text."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = TextFrameWebSocketAdapter

    def __init__(
        self,
        schema: NewsdeskSchema,
        settings: Settings,
        persisted: PersistedQueries | None = None,
        broker: InMemoryBroker | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            # The legacy graphql-ws protocol stays off: it has a known authentication bypass.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
            allowed_origins=settings.allowed_origins,
        )
        self.settings = settings
        self.links = Links.from_settings(settings)
        self.persisted = persisted
        self.broker = broker

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if self.persisted is None or not isinstance(data, GraphQLRequestData):
            return data
        anonymous = "authorization" not in request.headers
        return await self.persisted.resolve(data, anonymous=anonymous)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        viewer = ANONYMOUS
        if isinstance(request, Request):
            viewer = await viewer_from_header(request.headers.get("authorization"))
        return Context(
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
        params = context.connection_params or {}
        authorization = params.get("authorization") or params.get("Authorization")
        try:
            context.viewer = await viewer_from_header(
                authorization if isinstance(authorization, str) else None
            )
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        return await super().on_ws_connect(context)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's run, with Newsdesk's refusals answered as GraphQL error bodies."""
        try:
            return await super().run(request, context, root_value)
        except Unauthenticated as error:
            return _error_response(
                error.message, "UNAUTHENTICATED", 401, {"WWW-Authenticate": "Bearer"}
            )
        except PersistedQueryError as error:
            return _error_response(error.message, error.code, error.status)
        finally:
            if isinstance(request, Request):
                await request.close()  # a multipart request's files: close their temporary files

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A persisted-query GET carries no `query` either: it is for the API, not the IDE.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql.graphiql_page(self.settings))

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
