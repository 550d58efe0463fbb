"""The request body's size limit (`CMS_MAX_BODY_BYTES`): 413 before the body is read whole.

A request whose Content-Length is over the limit is refused before any of its body is read;
one within it passes untouched (the HTTP server delivers no more than the length says).
A chunked body is counted as it arrives: the moment it passes the limit,
the application sees the client go away, whatever it answers is dropped, and the client
gets the 413. The connection stays open: the server reads the rest of the body and drops
it, so a client that sends its whole request before reading the answer still reads the
413. Uploads are apart: a multipart request may carry a file as large as uploads allow
(`cms.media.service.MAX_BYTES`) on top of the limit.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.http.negotiation import body_media_type, header
from cms.media.service import MAX_BYTES as MAX_UPLOAD_BYTES

__all__ = ["BodyLimitMiddleware"]

_MULTIPART = b"multipart/form-data"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = header(scope, b"transfer-encoding") is not None
        length = _content_length(scope)
        if not chunked and not length:  # no body: nothing to count
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        if chunked:
            await self._counted(scope, receive, send, limit)
        elif length is not None and length > limit:
            await _refuse(scope, receive, send, limit)
        else:
            await self.app(scope, receive, send)

    def _limit(self, scope: Scope) -> int:
        if body_media_type(scope) == _MULTIPART:
            return self.max_body_bytes + MAX_UPLOAD_BYTES
        return self.max_body_bytes

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A chunked body, counted as the application reads it."""
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
            await _refuse(scope, receive, send, limit)


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    return int(value) if value is not None and value.isdigit() else None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    message = f"The request body is larger than the limit of {limit} bytes (CMS_MAX_BODY_BYTES)."
    error = {"message": message, "extensions": {"code": "PAYLOAD_TOO_LARGE"}}
    await JSONResponse({"errors": [error]}, status_code=413)(scope, receive, send)
