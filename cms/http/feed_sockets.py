"""graphql-transport-ws with Newsdesk's limits: Strawberry's handler, except that

- a socket holds at most CMS_MAX_SUBSCRIPTIONS_PER_CONNECTION operations; past it a
  `subscribe` gets an `error` message naming the limit and the socket stays open;
- a subscription joins its shape's stream (cms.http.fanout) instead of running on its
  own, so an event costs one execution per shape, whatever the number of subscribers;
- a socket whose reader falls behind is dropped (cms.http.outgoing), and everything it
  held (its streams' memberships, its operations) is let go at once, as on any close.

Queries and mutations sent over the socket run as Strawberry runs them; a mutation's
answer goes out once the response cache has seen its write (as after a POST).
"""

from __future__ import annotations

from typing import Any, cast

from graphql import GraphQLError, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.graphql import OperationType

from cms.http import access, negotiation
from cms.http.fanout import Fanout, Member, Shape
from cms.http.negotiation import selected_operation
from cms.http.outgoing import Outgoing
from schema import Context

__all__ = ["FeedSocketHandler"]

LIMIT_CODE = "TOO_MANY_SUBSCRIPTIONS"


class FeedSocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feeds: dict[str, Member] = {}
        self.outgoing = cast("Outgoing", getattr(self.websocket, "outgoing"))  # noqa: B009
        self.outgoing.on_drop = self._dropped
        self.fanout = cast("Fanout", getattr(self.view, "fanout"))  # noqa: B009
        self.limit = self.context.settings.max_subscriptions_per_connection
        # Mutations sent over this socket whose answer has not gone out yet.
        self.writes: set[str] = set()

    async def send_message(self, message: Any) -> None:
        """A mutation's answer goes out once the response cache has seen its write, as a
        POST's does (cms.http.cache): a killed story is never served after the answer."""
        id = message.get("id") if isinstance(message, dict) else None
        if id in self.writes and message.get("type") in ("next", "error", "complete"):
            self.writes.discard(id)
            after_write = getattr(self.view, "after_write", None)
            if after_write is not None:
                await after_write(set(self.context.cache_tags.changed))
        await super().send_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.outgoing.open:
            return  # dropped or closing: nothing more is taken on
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # 4401
            return
        raw: object = message
        payload = message.get("payload")
        id = message.get("id")
        if not isinstance(id, str) or not isinstance(payload, dict):
            await self.handle_invalid_message(f"Invalid subscribe message: {raw!r:.80}")
            return
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
        ):
            await self.handle_invalid_message(
                "Invalid subscribe message: the payload needs a string `query`, an object "
                "`variables` and a string `operationName` (or none)"
            )
            return
        operation_name = operation_name or None  # "" names no operation
        if id in self.operations or id in self.feeds:
            await self.websocket.close(code=4409, reason=f"Subscriber for {id} already exists")
            return
        if len(self.operations) + len(self.feeds) >= self.limit:
            await self._refuse(id)
            return
        operation = selected_operation(
            query, operation_name, max_tokens=self.context.settings.max_tokens
        )
        if operation is None:
            # The document does not parse: close with graphql-core's reason, as Strawberry
            # means to (its parser cache raises instead, and the client heard a bare
            # `complete`, no error).
            reason = _syntax_error(query, self.context.settings.max_tokens)
            await self.handle_invalid_message(reason)
            return
        if self.context.settings.access_log_enabled:  # CMS_ACCESS_LOG
            access.socket_operation(
                path=self.context.request.url.path if self.context.request else "/graphql",
                name=negotiation.operation_name(query, operation_name),
                operation_type=operation.value
                if isinstance(operation, OperationType)
                else "unknown",
                viewer=self.context.viewer,
            )
        if operation is not OperationType.SUBSCRIPTION:
            # A query, a mutation, or a document Strawberry answers with its own error.
            if operation is OperationType.MUTATION:
                self.writes.add(id)
            if payload.get("operationName") == "":
                message = cast(
                    "SubscribeMessage", {**message, "payload": {**payload, "operationName": None}}
                )
            await super().handle_subscribe(message)
            return
        member = Member(id, self.outgoing, self._ended)
        self.feeds[id] = member
        shape = Shape.of(
            query=query,
            operation_name=operation_name,
            variables=variables,
            viewer=self.context.viewer,
        )
        self.fanout.join(member, shape=shape, variables=variables, viewer=self.context.viewer)

    async def _refuse(self, id: str) -> None:
        error = GraphQLError(
            f"Too many subscriptions on this connection: at most {self.limit} at once "
            "(CMS_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first.",
            extensions={"code": LIMIT_CODE, "limit": self.limit},
        )
        await self.send_message({"id": id, "type": "error", "payload": [error.formatted]})

    def _ended(self, member: Member) -> None:
        """A stream ended by itself (an error, or complete): the id is free again."""
        if self.feeds.get(member.id) is member:
            del self.feeds[member.id]

    def _leave_all(self) -> None:
        feeds, self.feeds = list(self.feeds.values()), {}
        for member in feeds:
            self.fanout.leave(member)

    def _dropped(self) -> None:
        """The reader fell behind: let go of everything now, before the close is through."""
        self._leave_all()
        for operation in list(self.operations.values()):
            if operation.task is not None:
                operation.task.cancel()
        self.operations.clear()

    async def cleanup_operation(self, operation_id: str) -> None:
        member = self.feeds.pop(operation_id, None)
        if member is not None:
            self.fanout.leave(member)
            return
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        self._leave_all()
        try:
            await super().shutdown()
        finally:
            await self.outgoing.stop()
            self.outgoing.on_drop = None  # no cycle left for the garbage collector


def _syntax_error(query: str, max_tokens: int | None) -> str:
    """Why a document does not parse, within a close reason's 123 bytes."""
    reason = "Syntax Error"
    try:
        parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError as error:
        reason = error.message
    return reason.encode()[:123].decode(errors="ignore")
