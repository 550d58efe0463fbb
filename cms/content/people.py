"""Authors: desk or person bylines. Each write answers with the record of what it saved
(sections are in cms.content.taxonomy)."""

from __future__ import annotations

import re
from typing import Any

from tortoise.exceptions import IntegrityError

from cms.auth import policy
from cms.auth.viewer import Viewer
from cms.content import lookups, slugs, text
from cms.content.inputs import UNSET, check_name
from cms.content.records import AuthorRecord
from cms.errors import Invalid, NotFound
from cms.models import Author, AuthorKind, Media

__all__ = ["create_author", "update_author"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_NAME = 200
MAX_BIO = 5_000
MAX_EMAIL = 254  # RFC 5321's longest address, and the column's length


async def _author_values(values: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    if "name" in values:
        checked["name"] = check_name(values["name"], maximum=MAX_NAME)
    if values.get("slug") is not None:
        checked["slug"] = slugs.check(values["slug"])
    if values.get("kind") is not None:
        checked["kind"] = AuthorKind(values["kind"])
    if "bio" in values:
        bio = text.check(values["bio"] or "", field="bio").strip()
        if len(bio) > MAX_BIO:
            raise Invalid(f"bio must be at most {MAX_BIO} characters", field="bio")
        checked["bio"] = bio or None
    if "email" in values:
        email = text.check(values["email"] or "", field="email").strip()
        if len(email) > MAX_EMAIL:
            raise Invalid(f"email must be at most {MAX_EMAIL} characters", field="email")
        if email and not _EMAIL.fullmatch(email):
            raise Invalid("email is not an email address", field="email")
        checked["email"] = email or None
    if "avatar_id" in values:
        avatar_id = values["avatar_id"]
        if avatar_id is not None and not await Media.filter(id=avatar_id).exists():
            raise Invalid("no media has that avatarId", field="avatarId")
        checked["avatar_id"] = avatar_id
    return checked


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not UNSET}


async def _saved(id: int) -> AuthorRecord:
    """The author's record (with its avatar) as it now stands."""
    record = await lookups.author(id=id)
    if record is None:  # deleted meanwhile
        raise NotFound("no author has that id")
    return record


async def create_author(
    *,
    viewer: Viewer,
    name: str,
    slug: str | None = None,
    kind: AuthorKind = AuthorKind.PERSON,
    bio: str | None = None,
    email: str | None = None,
    avatar_id: int | None = None,
) -> AuthorRecord:
    policy.require(viewer, policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    values = await _author_values(
        {
            "name": name,
            "slug": slug,
            "kind": kind,
            "bio": bio,
            "email": email,
            "avatar_id": avatar_id,
        }
    )
    values.setdefault("slug", slugs.slugify(values["name"]))
    try:
        author = await Author.create(**values)
    except IntegrityError:
        raise Invalid("an author with that slug exists", field="slug") from None
    return await _saved(author.id)


async def update_author(
    *,
    viewer: Viewer,
    id: int,
    name: Any = UNSET,
    slug: Any = UNSET,
    kind: Any = UNSET,
    bio: Any = UNSET,
    email: Any = UNSET,
    avatar_id: Any = UNSET,
) -> AuthorRecord:
    policy.require(viewer, policy.Action.MANAGE_AUTHORS_AND_SECTIONS)
    if not await Author.exists(id=id):
        raise NotFound("no author has that id")
    values = await _author_values(
        _given(name=name, slug=slug, kind=kind, bio=bio, email=email, avatar_id=avatar_id)
    )
    if values:
        try:
            await Author.filter(id=id).update(**values)
        except IntegrityError:
            raise Invalid("an author with that slug exists", field="slug") from None
    return await _saved(id)
