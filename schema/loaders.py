"""Per-request DataLoaders, for the paths that loading up front does not reach."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from cms.content import revisions
from cms.models import Revision

__all__ = ["Loaders"]


async def _revisions_by_content_id(content_ids: Sequence[int]) -> list[list[Revision]]:
    grouped = await revisions.for_content(list(content_ids))
    return [grouped.get(content_id, []) for content_id in content_ids]


@dataclass
class Loaders:
    revisions_by_content_id: DataLoader[int, list[Revision]] = field(
        default_factory=lambda: DataLoader(load_fn=_revisions_by_content_id)
    )
