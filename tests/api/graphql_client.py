"""POST a GraphQL document to the app under test and return the decoded response."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from cms.config import Settings

__all__ = ["app_client", "error_codes", "gql", "post_graphql"]


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST `query` to /graphql (as `token`'s holder, or anonymously); (status, JSON body)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await client.post("/graphql", json=payload, headers=headers)
    return response.status_code, response.json()


async def post_graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /graphql; fails the test unless the server answered 200."""
    status, body = await gql(client, query, variables, token)
    assert status == 200, body
    return body


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app built with `settings`, over the database the test holds open."""
    from cms.http.app import create_app

    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
