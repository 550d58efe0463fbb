"""Roles a token holds, ordered viewer < author < editor < admin."""

from __future__ import annotations

from enum import StrEnum

from cms.errors import Invalid

__all__ = ["Role", "parse_role"]


class Role(StrEnum):
    """A token's role. Compare roles with `at_least` (or `rank`), never with `<`:
    a StrEnum orders by its string value, which is alphabetical, not by power."""

    VIEWER = "viewer"
    AUTHOR = "author"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return _ORDER.index(self)

    def at_least(self, other: Role) -> bool:
        """Whether this role has every power that `other` has."""
        return self.rank >= other.rank


_ORDER: tuple[Role, ...] = (Role.VIEWER, Role.AUTHOR, Role.EDITOR, Role.ADMIN)


def parse_role(value: str) -> Role:
    """The role named by `value` (case and surrounding spaces ignored).

    Raises `Invalid(field="role")`, listing the valid roles, for anything else.
    """
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(role.value for role in _ORDER)
        raise Invalid(f"unknown role {value!r}: use one of {valid}", field="role") from None
