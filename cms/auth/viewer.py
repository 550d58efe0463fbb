"""Who is asking: an anonymous reader, or the holder of an API token."""

from __future__ import annotations

from dataclasses import dataclass

from cms.auth.roles import Role

__all__ = ["ANONYMOUS", "Viewer"]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The asker of a request. A token holder has a name, a role and a token id;
    the anonymous reader has none of them."""

    name: str | None = None
    role: Role | None = None
    token_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        """True without a role: such a viewer may read public content and nothing more."""
        return self.role is None


ANONYMOUS = Viewer()
