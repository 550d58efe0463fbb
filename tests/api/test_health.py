"""/healthz, and /graphql over GET: GraphiQL for a browser, queries only."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator

import httpx
import pytest
from tortoise import Tortoise

from cms import db as database
from cms.config import Settings
from cms.http.app import create_app
from tests import factories
from tests.api.graphql_client import app_client

UNREACHABLE_POSTGRES = "postgres://postgres@127.0.0.1:1/x"

SECTIONS = "{sections{slug}}"
CREATE_SECTION = 'mutation { createSection(input: {name: "Sport"}) { __typename } }'


async def test_healthz_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
async def unreachable_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app configured for a PostgreSQL server that is not there.

    Tortoise connects lazily, so the app starts (as it would while the database restarts)
    and every request that needs the database finds it unreachable.
    """
    settings = Settings(database_url=UNREACHABLE_POSTGRES, env="test", redis_url=None)
    await Tortoise.init(config=database.tortoise_config(settings))
    try:
        app = create_app(settings, manage_database=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c
    finally:
        await Tortoise.close_connections()


async def test_healthz_is_503_when_the_database_cannot_be_reached(
    unreachable_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] != "ok"
    assert "127.0.0.1:1" not in response.text, "health must not leak connection details"


# --- GraphQL over GET --------------------------------------------------------------------


async def test_a_browser_gets_graphiql(client: httpx.AsyncClient) -> None:
    if importlib.util.find_spec("cms.http.graphiql") is None:
        pytest.skip("cms/http/graphiql.py does not exist yet")

    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()
    assert "<html" in response.text.lower()


async def test_a_query_over_get(client: httpx.AsyncClient) -> None:
    await factories.make_section(slug="war")

    response = await client.get("/graphql", params={"query": SECTIONS})

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    assert body["data"] == {"sections": [{"slug": "war"}]}


async def test_a_mutation_over_get_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": CREATE_SECTION})

    assert response.status_code in (400, 405), response.text
    assert "GET" in response.text
    # nothing happened
    after = await client.get("/graphql", params={"query": SECTIONS})
    assert after.json() == {"data": {"sections": []}, "extensions": {"cost": 100}}


@pytest.mark.parametrize(("graphiql", "served"), [(None, False), (True, True), (False, False)])
async def test_graphiql_is_off_in_production_unless_asked_for(
    settings: Settings, db: None, graphiql: bool | None, served: bool
) -> None:
    production = settings.model_copy(update={"env": "production", "graphiql": graphiql})

    async with app_client(production) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        query = await client.get("/graphql", params={"query": SECTIONS})

    assert ("graphiql" in page.text.lower()) is served
    assert (page.status_code == 200) is served
    assert query.json() == {"data": {"sections": []}, "extensions": {"cost": 100}}
