"""The newsroom's rules: the only code that reads and writes content rows."""

from cms.content import feed, lookups, records, rendering, slugs, visibility

__all__ = ["feed", "lookups", "records", "rendering", "slugs", "visibility"]
