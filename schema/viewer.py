"""`me`, for the Query root: who is asking."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.types.admin import TokenHolder

__all__ = ["ViewerQuery"]


@strawberry.type
class ViewerQuery:
    @strawberry.field(description="The token holder asking, or null when anonymous.")
    def me(self, info: Info) -> TokenHolder | None:
        viewer = info.context.viewer
        if viewer.is_anonymous or viewer.name is None or viewer.role is None:
            return None
        return TokenHolder(name=viewer.name, role=viewer.role)
