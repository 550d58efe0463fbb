"""Domain errors raised by cms services. The GraphQL layer maps them to result types."""

from __future__ import annotations

__all__ = ["CmsError", "Conflict", "Forbidden", "Invalid", "NotFound", "Unauthenticated"]


class CmsError(Exception):
    """Base of every expected failure; `str(error)` is a one-line message for users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CmsError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class Invalid(CmsError):
    """Input that breaks a rule; `field` names the input field when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(CmsError):
    """A write lost a race: the item changed since the version the caller saw."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class Unauthenticated(CmsError):
    """A token was given but it is wrong or revoked, or a token is required."""


class Forbidden(CmsError):
    """The token's role is too small for the action."""
