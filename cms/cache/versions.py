"""Tag versions: a counter per cache tag, moved on by every change that invalidates it.

A cached response remembers the version of each of its tags when it was filled; it is
served only while none has moved. One more counter, the clock, moves with every bump, so
a response whose tags moved while it was being answered is not stored with the new ones.

Every cached response also depends on `EVERYTHING`, a tag no change names: it moves when
Redis comes back after an outage (`cms.cache.fallback`), since the changes made meanwhile
moved only the workers' own counters, and whatever Redis held from before may be stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cms.cache.stores import Store

__all__ = ["EVERYTHING", "TagVersions"]

_CLOCK = "tags:clock"
_PREFIX = "tag:"
EVERYTHING = "*"


class TagVersions:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def keys(tags: Iterable[str]) -> list[str]:
        """The store's counters a bump of `tags` moves: theirs and the clock."""
        return [*sorted({_PREFIX + tag for tag in tags}), _CLOCK]

    async def bump(self, tags: Iterable[str]) -> None:
        """Invalidate every cached response depending on any of `tags`."""
        keys = self.keys(tags)
        if len(keys) > 1:
            await self.store.incr_many(keys)

    async def clock(self) -> int:
        return await self.store.read_int(_CLOCK)

    async def read(self, tags: Sequence[str]) -> tuple[int, list[int]]:
        """The clock and the versions of `tags`, in one round trip."""
        values = await self.store.read_ints([_CLOCK, *(_PREFIX + tag for tag in tags)])
        return values[0], values[1:]
