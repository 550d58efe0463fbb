"""/readyz (should a load balancer send this worker traffic?) beside /healthz (is the
worker alive?): the database, Redis when configured, and a worker that is leaving."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from tortoise import Tortoise

from cms import db as database
from cms.config import Settings
from cms.http.app import create_app

UNREACHABLE_POSTGRES = "postgres://postgres@127.0.0.1:1/x"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
async def served(
    settings: Settings, db: None
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app (its shutdown at hand) and a client, over the test's database."""
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c


@contextlib.asynccontextmanager
async def _client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "up"}


async def test_not_ready_while_shutting_down_yet_alive(
    served: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = served
    assert (await client.get("/readyz")).status_code == 200

    app.state.shutdown.begin()  # what SIGTERM does first
    ready = await client.get("/readyz")
    health = await client.get("/healthz")

    assert (ready.status_code, ready.json()) == (503, {"status": "shutting down"})
    assert health.status_code == 200  # liveness: nobody should restart a worker that leaves


async def test_ready_with_redis_when_redis_answers(
    settings: Settings, db: None, redis_url: str
) -> None:
    async with _client_for(settings.model_copy(update={"redis_url": redis_url})) as client:
        response = await client.get("/readyz")

        assert response.status_code == 200
        assert response.json() == {"status": "ready", "database": "up", "redis": "up"}


async def test_not_ready_while_redis_is_down_yet_alive(settings: Settings, db: None) -> None:
    down = settings.model_copy(
        update={"redis_url": UNREACHABLE_REDIS, "redis_timeout_seconds": 0.2}
    )
    async with _client_for(down) as client:
        ready = await client.get("/readyz")
        health = await client.get("/healthz")

        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "up", "redis": "down"}
        assert (health.status_code, health.json()["status"]) == (200, "ok")


async def test_not_ready_while_the_database_is_down() -> None:
    settings = Settings(database_url=UNREACHABLE_POSTGRES, env="test", redis_url=None)
    await Tortoise.init(config=database.tortoise_config(settings))
    try:
        async with _client_for(settings) as client:
            ready = await client.get("/readyz")

            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "database": "down"}
            assert "127.0.0.1:1" not in ready.text, "readiness must not leak connection details"
    finally:
        await Tortoise.close_connections()
