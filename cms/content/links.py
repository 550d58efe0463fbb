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

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        return cls(
            site_url=settings.website_url,
            public_url=settings.public_url,
            article_path=settings.article_path,
            video_episode_path=settings.video_episode_path,
        )

    def content_url(self, kind: ContentKind, slug: str) -> str:
        pattern = self.article_path if kind == ContentKind.ARTICLE else self.video_episode_path
        return self.site_url + pattern.format(slug=_quoted(slug))

    def media_url(self, key: str) -> str:
        return f"{self.public_url}/media/{_quoted(key)}"
