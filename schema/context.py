"""The per-request context every resolver sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from cms import clock
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.cache import tags
from cms.config import Settings
from cms.content.links import Links
from cms.events.broker import Broker
from schema.loaders import Loaders

__all__ = ["Context", "Info"]


@dataclass
class Context:
    settings: Settings
    links: Links
    viewer: Viewer = ANONYMOUS
    # The HTTP request or the WebSocket; Strawberry's response (the socket, over WebSocket).
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    loaders: Loaders = field(default_factory=Loaders)
    broker: Broker | None = None
    # graphql-transport-ws: the connection_init payload ({"authorization": "Bearer …"}).
    connection_params: dict[str, Any] | None = None
    # One clock reading per request, so every field of a response agrees on "now".
    now: datetime = field(default_factory=clock.utcnow)
    # A compiled plan already tried this request and gave up: graphql-core answers.
    plan_gave_up: bool = False
    # What the response depends on (cache tags), recorded by the root resolvers; and what
    # a write changed that the outbox does not record (author and section edits).
    cache_tags: tags.Collector = field(default_factory=tags.Collector)


Info: TypeAlias = strawberry.Info[Context, None]
