"""The demo newsroom: sample sections, bylines, media and stories (see cms.demo.newsroom)."""

from __future__ import annotations

__all__: list[str] = []
