"""The request body's size limit (`CMS_MAX_BODY_BYTES`): 413 before the body is read whole.

A request whose Content-Length is over the limit is refused before any of its body is read.
One without a length (chunked) is counted as it arrives: the moment it passes the limit,
the application sees the client go away, whatever it answers is dropped, and the client
gets the 413. The connection stays open: the server reads the rest of the body and drops
it, so a client that sends its whole request before reading the answer still reads the
413. Uploads are apart: a multipart request may carry a file as large as uploads allow
(`cms.media.service.MAX_BYTES`) on top of the limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.media.service import MAX_BYTES as MAX_UPLOAD_BYTES

__all__ = ["BodyLimitMiddleware"]

_MULTIPART = b"multipart/form-data"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _limit(self, scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-type" and value.split(b";")[0].strip().lower() == _MULTIPART:
                return self.max_body_bytes + MAX_UPLOAD_BYTES
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        length = _content_length(scope)
        if length is not None and length > limit:
            await _refuse(send, limit)
            return

        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def unless_over(message: Message) -> None:
            nonlocal started
            if over:
                return  # the application's answer to a body it never got whole
            started = True
            await send(message)

        try:
            await self.app(scope, counted, unless_over)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = (
        b'{"errors":[{"message":"The request body is larger than the limit of '
        + str(limit).encode()
        + b' bytes (CMS_MAX_BODY_BYTES).","extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
