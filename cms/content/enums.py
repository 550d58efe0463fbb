"""The enums a content item and a byline are described in. They are defined with the
models, whose columns hold them; code above the services (the GraphQL layer) names them
from here, never from cms.models."""

from __future__ import annotations

from cms.models import AuthorKind, ContentKind, ContentStatus

__all__ = ["AuthorKind", "ContentKind", "ContentStatus"]
