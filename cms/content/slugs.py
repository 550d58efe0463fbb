"""Slugs: made from titles, checked, and kept unique."""

from __future__ import annotations

import re
import unicodedata

from cms.errors import Invalid

__all__ = ["MAX_LENGTH", "check", "slugify"]

MAX_LENGTH = 200
_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


# Ukrainian (national system, 2010) and Russian letters, so Cyrillic titles make readable
# slugs rather than "item". The soft and hard signs are dropped.
_CYRILLIC = str.maketrans(
    {
        **dict(
            zip(
                "абвгґдеєжзиіїйклмнопрстуфхцчшщюяёыэ",
                "a b v h g d e ie zh z y i i i k l m n o p r s t u f kh ts ch sh shch "
                "iu ia e y e".split(),
                strict=True,
            )
        ),
        "ь": "",
        "ъ": "",
        "'": "",
        "’": "",
    }
)


def slugify(text: str) -> str:
    """A URL slug from a title: lower-case ASCII letters and digits joined by hyphens."""
    text = text.lower().translate(_CYRILLIC)
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
