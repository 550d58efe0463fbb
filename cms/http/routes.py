"""Plain HTTP routes beside GraphQL: health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from cms import db

__all__ = ["healthz"]


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        await db.ping()
    except db.DatabaseUnavailable:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok"})
