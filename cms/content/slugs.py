"""Slugs: made from titles, checked, and kept unique."""

from __future__ import annotations

import re
import unicodedata

from cms.errors import Invalid

__all__ = ["MAX_LENGTH", "check", "slugify"]

MAX_LENGTH = 200
_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugify(text: str) -> str:
    """A URL slug from a title: lower-case ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_LENGTH].rstrip("-") or "item"


def check(slug: str, *, field: str = "slug") -> str:
    """Return `slug` if it is well formed, else raise Invalid naming the rule."""
    if len(slug) > MAX_LENGTH or not _PATTERN.fullmatch(slug):
        raise Invalid(
            f"slug must be lower-case letters, digits and single hyphens, "
            f"at most {MAX_LENGTH} characters",
            field=field,
        )
    return slug
