"""What a user runs: `cms serve` under uvicorn (two worker processes), over real HTTP.

In-process ASGI tests share one task tree with the lifespan; a real server does not, so
this is where start-up, worker and database wiring problems show.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.live import LiveServer, run_live_server

FEED = "{ feed(first: 3) { edges { node { __typename title } } pageInfo { hasNextPage } } }"
CREATE = """
mutation { createArticle(input: {title: "Live wire"}) { __typename ... on Article { status } } }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # No CMS_PUBLIC_URL, as after `make serve PORT=P`: the server derives it from its port.
    workdir = tmp_path_factory.mktemp("live")
    with run_live_server(workdir, workers=2, set_public_url=False) as live:
        yield live


def _post(server: LiveServer, query: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{server.url}/graphql", json={"query": query}, headers=headers, timeout=10, trust_env=False
    )


def _post_body(server: LiveServer, content: Any, headers: dict[str, str]) -> httpx.Response:
    """POST raw `content` (bytes, or an iterator of chunks: sent chunked) to /graphql."""
    return httpx.post(
        f"{server.url}/graphql", content=content, headers=headers, timeout=10, trust_env=False
    )


def test_health_and_the_demo_feed(server: LiveServer) -> None:
    health = httpx.get(f"{server.url}/healthz", timeout=5, trust_env=False)
    body = _post(server, FEED).json()

    assert health.json() == {"status": "ok"}
    assert "errors" not in body
    assert len(body["data"]["feed"]["edges"]) == 3
    assert body["data"]["feed"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413_from_the_real_server(
    server: LiveServer, chunked: bool
) -> None:
    """CMS_MAX_BODY_BYTES (1 MB by default) over real HTTP, the length announced or not."""
    body = b'{"query": "' + b" " * (2 * 1024 * 1024) + b'{ sections { slug } }"}'
    content = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    response = _post_body(
        server,
        content,
        {"content-type": "application/json", "authorization": f"Bearer {server.token}"},
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert _post(server, FEED).status_code == 200  # and the server answers on


@pytest.mark.parametrize(
    "content",
    [b'{"query": "{ sections { slug } }", "variables": ' + b'{"a":' * 3000 + b"1" + b"}" * 3001,
     b'{"query": "\xff{ sections { slug } }"}', b"null"],
    ids=["nested-3000-deep", "not-utf8", "null"],
)  # fmt: skip
def test_a_body_that_is_no_request_is_a_400_from_the_real_server(
    server: LiveServer, content: bytes
) -> None:
    response = _post_body(server, content, {"content-type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_every_worker_answers_reads_and_writes(server: LiveServer) -> None:
    # Several requests so that both worker processes serve some of them.
    results = [_post(server, CREATE, server.token).json() for _ in range(6)]

    log = server.log.read_text()[-3000:]
    assert all("errors" not in result for result in results), (results, log)
    assert {r["data"]["createArticle"]["status"] for r in results} == {"DRAFT"}


def test_graphiql_and_media(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}, timeout=5)
    avatar = httpx.get(f"{server.url}/media/demo/news-desk.svg", timeout=5)

    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/svg+xml"


def test_a_wrong_token_is_refused_not_downgraded(server: LiveServer) -> None:
    response = _post(server, FEED, token="ndk_not-a-real-token")

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


AVATARS = '{ author(slug: "news-desk") { avatar { url } } }'


def test_links_to_this_server_name_the_port_it_serves(server: LiveServer) -> None:
    """`make serve PORT=P` without CMS_PUBLIC_URL: media and feed links point at port P
    (in every worker process), not at the default 8000."""
    feed = httpx.get(f"{server.url}/feed.json", timeout=5, trust_env=False).json()
    avatars = [_post(server, AVATARS).json() for _ in range(4)]  # both workers answer

    assert ":8000" not in server.url
    assert feed["feed_url"] == f"{server.url}/feed.json"
    for body in avatars:
        assert "errors" not in body
        assert body["data"]["author"]["avatar"]["url"] == f"{server.url}/media/demo/news-desk.svg"


def test_the_access_log_follows_its_setting(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On by default in development (the module's server), off with CMS_ACCESS_LOG=false."""
    _post(server, FEED)
    workdir = tmp_path_factory.mktemp("quiet")
    with run_live_server(workdir, extra_env={"CMS_ACCESS_LOG": "false"}) as quiet:
        _post(quiet, FEED)
        _post(quiet, FEED)
        quiet_log = quiet.log.read_text()

    assert "cms.access: POST /graphql 200 " in server.log.read_text()
    assert "POST /graphql" not in quiet_log
    assert "Newsdesk serving" in quiet_log
