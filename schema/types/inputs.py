"""Mutation inputs. Create inputs require what a new item needs; patches take any field
(omitted means unchanged, null clears)."""

from __future__ import annotations

from typing import Any

import strawberry

from cms.content import ids
from cms.content.inputs import UNSET, ContentInput
from cms.errors import Invalid, NotFound
from schema.types.people import AuthorKind

__all__ = [
    "ArticleInput",
    "ArticlePatch",
    "AuthorInput",
    "AuthorPatch",
    "ContentFields",
    "SectionInput",
    "VideoEpisodeInput",
    "VideoEpisodePatch",
    "content_pk",
    "given",
    "media_pk",
    "to_content_input",
]

_MISSING: Any = strawberry.UNSET


def media_pk(value: Any, field: str) -> Any:
    """A Media global ID as a primary key (None and UNSET pass through). An input field
    pointing at something else is invalid input, not a missing thing."""
    if value is None or value is _MISSING:
        return value
    try:
        return ids.expect(str(value), "Media", field=field)
    except NotFound:
        raise Invalid(f"{field} must be the ID of a Media", field=field) from None


def content_pk(value: Any, field: str) -> Any:
    """A content global ID (an Article's or a VideoEpisode's) as a primary key; None and
    UNSET pass through. Anything else is invalid input naming `field`."""
    if value is None or value is _MISSING:
        return value
    try:
        return ids.expect(str(value), *ids.CONTENT_KINDS, field=field, what="content")
    except NotFound:
        raise Invalid(
            f"{field} must be the ID of an article or a video episode", field=field
        ) from None


def given(source: object) -> dict[str, Any]:
    """The fields of an input the client sent (explicit nulls included)."""
    return {name: value for name, value in vars(source).items() if value is not strawberry.UNSET}


def to_content_input(source: object) -> ContentInput:
    """The service's input: the fields the client sent."""
    values = given(source)
    if "hero_image_id" in values:
        values["hero_image_id"] = media_pk(values["hero_image_id"], "heroImageId")
    if "translation_of" in values:
        values["translation_of"] = content_pk(values["translation_of"], "translationOf")
    return ContentInput(**{name: values.get(name, UNSET) for name in values})


@strawberry.input(description="Fields every kind of content takes.")
class ContentFields:
    """What articles and video episodes share; each kind's patch adds its own fields, and
    its create input makes required what a new item needs."""

    title: str | None = _MISSING
    slug: str | None = _MISSING
    dek: str | None = _MISSING
    section_slug: str | None = _MISSING
    author_slugs: list[str] | None = _MISSING
    tag_slugs: list[str] | None = strawberry.field(
        default=_MISSING, description="Unknown tag slugs are created."
    )
    hero_image_id: strawberry.ID | None = _MISSING
    locale: str | None = _MISSING
    external_id: str | None = strawberry.field(
        default=_MISSING,
        description="Your system's ID for the item, set at creation: retrying a create "
        "with it never duplicates; it cannot change later.",
    )


@strawberry.input(description="Changes to an article; omitted fields stay as they are.")
class ArticlePatch(ContentFields):
    body: str | None = _MISSING


_TRANSLATION_OF = (
    "The item this one translates (same kind, another locale): the new item joins its story."
)


@strawberry.input(description="A new article; the body is Markdown.")
class ArticleInput(ArticlePatch):
    title: str
    translation_of: strawberry.ID | None = strawberry.field(
        default=_MISSING, description=_TRANSLATION_OF
    )


@strawberry.input(description="Changes to a video episode; omitted fields stay as they are.")
class VideoEpisodePatch(ContentFields):
    video_url: str | None = _MISSING
    description: str | None = _MISSING
    duration_seconds: int | None = _MISSING
    show: str | None = _MISSING
    episode_number: int | None = _MISSING


@strawberry.input(description="A new episode of a video show.")
class VideoEpisodeInput(VideoEpisodePatch):
    title: str
    video_url: str
    translation_of: strawberry.ID | None = strawberry.field(
        default=_MISSING, description=_TRANSLATION_OF
    )


@strawberry.input(description="A new byline: a desk or a person.")
class AuthorInput:
    name: str
    slug: str | None = _MISSING
    kind: AuthorKind | None = _MISSING
    bio: str | None = _MISSING
    email: str | None = _MISSING
    avatar_id: strawberry.ID | None = _MISSING


@strawberry.input(description="Changes to an author; omitted fields stay as they are.")
class AuthorPatch:
    name: str | None = _MISSING
    slug: str | None = _MISSING
    kind: AuthorKind | None = _MISSING
    bio: str | None = _MISSING
    email: str | None = _MISSING
    avatar_id: strawberry.ID | None = _MISSING


@strawberry.input(description="A new tag; its name keeps its case.")
class TagInput:
    name: str
    slug: str | None = _MISSING


@strawberry.input(description="Changes to a tag; omitted fields stay as they are.")
class TagPatch:
    name: str | None = _MISSING
    slug: str | None = _MISSING


@strawberry.input(description="A new section.")
class SectionInput:
    name: str
    slug: str | None = _MISSING
