"""Errors as data: the Error interface, its types, and the mutation result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry

__all__ = ["ConflictError", "Deleted", "Error", "NotFoundError", "ValidationError"]


@strawberry.interface(description="A problem a mutation reports as data.")
class Error:
    message: str


@strawberry.type(description="Input that breaks a rule; `field` names the input field.")
class ValidationError(Error):
    field: str | None = None


@strawberry.type(description="Nothing has that ID (or you may not see it).")
class NotFoundError(Error):
    pass


@strawberry.type(description="The item changed since the version you sent.")
class ConflictError(Error):
    current_version: int | None = None


@strawberry.type(description="The ID of what was deleted.")
class Deleted:
    id: strawberry.ID


DeleteResult = Annotated[Deleted | NotFoundError, strawberry.union("DeleteResult")]
