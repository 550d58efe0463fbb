"""Absolute URLs for GraphQL objects: public pages on the newsroom's site, and media."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote

from cms.config import Settings
from cms.models import ContentKind

__all__ = ["Links"]


@functools.lru_cache(maxsize=16_384)  # slugs and media keys repeat on every page
def _quoted(text: str) -> str:
    return quote(text)


@dataclass(frozen=True, slots=True)
class Links:
    site_url: str
    public_url: str
    article_path: str
    video_episode_path: str
    default_locale: str = "en"

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        return cls(
            site_url=settings.website_url,
            public_url=settings.public_url,
            article_path=settings.article_path,
            video_episode_path=settings.video_episode_path,
            default_locale=settings.default_locale,
        )

    def content_url(self, kind: ContentKind, slug: str, locale: str | None = None) -> str:
        """The item's page: its kind's path pattern with the slug and, where the pattern
        has one, the locale. A pattern without `{locale}` puts items of other locales than
        the default under `/<locale>` (/news/x, /uk/news/x), so translations never share
        an address."""
        pattern = self.article_path if kind == ContentKind.ARTICLE else self.video_episode_path
        locale = locale or self.default_locale
        path = pattern.format(slug=_quoted(slug), locale=_quoted(locale))
        if locale != self.default_locale and "{locale}" not in pattern:
            path = f"/{_quoted(locale)}{path}"
        return self.site_url + path

    def media_url(self, key: str) -> str:
        return f"{self.public_url}/media/{_quoted(key)}"
