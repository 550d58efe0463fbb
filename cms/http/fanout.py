"""Subscriptions run once per shape, not once per subscriber.

A shape is what decides a subscription's answers: the document, the operation, the
variables and the audience (the subscriber's role: what it may read). Every socket's
subscription of one shape joins one Stream, which holds one broker registration, runs the
operation once per event (its SQL, its execution) and serialises the `next` payload once;
each member then gets those same characters behind its own operation id, queued on its
socket without waiting (cms.http.outgoing). When the last member leaves, the stream stops
and its broker registration goes with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from cms.auth.viewer import Viewer
from cms.http.encoding import json_bytes, json_text
from cms.http.outgoing import Outgoing
from schema import Context, NewsdeskSchema

__all__ = ["Fanout", "Member", "Shape"]

log = logging.getLogger(__name__)
# Members served between two yields to the event loop, so one event for thousands of
# subscribers never holds other requests (/healthz) for long.
BATCH = 200


@dataclass(frozen=True, slots=True)
class Shape:
    """What makes two subscriptions answer alike."""

    query: str
    operation_name: str | None
    variables: bytes  # canonical JSON: sorted keys
    audience: str  # the role, or "anonymous"

    @classmethod
    def of(
        cls,
        *,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        viewer: Viewer,
    ) -> Shape:
        canonical = json_bytes(variables or {}, sort_keys=True)
        audience = str(viewer.role) if viewer.role is not None else "anonymous"
        return cls(query, operation_name, canonical, audience)


class Member:
    """One subscription of one socket: where its messages go and under which id."""

    __slots__ = ("id", "on_end", "outgoing", "prefix", "stream")

    def __init__(self, id: str, outgoing: Outgoing, on_end: Callable[[Member], None]) -> None:
        self.id = id
        self.outgoing = outgoing
        self.on_end = on_end  # the stream ended: the socket forgets the id
        self.prefix = '{"id":' + json_text(id) + ',"type":"next","payload":'
        self.stream: Stream | None = None

    def final(self, message: dict[str, object]) -> None:
        self.on_end(self)
        self.outgoing.send(json_text({"id": self.id, **message}))


class Stream:
    """One running subscription shared by the members of a shape."""

    def __init__(
        self, fanout: Fanout, shape: Shape, variables: dict[str, Any] | None, context: Context
    ) -> None:
        self.fanout = fanout
        self.shape = shape
        self.variables = variables
        self.members: dict[Member, None] = {}  # insertion-ordered set
        self.task = asyncio.create_task(self._run(context), name="newsdesk-subscription")

    def stop(self) -> None:
        self.task.cancel()

    async def _run(self, context: Context) -> None:
        try:
            # `subscribe`, not `stream`: a subscription never yields incremental
            # (@defer/@stream) frames, only results.
            source = await self.fanout.schema.subscribe(
                self.shape.query,
                variable_values=self.variables,
                context_value=context,
                operation_name=self.shape.operation_name,
            )
            first = True
            async with aclosing(source):
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        self._end_with(result.errors or [])
                        return
                    first = False
                    await self._deliver(_payload(result))
            self._end({"type": "complete"})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a subscription stream failed")
            self._end({"type": "complete"})
        finally:
            self.fanout.forget(self)

    async def _deliver(self, payload: str) -> None:
        """The same payload to every member, each under its own id; never waits for one."""
        suffix = payload + "}"
        for index, member in enumerate(tuple(self.members), 1):
            if member.stream is self:
                member.outgoing.send(member.prefix + suffix)
            if index % BATCH == 0:
                await asyncio.sleep(0)
        # The sockets write before the next event: a burst of queued events (which a
        # stream may run through without waiting on anything) never piles up on a socket
        # that reads perfectly well.
        await asyncio.sleep(0)

    def _end_with(self, errors: list[GraphQLError]) -> None:
        self._end({"type": "error", "payload": [error.formatted for error in errors]})

    def _end(self, message: dict[str, object]) -> None:
        self.fanout.forget(self)
        members, self.members = tuple(self.members), {}
        for member in members:
            member.stream = None
            member.final(message)


def _ignore(count: int) -> None:
    pass


class Fanout:
    """This process's running subscription streams, by shape."""

    def __init__(self, schema: NewsdeskSchema, context_for: Callable[[Viewer], Context]) -> None:
        self.schema = schema
        self._context_for = context_for
        self._streams: dict[Shape, Stream] = {}
        # Told the number of open subscriptions when it changes (/metrics, cms.http.app).
        self.on_count: Callable[[int], None] = _ignore

    def join(
        self, member: Member, *, shape: Shape, variables: dict[str, Any] | None, viewer: Viewer
    ) -> None:
        stream = self._streams.get(shape)
        if stream is None:
            # The stream runs as its audience (a role), not as one of its members.
            context = self._context_for(Viewer(role=viewer.role))
            stream = self._streams[shape] = Stream(self, shape, variables, context)
        stream.members[member] = None
        member.stream = stream
        self.on_count(self.subscriptions)

    def leave(self, member: Member) -> None:
        stream, member.stream = member.stream, None
        if stream is None:
            return
        stream.members.pop(member, None)
        if not stream.members:
            self.forget(stream)
            stream.stop()
        self.on_count(self.subscriptions)

    def forget(self, stream: Stream) -> None:
        if self._streams.get(stream.shape) is stream:
            del self._streams[stream.shape]
            self.on_count(self.subscriptions)

    @property
    def streams(self) -> int:
        return len(self._streams)

    @property
    def subscriptions(self) -> int:
        return sum(len(stream.members) for stream in self._streams.values())

    async def close(self) -> None:
        streams, self._streams = list(self._streams.values()), {}
        self.on_count(0)
        for stream in streams:
            stream.stop()
        for stream in streams:
            with contextlib.suppress(asyncio.CancelledError):
                await stream.task


def _payload(result: ExecutionResult) -> str:
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return json_text(payload)
