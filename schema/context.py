"""The per-request context every resolver sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import strawberry

from cms import clock
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.config import Settings
from cms.content.links import Links
from cms.events.broker import InMemoryBroker
from schema.loaders import Loaders

__all__ = ["Context", "Info"]


@dataclass
class Context:
    settings: Settings
    links: Links
    viewer: Viewer = ANONYMOUS
    request: Any = None
    response: Any = None
    loaders: Loaders = field(default_factory=Loaders)
    broker: InMemoryBroker | None = None
    # graphql-transport-ws: the connection_init payload ({"authorization": "Bearer …"}).
    connection_params: dict[str, Any] | None = None
    # One clock reading per request, so every field of a response agrees on "now".
    now: datetime = field(default_factory=clock.utcnow)


Info: TypeAlias = strawberry.Info[Context, None]
