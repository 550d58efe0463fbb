"""The GraphQL schema (Strawberry). Imports cms services; never builds querysets."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from cms.config import Settings
from schema.context import Context, Info
from schema.errors import is_expected
from schema.limits import extensions
from schema.media_uploads import MediaMutation
from schema.mutations import Mutation
from schema.queries import Query
from schema.subscriptions import Subscription
from schema.types.content import Article, VideoEpisode
from schema.types.media import Media
from schema.types.people import Author
from schema.types.taxonomy import Section, Tag
from schema.webhooks import WebhookMutation, WebhookQuery

__all__ = ["Context", "Info", "NewsdeskSchema", "build_schema"]


class NewsdeskSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # A bad cursor or a missing token is the caller's mistake: answer it, don't log it.
        unexpected = [error for error in errors if not is_expected(error)]
        super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings) -> NewsdeskSchema:
    return NewsdeskSchema(
        query=merge_types("Query", (Query, WebhookQuery)),
        mutation=merge_types("Mutation", (Mutation, MediaMutation, WebhookMutation)),
        subscription=Subscription,
        types=[Article, VideoEpisode, Author, Section, Tag, Media],
        extensions=extensions(settings),
    )
