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
    UPSERT_CONTENT = "upsert_content"
    """Create or update by external id (upsertArticle); a change to an existing item
    needs EDIT_CONTENT on it too, a resend that changes nothing does not."""
    PUBLISH = "publish"
    """Publish, unpublish and archive."""
    DELETE_CONTENT = "delete_content"
    RESTORE_REVISION = "restore_revision"
    READ_REVISIONS = "read_revisions"
    SUBMIT_FOR_REVIEW = "submit_for_review"
    """Authors: only their own drafts. Editors and admins: any draft."""
    REQUEST_CHANGES = "request_changes"
    """Send an item in review back to its author, with a note."""
    CORRECT = "correct"
    """Append a public correction to a published item."""
    KILL = "kill"
    """Withdraw a story for legal or safety reasons (KILLED)."""
    REVIVE_KILLED = "revive_killed"
    """Take a killed item out of KILLED (publish, unpublish or archive it)."""
    PIN = "pin"
    """Pin and unpin published items."""
    CREATE_PREVIEW_LINK = "create_preview_link"
    """Authors: only for their own items. Editors and admins: any item."""
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
        Action.UPSERT_CONTENT: Role.AUTHOR,  # a change needs EDIT_CONTENT too
        Action.SUBMIT_FOR_REVIEW: Role.AUTHOR,  # and for an author, only its own drafts
        Action.CREATE_PREVIEW_LINK: Role.AUTHOR,  # and for an author, only its own items
        Action.PUBLISH: Role.EDITOR,
        Action.REQUEST_CHANGES: Role.EDITOR,
        Action.CORRECT: Role.EDITOR,
        Action.KILL: Role.EDITOR,
        Action.PIN: Role.EDITOR,
        Action.REVIVE_KILLED: Role.ADMIN,
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
        Action.UPSERT_CONTENT: "create or update content by external id",
        Action.PUBLISH: "publish, unpublish or archive content",
        Action.SUBMIT_FOR_REVIEW: "submit content for review",
        Action.REQUEST_CHANGES: "send content back to its author",
        Action.CORRECT: "add corrections",
        Action.KILL: "kill content",
        Action.REVIVE_KILLED: "bring back killed content",
        Action.PIN: "pin or unpin content",
        Action.CREATE_PREVIEW_LINK: "create preview links",
        Action.DELETE_CONTENT: "delete content",
        Action.RESTORE_REVISION: "restore revisions",
        Action.READ_REVISIONS: "read revisions",
        Action.MANAGE_AUTHORS_AND_SECTIONS: "manage authors, sections and tags",
        Action.UPLOAD_MEDIA: "upload media",
        Action.MANAGE_WEBHOOKS: "manage webhooks",
        Action.MANAGE_TOKENS: "manage API tokens",
    }
)

# The actions an author may do only to its own items, and to which of them: what the
# refusal says it may not do otherwise (None: any status of its own).
_OWN_ONLY: Final[Mapping[Action, tuple[ContentStatus | None, str]]] = MappingProxyType(
    {
        Action.EDIT_CONTENT: (ContentStatus.DRAFT, "edit content other than its own drafts"),
        Action.SUBMIT_FOR_REVIEW: (
            ContentStatus.DRAFT,
            "submit content other than its own drafts for review",
        ),
        Action.CREATE_PREVIEW_LINK: (None, "create preview links of content it did not create"),
    }
)


def _is_own(viewer: Viewer, action: Action, target: object) -> bool:
    wanted, _ = _OWN_ONLY[action]
    status = getattr(target, "status", None)
    owner = getattr(target, "created_by_token_id", None)
    return (wanted is None or status == wanted) and owner is not None and owner == viewer.token_id


def _needs_own_draft(viewer: Viewer, action: Action, target: object | None) -> bool:
    """Whether the role is enough only for its own items: an author editing, submitting
    or previewing a given item."""
    return (
        action in _OWN_ONLY
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
        return _is_own(viewer, action, target)
    return True


def require(viewer: Viewer, action: Action, target: object | None = None) -> None:
    """Return when `can(viewer, action, target)`; otherwise raise `Unauthenticated` for
    the anonymous viewer and `Forbidden` for a token whose role is too small."""
    if can(viewer, action, target):
        return
    if viewer.role is None:
        raise Unauthenticated("this needs an API token")
    words = _OWN_ONLY[action][1] if _needs_own_draft(viewer, action, target) else action.words
    raise Forbidden(f"the {viewer.role.value} role may not {words}")
