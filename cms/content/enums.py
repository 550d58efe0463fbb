"""The enums a content item and a byline are described in. They are defined with the
models, whose columns hold them; code above the services (the GraphQL layer) names them
from here, never from cms.models."""

from __future__ import annotations

from enum import Enum

from cms.models import AuthorKind, ContentKind, ContentStatus

__all__ = ["AuthorKind", "ContentKind", "ContentStatus", "SearchOrder"]


class SearchOrder(Enum):
    """How search results are ordered: best match first, or newest first."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
