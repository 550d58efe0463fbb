"""Slugs: made from titles, checked, and kept unique."""

from __future__ import annotations

import re
import unicodedata

from cms.errors import Invalid

__all__ = ["MAX_LENGTH", "MAX_TAXONOMY_LENGTH", "check", "is_slug", "slugify"]

MAX_LENGTH = 200
"""The longest slug of a content item or an author (their columns hold 200 characters)."""
MAX_TAXONOMY_LENGTH = 100
"""The longest slug of a section or a tag (their columns hold 100 characters)."""
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


def slugify(text: str, *, maximum: int = MAX_LENGTH) -> str:
    """A URL slug from a title: lower-case ASCII letters and digits joined by hyphens, at
    most `maximum` characters (transliteration can make a slug longer than its title)."""
    text = text.lower().translate(_CYRILLIC)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:maximum].rstrip("-") or "item"


def is_slug(value: str, *, maximum: int = MAX_LENGTH) -> bool:
    """Whether `value` is a well-formed slug of at most `maximum` characters."""
    return len(value) <= maximum and _PATTERN.fullmatch(value) is not None


def check(slug: str, *, field: str = "slug", maximum: int = MAX_LENGTH) -> str:
    """Return `slug` if it is well formed, else raise Invalid naming the rule (the message
    never repeats the slug: it may be megabytes long)."""
    if not is_slug(slug, maximum=maximum):
        raise Invalid(
            f"{field} must be lower-case letters, digits and single hyphens, "
            f"at most {maximum} characters",
            field=field,
        )
    return slug
