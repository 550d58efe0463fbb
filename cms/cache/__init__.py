"""Key-value stores shared by the response cache and persisted queries."""

from cms.cache import stores

__all__ = ["stores"]
