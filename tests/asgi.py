"""Driving an ASGI app by hand, for what an HTTP client cannot do: a client that goes away
in the middle of its body."""

from __future__ import annotations

from typing import Any

__all__ = ["post_scope", "vanishing_client"]


def post_scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    """A JSON POST to /graphql from 127.0.0.1, with `headers` added."""
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 40000),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
    }


def vanishing_client(chunks: list[bytes]) -> tuple[Any, Any, list[dict[str, Any]]]:
    """A receive that gives `chunks` (more to come) and then says the client went away,
    a send, and what was sent."""
    pending = iter(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        chunk = next(pending, None)
        if chunk is None:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return receive, send, sent
