"""The GraphQL schema (Strawberry). Imports cms services; never builds querysets.

One module per domain (content, people, taxonomy, media, webhooks) holds that domain's
part of the Query and Mutation roots; `build_schema` merges them, in the order the
contract lists the fields.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from cms.config import Settings
from schema.content import ContentMutation, ContentQuery
from schema.context import Context, Info
from schema.cost import Costs
from schema.desk import DeskMutation, DeskQuery
from schema.errors import is_expected
from schema.extensions import extensions
from schema.media import MediaMutation
from schema.node import NodeQuery
from schema.people import PeopleMutation, PeopleQuery
from schema.plans.extension import PlanCache
from schema.previews import PreviewMutation, PreviewQuery
from schema.subscriptions import Subscription
from schema.taxonomy import TaxonomyMutation, TaxonomyQuery
from schema.types.content import Article, VideoEpisode
from schema.types.media import Media
from schema.types.people import Author
from schema.types.taxonomy import Section, Tag
from schema.viewer import ViewerQuery
from schema.webhooks import WebhookMutation, WebhookQuery

__all__ = ["Context", "Info", "NewsdeskSchema", "build_schema"]

Query = merge_types(
    "Query",
    (
        ContentQuery,
        DeskQuery,
        PreviewQuery,
        PeopleQuery,
        TaxonomyQuery,
        NodeQuery,
        ViewerQuery,
        WebhookQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        ContentMutation,
        DeskMutation,
        PreviewMutation,
        PeopleMutation,
        TaxonomyMutation,
        MediaMutation,
        WebhookMutation,
    ),  # fmt: skip
)


class NewsdeskSchema(strawberry.Schema):
    plans: PlanCache | None = None
    """The compiled plans (None with CMS_COMPILED_READS=false): their counts go to /metrics."""
    costs: Costs
    """The estimates of what operations may return (CMS_MAX_NODES)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # A bad cursor or a missing token is the caller's mistake: answer it, don't log it.
        unexpected = [error for error in errors if not is_expected(error)]
        super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings) -> NewsdeskSchema:
    plans = PlanCache() if settings.compiled_reads else None
    costs = Costs(settings)
    schema = NewsdeskSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Article, VideoEpisode, Author, Section, Tag, Media],
        extensions=extensions(settings, plans=plans, costs=costs),
    )
    costs.bind(schema)
    schema.costs = costs
    if plans is not None:
        plans.bind(schema)
        schema.plans = plans
    return schema
