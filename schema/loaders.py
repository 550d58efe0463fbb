"""Per-request DataLoaders, for the paths that loading up front does not reach. Each
wraps one batch reader of cms.content.lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from strawberry.dataloader import DataLoader

from cms.auth.viewer import Viewer
from cms.content import lookups, ninjs, translations
from cms.content.records import ContentRecord, CorrectionRecord
from cms.content.revisions import RevisionRecord

__all__ = ["Loaders"]


async def _revisions_by_content_id(content_ids: Sequence[int]) -> list[list[RevisionRecord]]:
    grouped = await lookups.revisions_for(content_ids)
    return [grouped.get(content_id, []) for content_id in content_ids]


async def _corrections_by_content_id(
    content_ids: Sequence[int],
) -> list[list[CorrectionRecord]]:
    grouped = await lookups.corrections_for(content_ids)
    return [grouped.get(content_id, []) for content_id in content_ids]


async def _ninjs_sources(content_ids: Sequence[int]) -> list[ninjs.Source | None]:
    found = await ninjs.sources(list(content_ids))
    return [found.get(content_id) for content_id in content_ids]


@dataclass
class Loaders:
    revisions_by_content_id: DataLoader[int, list[RevisionRecord]] = field(
        default_factory=lambda: DataLoader(load_fn=_revisions_by_content_id)
    )
    corrections_by_content_id: DataLoader[int, list[CorrectionRecord]] = field(
        default_factory=lambda: DataLoader(load_fn=_corrections_by_content_id)
    )
    ninjs_sources: DataLoader[int, ninjs.Source | None] = field(
        default_factory=lambda: DataLoader(load_fn=_ninjs_sources)
    )
    _translations: DataLoader[tuple[int, int], list[ContentRecord]] | None = None

    def translations(
        self, viewer: Viewer, now: datetime
    ) -> DataLoader[tuple[int, int], list[ContentRecord]]:
        """Translations by (item id, story id), as `viewer` may read them at `now` (one
        reader per request: its viewer and clock are the request's)."""
        if self._translations is None:

            async def load(keys: Sequence[tuple[int, int]]) -> list[list[ContentRecord]]:
                return await translations.of(keys, viewer=viewer, now=now)

            self._translations = DataLoader(load_fn=load)
        return self._translations
