"""Key-value stores shared by the response cache and persisted queries; cache tags, their
versions, and what moves them."""

from cms.cache import changes, stores, tags, versions

__all__ = ["changes", "stores", "tags", "versions"]
