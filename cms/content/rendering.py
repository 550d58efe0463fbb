"""Article bodies: Markdown in, sanitized HTML or plain text out; reading time."""

from __future__ import annotations

import html
import math
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

__all__ = ["WORDS_PER_MINUTE", "reading_time_minutes", "to_html", "to_text"]

WORDS_PER_MINUTE = 200

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul", "img", "figure", "figcaption",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
_BLOCK_END = re.compile(r"</(p|h[1-6]|blockquote|pre|figure|ul|ol|table)>|<hr\s*/?>")
_BLANK_LINES = re.compile(r"\n{3,}")


@lru_cache(maxsize=512)
def to_html(markdown: str) -> str:
    """Markdown to HTML that is safe to put on a page (no scripts, styles or handlers)."""
    rendered = _markdown.render(markdown)
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


@lru_cache(maxsize=512)
def to_text(markdown: str) -> str:
    """Markdown to plain text: paragraphs separated by a blank line, no markup."""
    marked = _BLOCK_END.sub(lambda match: match.group(0) + "\n\n", to_html(markdown))
    text = html.unescape(nh3.clean(marked, tags=set()))
    lines = "\n".join(line.strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", lines).strip()


def reading_time_minutes(markdown: str | None) -> int:
    """Whole minutes at WORDS_PER_MINUTE, at least 1."""
    words = len(to_text(markdown).split()) if markdown else 0
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
