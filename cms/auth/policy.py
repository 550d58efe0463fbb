"""Who may do what: one table from each action to the smallest role allowed to do it.

`can` answers, `require` raises. Both are the only place these rules live: the GraphQL
permission classes and the content services ask them rather than compare roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.errors import Forbidden, Unauthenticated
from cms.models.content import ContentStatus

__all__ = ["MINIMUM_ROLE", "Action", "can", "require"]


class Action(StrEnum):
    PREVIEW = "preview"
    """Read drafts, scheduled and archived items."""
    CREATE_CONTENT = "create_content"
    EDIT_CONTENT = "edit_content"
    """Authors: only their own drafts. Editors and admins: anything."""
    PUBLISH = "publish"
    """Publish, unpublish and archive."""
    DELETE_CONTENT = "delete_content"
    RESTORE_REVISION = "restore_revision"
    READ_REVISIONS = "read_revisions"
    MANAGE_AUTHORS_AND_SECTIONS = "manage_authors_and_sections"
    """Create and update authors and tags; create sections."""
    UPLOAD_MEDIA = "upload_media"
    MANAGE_WEBHOOKS = "manage_webhooks"
    MANAGE_TOKENS = "manage_tokens"

    @property
    def words(self) -> str:
        """What the action does, for messages: "the author role may not <words>"."""
        return _WORDS[self]


MINIMUM_ROLE: Final[Mapping[Action, Role]] = MappingProxyType(
    {
        Action.PREVIEW: Role.VIEWER,
        Action.READ_REVISIONS: Role.VIEWER,
        Action.CREATE_CONTENT: Role.AUTHOR,
        Action.UPLOAD_MEDIA: Role.AUTHOR,
        Action.EDIT_CONTENT: Role.AUTHOR,  # and for an author, only its own drafts
        Action.PUBLISH: Role.EDITOR,
        Action.DELETE_CONTENT: Role.EDITOR,
        Action.RESTORE_REVISION: Role.EDITOR,
        Action.MANAGE_AUTHORS_AND_SECTIONS: Role.EDITOR,
        Action.MANAGE_WEBHOOKS: Role.ADMIN,
        Action.MANAGE_TOKENS: Role.ADMIN,
    }
)
"""The smallest role allowed to do each action."""

_WORDS: Final[Mapping[Action, str]] = MappingProxyType(
    {
        Action.PREVIEW: "preview unpublished content",
        Action.CREATE_CONTENT: "create content",
        Action.EDIT_CONTENT: "edit content",
        Action.PUBLISH: "publish, unpublish or archive content",
        Action.DELETE_CONTENT: "delete content",
        Action.RESTORE_REVISION: "restore revisions",
        Action.READ_REVISIONS: "read revisions",
        Action.MANAGE_AUTHORS_AND_SECTIONS: "manage authors, sections and tags",
        Action.UPLOAD_MEDIA: "upload media",
        Action.MANAGE_WEBHOOKS: "manage webhooks",
        Action.MANAGE_TOKENS: "manage API tokens",
    }
)

_OWN_DRAFTS_ONLY = "edit content other than its own drafts"


def _is_own_draft(viewer: Viewer, target: object) -> bool:
    status = getattr(target, "status", None)
    owner = getattr(target, "created_by_token_id", None)
    return status == ContentStatus.DRAFT and owner is not None and owner == viewer.token_id


def _needs_own_draft(viewer: Viewer, action: Action, target: object | None) -> bool:
    """Whether the role is enough only for its own drafts: an author editing a given item."""
    return (
        action is Action.EDIT_CONTENT
        and target is not None
        and viewer.role is not None
        and viewer.role.at_least(MINIMUM_ROLE[action])
        and not viewer.role.at_least(Role.EDITOR)
    )


def can(viewer: Viewer, action: Action, target: object | None = None) -> bool:
    """Whether `viewer` may do `action` (to `target`, when given).

    The anonymous viewer may do none of these actions (reading public content needs no
    action). For EDIT_CONTENT, an author may edit a target only when it is a draft that
    its own token created: the target is anything with `status` ("draft", as a string or
    a StrEnum) and `created_by_token_id`. Without a target, the answer is whether the role
    may do the action to anything at all (what a field-level permission checks).
    """
    if viewer.role is None or not viewer.role.at_least(MINIMUM_ROLE[action]):
        return False
    if _needs_own_draft(viewer, action, target):
        return _is_own_draft(viewer, target)
    return True


def require(viewer: Viewer, action: Action, target: object | None = None) -> None:
    """Return when `can(viewer, action, target)`; otherwise raise `Unauthenticated` for
    the anonymous viewer and `Forbidden` for a token whose role is too small."""
    if can(viewer, action, target):
        return
    if viewer.role is None:
        raise Unauthenticated("this needs an API token")
    words = _OWN_DRAFTS_ONLY if _needs_own_draft(viewer, action, target) else action.words
    raise Forbidden(f"the {viewer.role.value} role may not {words}")
