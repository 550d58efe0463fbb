"""Preview links on the Query and Mutation roots: `createPreviewLink` makes a signed,
short-lived link to one item; `preview(token)` shows that item, in whatever state, to
whoever holds the token. Thin: each calls one cms.content.previews service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from cms.auth import policy
from cms.content import ids, previews
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.selection import item_include
from schema.types.content import Content, content_from_record
from schema.types.errors import NotFoundError, ValidationError

__all__ = ["PreviewLink", "PreviewLinkResult", "PreviewMutation", "PreviewQuery"]


@strawberry.type(
    description=(
        "A link that shows one item, in whatever state, to whoever holds it until it "
        "expires. Its token gives no other right."
    )
)
class PreviewLink:
    token: str = strawberry.field(description="Pass it to preview(token:).")
    url: str = strawberry.field(
        description="The website's preview page for the token (CMS_PREVIEW_URL)."
    )
    expires_at: datetime = strawberry.field(description="From then on the token shows nothing.")


PreviewLinkResult = Annotated[
    PreviewLink | ValidationError | NotFoundError, strawberry.union("PreviewLinkResult")
]


@strawberry.type
class PreviewQuery:
    @strawberry.field(
        description=(
            "The item a preview link's token opens, in whatever state, for anyone holding "
            "the token; null for a token that is not valid or has expired, and once the "
            "item is deleted. Never cached."
        )
    )
    async def preview(self, info: Info, token: str) -> Content | None:
        context = info.context
        context.cache_tags.refuse()  # a cached answer would outlive the token
        record = await previews.read(token, now=context.now, include=item_include(info))
        if record is None:
            return None
        return content_from_record(record, context.links, context.now)


@strawberry.type
class PreviewMutation:
    @strawberry.mutation(
        description=(
            "A signed link to preview one item without an API token, valid for ttlSeconds "
            "(60 to 604800, 7 days). Authors make links to their own items only."
        ),
        extensions=require(policy.Action.CREATE_PREVIEW_LINK),
    )
    async def create_preview_link(
        self,
        info: Info,
        id: strawberry.ID,
        ttl_seconds: int | None = previews.DEFAULT_TTL_SECONDS,
    ) -> PreviewLinkResult:
        context = info.context

        async def work() -> PreviewLink:
            link = await previews.create_link(
                id=ids.expect_content(id),
                ttl_seconds=previews.DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds,
                viewer=context.viewer,
                now=context.now,
                pattern=previews.url_pattern(context.settings),
            )
            return PreviewLink(token=link.token, url=link.url, expires_at=link.expires_at)

        return await as_result(work(), ValidationError, NotFoundError)
