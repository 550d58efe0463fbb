"""Types for token holders: who am I."""

from __future__ import annotations

import strawberry

from cms.auth.roles import Role

__all__ = ["Role", "Viewer"]

strawberry.enum(Role, name="Role", description="What a token may do.")


@strawberry.type(description="The holder of the API token that made this request.")
class Viewer:
    name: str
    role: Role
