"""Async builders over the real services (never raw content rows), for tests.

Every builder takes keyword arguments only and returns the model object it made (the
services answer with records; tests may read and change rows). Content is created as a
draft through `cms.content.editing.create`; give `published_at` to publish it at that time
(in the future: scheduled). Media rows are written directly (an upload needs real image
bytes: tests/media covers cms.media.service).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.config import Settings
from cms.content import editing, inputs, lookups, people, publishing, taxonomy
from cms.models import Author, AuthorKind, Content, ContentKind, Media, Section

__all__ = [
    "ADMIN_VIEWER",
    "DEFAULT_LOCALE",
    "make_article",
    "make_author",
    "make_media",
    "make_section",
    "make_video_episode",
]

ADMIN_VIEWER = Viewer(name="tests", role=Role.ADMIN)
DEFAULT_LOCALE: str = Settings.model_fields["default_locale"].default
"""CMS_DEFAULT_LOCALE's default: the locale of content made without one."""

_numbers = itertools.count(1)


def _slug_of(value: Section | Author | str) -> str:
    return value if isinstance(value, str) else value.slug


async def make_section(*, slug: str = "war", name: str | None = None) -> Section:
    record = await taxonomy.create_section(
        viewer=ADMIN_VIEWER, name=name or slug.replace("-", " ").capitalize(), slug=slug
    )
    return await Section.get(id=record.id)


async def make_media(
    *,
    key: str | None = None,
    mime_type: str = "image/png",
    width: int | None = 1200,
    height: int | None = 800,
    alt_text: str | None = "A picture",
    caption: str | None = None,
    credit: str | None = None,
) -> Media:
    return await Media.create(
        key=key or f"tests/image-{next(_numbers)}.png",
        mime_type=mime_type,
        size_bytes=1024,
        width=width,
        height=height,
        alt_text=alt_text,
        caption=caption,
        credit=credit,
    )


async def make_author(
    *,
    slug: str = "iryna-zavolska",
    name: str | None = None,
    kind: AuthorKind = AuthorKind.PERSON,
    bio: str | None = None,
    email: str | None = None,
    avatar: bool = False,
) -> Author:
    avatar_id = (await make_media(key=f"avatars/{slug}.png")).id if avatar else None
    record = await people.create_author(
        viewer=ADMIN_VIEWER,
        name=name or slug.replace("-", " ").title(),
        slug=slug,
        kind=kind,
        bio=bio,
        email=email,
        avatar_id=avatar_id,
    )
    return await Author.get(id=record.id)


async def _make(
    kind: ContentKind,
    data: inputs.ContentInput,
    *,
    section: Section | str | None,
    authors: Iterable[Author | str],
    tags: Iterable[str],
    hero_image: bool | Media,
    published_at: datetime | None,
) -> Content:
    if section is not None:
        data.section_slug = _slug_of(section)
    data.author_slugs = [_slug_of(author) for author in authors]
    data.tag_slugs = list(tags)
    if hero_image is True:
        data.hero_image_id = (await make_media()).id
    elif isinstance(hero_image, Media):
        data.hero_image_id = hero_image.id
    content = await editing.create(
        kind=kind,
        data=data,
        viewer=ADMIN_VIEWER,
        default_locale=DEFAULT_LOCALE,
        include=lookups.NOTHING,
    )
    if published_at is not None:
        await publishing.publish(
            id=content.id, viewer=ADMIN_VIEWER, at=published_at, include=lookups.NOTHING
        )
    return await Content.get(id=content.id)


def _optional(**values: object) -> dict[str, object]:
    """Only the values given (None means "not given": the service's default applies)."""
    return {name: value for name, value in values.items() if value is not None}


async def make_article(
    *,
    title: str = "Volunteers rebuild the district library",
    slug: str | None = None,
    dek: str | None = None,
    body: str = "Some *text*.",
    section: Section | str | None = None,
    authors: Iterable[Author | str] = (),
    tags: Iterable[str] = (),
    hero_image: bool | Media = False,
    published_at: datetime | None = None,
    external_id: str | None = None,
    locale: str | None = None,
) -> Content:
    data = inputs.ContentInput(
        title=title,
        body=body,
        **_optional(slug=slug, dek=dek, external_id=external_id, locale=locale),
    )
    return await _make(
        ContentKind.ARTICLE,
        data,
        section=section,
        authors=authors,
        tags=tags,
        hero_image=hero_image,
        published_at=published_at,
    )


async def make_video_episode(
    *,
    title: str = "Newsroom Weekly",
    slug: str | None = None,
    dek: str | None = None,
    description: str | None = "This week in the newsroom.",
    video_url: str = "https://video.example/weekly.mp4",
    duration_seconds: int | None = 600,
    show: str | None = "Newsroom Weekly",
    episode_number: int | None = None,
    section: Section | str | None = None,
    authors: Iterable[Author | str] = (),
    tags: Iterable[str] = (),
    hero_image: bool | Media = False,
    published_at: datetime | None = None,
    external_id: str | None = None,
    locale: str | None = None,
) -> Content:
    data = inputs.ContentInput(
        title=title,
        video_url=video_url,
        **_optional(
            slug=slug,
            dek=dek,
            description=description,
            duration_seconds=duration_seconds,
            show=show,
            episode_number=episode_number,
            external_id=external_id,
            locale=locale,
        ),
    )
    return await _make(
        ContentKind.VIDEO_EPISODE,
        data,
        section=section,
        authors=authors,
        tags=tags,
        hero_image=hero_image,
        published_at=published_at,
    )
