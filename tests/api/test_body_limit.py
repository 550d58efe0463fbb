"""CMS_MAX_BODY_BYTES: a request body over the limit is a 413 (PAYLOAD_TOO_LARGE) and
nothing in it runs, whether its length is announced or it arrives chunked; a multipart
upload may carry a file on top of the limit."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image
from starlette.requests import ClientDisconnect

from cms.config import Settings
from cms.http.app import create_app
from cms.http.limits import BodyLimitMiddleware
from cms.models import Section
from tests.api.graphql_client import app_client
from tests.asgi import post_scope, vanishing_client

LIMIT = 2_000
CREATE = "mutation($name: String!) { createSection(input: {name: $name}) { __typename } }"


def _body(size: int) -> bytes:
    """A createSection mutation whose JSON body is exactly `size` bytes (a comment pads it)."""
    variables = {"name": "Sport"}
    empty = orjson.dumps({"query": CREATE + "\n#", "variables": variables})
    padded = CREATE + "\n#" + "x" * (size - len(empty))
    body = orjson.dumps({"query": padded, "variables": variables})
    assert len(body) == size
    return body


@pytest.fixture
async def limited(settings: Settings, db: None) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings.model_copy(update={"max_body_bytes": LIMIT})) as client:
        yield client


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert f"limit of {LIMIT} bytes (CMS_MAX_BODY_BYTES)" in error["message"]


async def test_an_announced_body_over_the_limit_is_refused_and_not_run(
    limited: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    response = await limited.post(
        "/graphql",
        content=_body(LIMIT + 1),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {tokens_by_role['editor']}",
        },
    )

    _refused(response)
    assert await Section.all().count() == 0


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    limited: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    body = _body(LIMIT * 3)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 500):
            sent.append(start)
            yield body[start : start + 500]

    response = await limited.post(
        "/graphql",
        content=chunks(),  # no Content-Length: chunked
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {tokens_by_role['editor']}",
        },
    )

    _refused(response)
    assert await Section.all().count() == 0
    assert len(sent) < len(body) // 500, "the rest of the body was never asked for"


async def test_a_body_at_the_limit_is_served(
    limited: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    response = await limited.post(
        "/graphql",
        content=_body(LIMIT),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {tokens_by_role['editor']}",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["createSection"]["__typename"] == "Section"


async def test_the_default_limit_is_one_megabyte(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=_body(1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert "limit of 1048576 bytes" in response.json()["errors"][0]["message"]


async def test_an_upload_may_carry_a_file_larger_than_the_limit(
    limited: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 64).convert("RGB").save(buffer, "PNG")  # incompressible
    image = buffer.getvalue()
    assert len(image) > LIMIT * 10
    operations = {
        "query": "mutation($file: Upload!) { uploadMedia(file: $file) { __typename } }",
        "variables": {"file": None},
    }

    response = await limited.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("noise.png", image, "image/png")},
        headers={
            "authorization": f"Bearer {tokens_by_role['author']}",
            "apollo-require-preflight": "true",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["uploadMedia"]["__typename"] == "Media"


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 500):
        yield body[start : start + 500]


async def test_a_chunked_body_within_the_limit_is_served(
    limited: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    response = await limited.post(
        "/graphql",
        content=_chunked(_body(LIMIT)),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {tokens_by_role['editor']}",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["createSection"]["__typename"] == "Section"
    assert await Section.all().count() == 1


def _chunked_scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return post_scope((b"transfer-encoding", b"chunked"), *headers)


async def test_what_an_application_answers_to_a_body_past_the_limit_is_dropped_for_the_413() -> (
    None
):
    """The application sees the client go away, however often it asks; its answer never
    goes out, the 413 does."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (message := await receive())["type"] == "http.request":
            seen.append(message["type"])
        seen.extend([message["type"], (await receive())["type"]])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    receive, send, sent = vanishing_client([b"x" * 60, b"x" * 60])
    await BodyLimitMiddleware(app, max_body_bytes=100)(_chunked_scope(), receive, send)

    assert seen == ["http.request", "http.disconnect", "http.disconnect"]
    assert [message.get("status") for message in sent] == [413, None]
    assert b"PAYLOAD_TOO_LARGE" in sent[1]["body"]


async def test_a_chunked_request_whose_client_goes_away_runs_nothing_and_is_not_a_413(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": LIMIT}), manage_database=False)
    editor = (b"authorization", f"Bearer {tokens_by_role['editor']}".encode())
    receive, send, sent = vanishing_client([_body(LIMIT)[:500]])
    async with app.router.lifespan_context(app):
        with contextlib.suppress(ClientDisconnect):  # the view's word for it
            await app(_chunked_scope(editor), receive, send)

    assert await Section.all().count() == 0
    assert 413 not in [message.get("status") for message in sent]
