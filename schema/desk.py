"""The desk's workflow on the Mutation and Query roots: review, corrections, kill notices
and pinned stories. Thin: each mutation calls one cms.content service and answers a
ContentResult; `pinned` lists the pinned stories."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.auth import policy
from cms.cache import tags
from cms.content import corrections, ids, pins, publishing, review
from schema.content import ContentResult, content_result
from schema.context import Info
from schema.permissions import require
from schema.selection import item_include
from schema.types.content import Content, content_from_record

__all__ = ["DeskMutation", "DeskQuery"]


@strawberry.type
class DeskQuery:
    @strawberry.field(
        description=(
            "Public pinned items (of a section, by slug, when given), most recently pinned "
            "first, at most CMS_MAX_PINNED."
        )
    )
    async def pinned(self, info: Info, section: str | None = None) -> list[Content]:
        context = info.context
        records = await pins.pinned(
            now=context.now,
            limit=context.settings.max_pinned,
            section=section,
            include=item_include(info),
        )
        context.cache_tags.add(tags.PINNED, tags.FEED)
        context.cache_tags.shown(records)
        return [content_from_record(record, context.links, context.now) for record in records]


@strawberry.type
class DeskMutation:
    @strawberry.mutation(
        description=(
            "DRAFT -> IN_REVIEW: into the desk's queue (contents(status: [IN_REVIEW])). "
            "Authors submit their own drafts."
        ),
        extensions=require(policy.Action.SUBMIT_FOR_REVIEW),
    )
    async def submit_for_review(
        self, info: Info, id: strawberry.ID, note: str | None = None
    ) -> ContentResult:
        return await content_result(
            info,
            lambda include: review.submit(
                id=ids.expect_content(id),
                viewer=info.context.viewer,
                note_text=note,
                include=include,
            ),  # fmt: skip
        )

    @strawberry.mutation(
        description="IN_REVIEW -> DRAFT: back to the author, the note kept on the revision.",
        extensions=require(policy.Action.REQUEST_CHANGES),
    )
    async def request_changes(self, info: Info, id: strawberry.ID, note: str) -> ContentResult:
        return await content_result(
            info,
            lambda include: review.request_changes(
                id=ids.expect_content(id),
                viewer=info.context.viewer,
                note_text=note,
                include=include,
            ),  # fmt: skip
        )

    @strawberry.mutation(
        description="Append a dated public correction to a published item (never edited).",
        extensions=require(policy.Action.CORRECT),
    )
    async def add_correction(self, info: Info, id: strawberry.ID, text: str) -> ContentResult:
        return await content_result(
            info,
            lambda include: corrections.add(
                id=ids.expect_content(id),
                viewer=info.context.viewer,
                correction=text,
                include=include,
            ),  # fmt: skip
        )

    @strawberry.mutation(
        description=(
            "KILLED: withdrawn for legal or safety reasons, off every public path at once; "
            "webhooks carry the reason to partners. Only an admin may publish it again."
        ),
        extensions=require(policy.Action.KILL),
    )
    async def kill(self, info: Info, id: strawberry.ID, reason: str) -> ContentResult:
        return await content_result(
            info,
            lambda include: publishing.kill(
                id=ids.expect_content(id),
                viewer=info.context.viewer,
                reason=reason,
                include=include,
            ),  # fmt: skip
        )

    @strawberry.mutation(
        description="Pin a published item (in pinned) until `until`, or until unpinned.",
        extensions=require(policy.Action.PIN),
    )
    async def pin(
        self, info: Info, id: strawberry.ID, until: datetime | None = None
    ) -> ContentResult:
        return await content_result(
            info,
            lambda include: pins.pin(
                id=ids.expect_content(id),
                viewer=info.context.viewer,
                until=until,
                include=include,
            ),  # fmt: skip
        )

    @strawberry.mutation(
        description="Take an item's pin off (an item not pinned stays as it is).",
        extensions=require(policy.Action.PIN),
    )
    async def unpin(self, info: Info, id: strawberry.ID) -> ContentResult:
        return await content_result(
            info,
            lambda include: pins.unpin(
                id=ids.expect_content(id), viewer=info.context.viewer, include=include
            ),
        )
