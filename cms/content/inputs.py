"""Input: what content create and update accept, checked and resolved to row values.

Field names in errors are the API's input names (camelCase), so clients can point at them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final
from urllib.parse import urlparse

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.content import rendering, slugs, text
from cms.errors import Invalid
from cms.models import Author, ContentKind, Media, Section, Tag

__all__ = [
    "UNSET",
    "ContentInput",
    "Resolved",
    "check_name",
    "external_id",
    "resolve",
]


class _Unset(Enum):
    """The one "not given" value, compared by identity (`is UNSET`) everywhere."""

    UNSET = "UNSET"


UNSET: Final[Any] = _Unset.UNSET

MAX_TITLE = 300
MAX_DEK = 1_000
MAX_BODY_BYTES = 1_000_000
MAX_TEXT = 100_000
MAX_EXTERNAL_ID = 200
MAX_LOCALE = 16  # the column's length
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


@dataclass(kw_only=True)
class ContentInput:
    """Every field is optional; UNSET means "not given" (a patch leaves it alone)."""

    title: Any = UNSET
    slug: Any = UNSET
    dek: Any = UNSET
    locale: Any = UNSET
    external_id: Any = UNSET
    section_slug: Any = UNSET
    author_slugs: Any = UNSET
    tag_slugs: Any = UNSET
    hero_image_id: Any = UNSET
    # The item this one translates (its primary key), at creation only.
    translation_of: Any = UNSET
    # Articles
    body: Any = UNSET
    # Video episodes
    description: Any = UNSET
    video_url: Any = UNSET
    duration_seconds: Any = UNSET
    show: Any = UNSET
    episode_number: Any = UNSET


@dataclass
class Resolved:
    """Checked row values, plus the bylines and tags when they were given."""

    values: dict[str, Any] = field(default_factory=dict)
    author_ids: list[int] | None = None
    tag_ids: list[int] | None = None


def check_name(value: Any, *, maximum: int) -> str:
    """A required display name (of an author or a section), trimmed."""
    name = text.check(str(value or ""), field="name").strip()
    if not name:
        raise Invalid("name must not be empty", field="name")
    if len(name) > maximum:
        raise Invalid(f"name must be at most {maximum} characters", field="name")
    return name


def _text(value: Any, name: str, *, maximum: int, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise Invalid(f"{name} is required", field=name)
        return None
    checked = text.check(str(value), field=name).strip()
    if required and not checked:
        raise Invalid(f"{name} must not be empty", field=name)
    if len(checked) > maximum:
        raise Invalid(f"{name} must be at most {maximum} characters", field=name)
    return checked or None


def _non_negative(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise Invalid(f"{name} must not be negative", field=name)
    return int(value)


def _video_url(value: Any) -> str:
    url = _text(value, "videoUrl", maximum=2000, required=True)
    assert url is not None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Invalid("videoUrl must be an http(s) URL", field="videoUrl")
    return url


def external_id(value: Any) -> str | None:
    """An externalId as it is stored and looked up: trimmed, not empty, at most
    MAX_EXTERNAL_ID (200) characters; None when not given."""
    if value is UNSET or value is None:
        return None
    return _text(value, "externalId", maximum=MAX_EXTERNAL_ID, required=True)


def _scalars(
    kind: ContentKind, data: ContentInput, *, creating: bool, locales: Sequence[str] | None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if creating or data.title is not UNSET:
        values["title"] = _text(data.title, "title", maximum=MAX_TITLE, required=True)
    if data.slug is not UNSET and data.slug is not None:
        values["slug"] = slugs.check(str(data.slug))
    if data.dek is not UNSET:
        values["dek"] = _text(data.dek, "dek", maximum=MAX_DEK)
    if data.locale is not UNSET and data.locale is not None:
        locale = str(data.locale)
        if len(locale) > MAX_LOCALE or not _LOCALE.fullmatch(locale):
            raise Invalid(
                f"locale must be a language tag such as en or uk-UA, at most {MAX_LOCALE} "
                "characters",
                field="locale",
            )
        if locales is not None and locale not in locales:
            raise Invalid(
                f"locale must be one of {', '.join(locales)} (CMS_LOCALES), not "
                f"{text.shown(locale)}",
                field="locale",
            )
        values["locale"] = locale
    if (given := external_id(data.external_id)) is not None:
        values["external_id"] = given
    if kind == ContentKind.ARTICLE:
        if data.body is not UNSET:
            body = text.check(data.body or "", field="body")
            if len(body) > MAX_BODY_BYTES or len(body.encode()) > MAX_BODY_BYTES:
                raise Invalid("body must be at most 1 MB", field="body")
            values["body"] = body
            values["reading_time_minutes"] = rendering.reading_time_minutes(body)
        elif creating:
            values["body"] = ""
        return values
    if creating or data.video_url is not UNSET:
        values["video_url"] = _video_url(data.video_url)
    if data.description is not UNSET:
        values["description"] = _text(data.description, "description", maximum=MAX_TEXT)
    if data.duration_seconds is not UNSET:
        values["duration_seconds"] = _non_negative(data.duration_seconds, "durationSeconds")
    if data.show is not UNSET:
        values["show"] = _text(data.show, "show", maximum=200)
    if data.episode_number is not UNSET:
        values["episode_number"] = _non_negative(data.episode_number, "episodeNumber")
    return values


async def _create_tag(slug: str, connection: BaseDBAsyncClient) -> int:
    """Create a tag named after its slug; if another writer just did, use theirs."""
    try:
        # A savepoint: on PostgreSQL a failed INSERT must not abort the caller's transaction.
        async with in_transaction() as savepoint:
            tag = await Tag.create(
                slug=slug, name=slug.replace("-", " ").capitalize(), using_db=savepoint
            )
    except IntegrityError:
        tag = await Tag.get(slug=slug, using_db=connection)
    return tag.id


async def _tag_ids(tag_slugs: list[str], connection: BaseDBAsyncClient) -> list[int]:
    """Tags by slug; unknown slugs are created (named after the slug)."""
    wanted = list(
        dict.fromkeys(
            slugs.check(slug, field="tagSlugs", maximum=slugs.MAX_TAXONOMY_LENGTH)
            for slug in tag_slugs
        )
    )
    found = dict(await Tag.filter(slug__in=wanted).using_db(connection).values_list("slug", "id"))
    for slug in wanted:
        if slug not in found:
            found[slug] = await _create_tag(slug, connection)
    return [found[slug] for slug in wanted]


async def resolve(
    kind: ContentKind,
    data: ContentInput,
    *,
    creating: bool,
    connection: BaseDBAsyncClient,
    locales: Sequence[str] | None = None,
) -> Resolved:
    """Check `data` and turn slugs and ids into row values; Invalid names the field. A
    locale must be one of `locales` (CMS_LOCALES) when they are given."""
    resolved = Resolved(values=_scalars(kind, data, creating=creating, locales=locales))
    if data.section_slug is not UNSET:
        section_id = None
        if data.section_slug is not None:
            named = str(data.section_slug)
            section = (  # a malformed slug names no section: it is not looked up
                await Section.get_or_none(slug=named, using_db=connection)
                if slugs.is_slug(named, maximum=slugs.MAX_TAXONOMY_LENGTH)
                else None
            )
            if section is None:
                raise Invalid(f"no section has the slug {text.shown(named)}", field="sectionSlug")
            section_id = section.id
        resolved.values["section_id"] = section_id
    if data.author_slugs is not UNSET:
        wanted = list(dict.fromkeys(data.author_slugs or []))
        known = [slug for slug in wanted if slugs.is_slug(slug)]  # no other names an author
        found = dict(
            await Author.filter(slug__in=known).using_db(connection).values_list("slug", "id")
        )
        missing = [slug for slug in wanted if slug not in found]
        if missing:
            raise Invalid(f"no author has the slug {text.shown(missing[0])}", field="authorSlugs")
        resolved.author_ids = [found[slug] for slug in wanted]
    if data.tag_slugs is not UNSET:
        resolved.tag_ids = await _tag_ids(list(data.tag_slugs or []), connection)
    if data.hero_image_id is not UNSET:
        if (
            data.hero_image_id is not None
            and not await Media.filter(id=data.hero_image_id).using_db(connection).exists()
        ):
            raise Invalid("no media has that heroImageId", field="heroImageId")
        resolved.values["hero_image_id"] = data.hero_image_id
    return resolved
