"""Types for token holders: who am I."""

from __future__ import annotations

import strawberry

from schema.types.enums import Role

__all__ = ["Role", "TokenHolder"]


@strawberry.type(name="Viewer", description="The holder of the API token that made this request.")
class TokenHolder:
    """GraphQL's Viewer; cms.auth.viewer.Viewer is whoever asks, anonymous included."""

    name: str
    role: Role
