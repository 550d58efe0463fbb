"""cms.auth.policy: the whole who-may-do-what table, and authors' own drafts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cms.auth import policy
from cms.auth.policy import Action
from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.errors import Forbidden, Unauthenticated
from cms.models import Content, ContentKind, ContentStatus

# Written out by hand on purpose: this is the contract, not a copy of MINIMUM_ROLE.
#                                        anonymous viewer author editor admin
EXPECTED: dict[Action, tuple[bool, bool, bool, bool, bool]] = {
    Action.PREVIEW:                      (False,    True,  True,  True,  True),
    Action.READ_REVISIONS:               (False,    True,  True,  True,  True),
    Action.CREATE_CONTENT:               (False,    False, True,  True,  True),
    Action.UPLOAD_MEDIA:                 (False,    False, True,  True,  True),
    Action.EDIT_CONTENT:                 (False,    False, True,  True,  True),
    Action.UPSERT_CONTENT:               (False,    False, True,  True,  True),
    Action.SUBMIT_FOR_REVIEW:            (False,    False, True,  True,  True),
    Action.CREATE_PREVIEW_LINK:          (False,    False, True,  True,  True),
    Action.PUBLISH:                      (False,    False, False, True,  True),
    Action.REQUEST_CHANGES:              (False,    False, False, True,  True),
    Action.CORRECT:                      (False,    False, False, True,  True),
    Action.KILL:                         (False,    False, False, True,  True),
    Action.PIN:                          (False,    False, False, True,  True),
    Action.REVIVE_KILLED:                (False,    False, False, False, True),
    Action.DELETE_CONTENT:               (False,    False, False, True,  True),
    Action.RESTORE_REVISION:             (False,    False, False, True,  True),
    Action.MANAGE_AUTHORS_AND_SECTIONS:  (False,    False, False, True,  True),
    Action.MANAGE_WEBHOOKS:              (False,    False, False, False, True),
    Action.MANAGE_TOKENS:                (False,    False, False, False, True),
}  # fmt: skip

COLUMNS: tuple[Role | None, ...] = (None, Role.VIEWER, Role.AUTHOR, Role.EDITOR, Role.ADMIN)

CELLS = [
    pytest.param(action, role, allowed, id=f"{action.value}-{role or 'anonymous'}")
    for action, row in EXPECTED.items()
    for role, allowed in zip(COLUMNS, row, strict=True)
]


def _viewer(role: Role | None, token_id: int = 7) -> Viewer:
    return ANONYMOUS if role is None else Viewer(name=f"{role}-bot", role=role, token_id=token_id)


@dataclass
class Item:
    status: object
    created_by_token_id: int | None


def test_the_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action)
    assert set(policy.MINIMUM_ROLE) == set(Action)


@pytest.mark.parametrize(("action", "role", "allowed"), CELLS)
def test_can(action: Action, role: Role | None, allowed: bool) -> None:
    assert policy.can(_viewer(role), action) is allowed


@pytest.mark.parametrize(("action", "role", "allowed"), CELLS)
def test_require(action: Action, role: Role | None, allowed: bool) -> None:
    viewer = _viewer(role)
    if allowed:
        policy.require(viewer, action)
    elif role is None:
        with pytest.raises(Unauthenticated, match="^this needs an API token$"):
            policy.require(viewer, action)
    else:
        with pytest.raises(Forbidden, match=f"^the {role.value} role may not "):
            policy.require(viewer, action)


def test_forbidden_message_names_role_and_action() -> None:
    with pytest.raises(Forbidden) as caught:
        policy.require(_viewer(Role.AUTHOR), Action.PUBLISH)
    assert caught.value.message == "the author role may not publish, unpublish or archive content"


def test_a_viewer_without_a_role_is_anonymous() -> None:
    nameless = Viewer(name="ghost", token_id=3)
    assert not any(policy.can(nameless, action) for action in Action)


# --- EDIT_CONTENT and authors ---------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", ContentStatus.DRAFT], ids=["str", "enum"])
def test_author_may_edit_its_own_draft(status: object) -> None:
    author = _viewer(Role.AUTHOR, token_id=7)
    own_draft = Item(status=status, created_by_token_id=7)
    assert policy.can(author, Action.EDIT_CONTENT, own_draft)
    policy.require(author, Action.EDIT_CONTENT, own_draft)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(Item("draft", 8), id="another-tokens-draft"),
        pytest.param(Item("draft", None), id="a-draft-of-no-token"),
        pytest.param(Item(ContentStatus.PUBLISHED, 7), id="its-own-published"),
        pytest.param(Item(ContentStatus.SCHEDULED, 7), id="its-own-scheduled"),
        pytest.param(Item(ContentStatus.ARCHIVED, 7), id="its-own-archived"),
        pytest.param(object(), id="not-content"),
    ],
)
def test_author_may_not_edit_other_content(target: object) -> None:
    author = _viewer(Role.AUTHOR, token_id=7)
    assert not policy.can(author, Action.EDIT_CONTENT, target)
    with pytest.raises(Forbidden) as caught:
        policy.require(author, Action.EDIT_CONTENT, target)
    assert caught.value.message == "the author role may not edit content other than its own drafts"


def test_an_author_without_a_token_id_owns_nothing() -> None:
    author = Viewer(name="odd", role=Role.AUTHOR, token_id=None)
    assert not policy.can(author, Action.EDIT_CONTENT, Item("draft", None))


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN])
@pytest.mark.parametrize("status", list(ContentStatus))
def test_editors_and_admins_edit_anything(role: Role, status: ContentStatus) -> None:
    target = Item(status=status, created_by_token_id=99)
    assert policy.can(_viewer(role, token_id=7), Action.EDIT_CONTENT, target)


@pytest.mark.parametrize("role", [None, Role.VIEWER])
def test_below_author_may_not_edit_even_its_own_draft(role: Role | None) -> None:
    viewer = _viewer(role, token_id=7)
    own_draft = Item("draft", 7)
    assert not policy.can(viewer, Action.EDIT_CONTENT, own_draft)
    if role is None:
        with pytest.raises(Unauthenticated):
            policy.require(viewer, Action.EDIT_CONTENT, own_draft)
    else:
        with pytest.raises(Forbidden) as caught:
            policy.require(viewer, Action.EDIT_CONTENT, own_draft)
        assert caught.value.message == "the viewer role may not edit content"


def test_the_target_only_matters_for_edit_content() -> None:
    author = _viewer(Role.AUTHOR, token_id=7)
    others = Item("published", 8)
    assert policy.can(author, Action.CREATE_CONTENT, others)
    assert not policy.can(author, Action.PUBLISH, Item("draft", 7))


async def test_the_content_model_is_a_target(db: None) -> None:
    author = _viewer(Role.AUTHOR, token_id=7)

    def item(status: ContentStatus, token_id: int | None) -> Content:
        return Content(
            kind=ContentKind.ARTICLE,
            title="t",
            slug="t",
            status=status,
            created_by_token_id=token_id,
        )

    assert policy.can(author, Action.EDIT_CONTENT, item(ContentStatus.DRAFT, 7))
    assert not policy.can(author, Action.EDIT_CONTENT, item(ContentStatus.DRAFT, 8))
    assert not policy.can(author, Action.EDIT_CONTENT, item(ContentStatus.PUBLISHED, 7))
