"""Field permissions over cms.auth.policy: UNAUTHENTICATED without a token, FORBIDDEN
with too small a role (the code is added by schema.errors.ErrorCodes)."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from cms.auth import policy
from schema.context import Info

__all__ = ["Require", "require"]


class Require(BasePermission):
    def __init__(self, action: policy.Action) -> None:
        self.action = action

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raises Unauthenticated or Forbidden with a message that names the role and action.
        policy.require(info.context.viewer, self.action)
        return True


def require(action: policy.Action) -> list[FieldExtension]:
    """`extensions=require(Action.PUBLISH)` on a field."""
    return [PermissionExtension(permissions=[Require(action)], use_directives=False)]
