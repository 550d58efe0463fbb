"""Rate limits (CMS_RATE_LIMIT per client address, CMS_TOKEN_RATE_LIMIT per token): past
the limit a 429 RATE_LIMITED with Retry-After and the RateLimit headers; a bucket per
address and per token; X-Forwarded-For believed only from CMS_TRUSTED_PROXIES; buckets
refill with the clock; shared through Redis; open when Redis is down; off when off."""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from cms import clock
from cms.config import Settings
from cms.http.app import create_app
from tests.realtime import serve

FEED = "{ feed(first: 1) { edges { node { title } } } }"
ME = "{ me { name } }"
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

Clients = Callable[..., httpx.AsyncClient]


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def clients_of(*apps: Starlette) -> AsyncIterator[Clients]:
    """`client(address="…", app=0)`: an HTTP client that connects from `address`."""
    async with contextlib.AsyncExitStack() as stack:

        def client(address: str = "127.0.0.1", app: int = 0) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=apps[app], client=(address, 40000))
            http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            stack.push_async_callback(http.aclose)
            return http

        yield client


@contextlib.asynccontextmanager
async def limited(settings: Settings, **limits: Any) -> AsyncIterator[Clients]:
    update = {"rate_limit": "3/60", "token_rate_limit": "2/60", **limits}
    async with running(settings.model_copy(update=update)) as app, clients_of(app) as client:
        yield client


async def feed(
    http: httpx.AsyncClient, *, token: str | None = None, **headers: str
) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await http.post("/graphql", json={"query": FEED}, headers=headers)


def assert_refused(response: httpx.Response, *, policy: str, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert f"try again in {retry_after} second" in error["message"]
    assert response.headers["retry-after"] == str(retry_after)
    assert response.headers["ratelimit"].startswith(f'"{policy}";r=0;t=')
    assert response.headers["ratelimit-policy"].startswith(f'"{policy}";q=')
    assert "x-request-id" in response.headers  # the outer middleware still ran


async def test_the_request_past_the_limit_gets_a_429_with_the_headers(
    settings: Settings, db: None
) -> None:
    async with limited(settings) as client:
        reader = client()
        with clock.frozen(T0):
            answers = [await feed(reader) for _ in range(3)]
            refused = await feed(reader)
            also_get = await reader.get("/graphql", params={"query": FEED})

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.json()
        assert answer.headers["ratelimit-policy"] == '"address";q=3;w=60'
    assert [answer.headers["ratelimit"] for answer in answers] == [
        '"address";r=2;t=20',
        '"address";r=1;t=40',
        '"address";r=0;t=60',
    ]
    assert_refused(refused, policy="address", retry_after=20)
    assert refused.headers["ratelimit"] == '"address";r=0;t=60'
    assert_refused(also_get, policy="address", retry_after=20)


async def test_each_address_and_each_token_has_its_own_bucket(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    async with limited(settings) as client:
        first, second = client("203.0.113.1"), client("203.0.113.2")
        with clock.frozen(T0):
            for _ in range(3):
                assert (await feed(first)).status_code == 200
            assert (await feed(first)).status_code == 429
            assert (await feed(second)).status_code == 200

            # Token holders draw on their token's bucket, from any address.
            viewer, editor = tokens_by_role["viewer"], tokens_by_role["editor"]
            for _ in range(2):
                answer = await feed(first, token=viewer)
                assert answer.status_code == 200, answer.text
                assert answer.headers["ratelimit-policy"] == '"token";q=2;w=60'
            assert_refused(await feed(second, token=viewer), policy="token", retry_after=30)
            assert (await feed(first, token=editor)).status_code == 200
            # An IPv6 client is one bucket per /64: a host holds the whole subnet.
            ipv6 = [client(f"2001:db8:1:2::{n}") for n in range(1, 5)]
            for http in ipv6[:3]:
                assert (await feed(http)).status_code == 200
            assert (await feed(ipv6[3])).status_code == 429
            assert (await feed(client("2001:db8:1:3::1"))).status_code == 200
            # An IPv4 client seen through a dual-stack socket is that IPv4 client.
            assert (await feed(client("::ffff:203.0.113.1"))).status_code == 429


async def test_made_up_tokens_do_not_buy_fresh_buckets(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    """Each refused token is charged to its address: past the address's limit, requests
    with a token from there are refused before they run, a real token's too."""
    async with limited(settings, token_rate_limit="100/60") as client:
        attacker, elsewhere = client("198.51.100.7"), client("198.51.100.8")
        with clock.frozen(T0):
            for _ in range(3):
                made_up = f"ndk_{secrets.token_urlsafe(32)}"
                assert (await feed(attacker, token=made_up)).status_code == 401
            made_up = f"ndk_{secrets.token_urlsafe(32)}"
            assert_refused(await feed(attacker, token=made_up), policy="address", retry_after=20)
            refused = await feed(attacker, token=tokens_by_role["viewer"])
            assert_refused(refused, policy="address", retry_after=20)
            assert (await feed(elsewhere, token=tokens_by_role["viewer"])).status_code == 200
            assert (await feed(attacker)).status_code == 200  # reading without a token
        with clock.frozen(T0 + timedelta(seconds=20)):
            assert (await feed(attacker, token=tokens_by_role["viewer"])).status_code == 200


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    settings: Settings, db: None
) -> None:
    async with limited(settings) as client:
        direct = client("192.0.2.50")
        with clock.frozen(T0):
            for n in range(3):
                spoofed = await feed(direct, **{"x-forwarded-for": f"203.0.113.{n}"})
                assert spoofed.status_code == 200
            refused = await feed(direct, **{"x-forwarded-for": "203.0.113.99"})
            assert_refused(refused, policy="address", retry_after=20)

    async with limited(settings, trusted_proxies="10.0.0.0/8, 192.0.2.10") as client:
        proxy = client("192.0.2.10")
        with clock.frozen(T0):
            # The right-most address that is not a trusted proxy is the client; what it
            # wrote itself, left of that, changes nothing.
            for n in range(3):
                chain = f"198.51.100.{n}, 203.0.113.5, 10.1.2.3"
                assert (await feed(proxy, **{"x-forwarded-for": chain})).status_code == 200
            refused = await feed(proxy, **{"x-forwarded-for": "203.0.113.5, 10.1.2.3"})
            assert_refused(refused, policy="address", retry_after=20)
            other = await feed(proxy, **{"x-forwarded-for": "203.0.113.6, 10.1.2.3"})
            assert other.status_code == 200
            # A peer that is not a trusted proxy is the client, whatever it forwards.
            untrusted = client("192.0.2.11")
            for n in range(3):
                header = {"x-forwarded-for": f"203.0.113.{n + 10}"}
                assert (await feed(untrusted, **header)).status_code == 200
            assert (await feed(untrusted, **{"x-forwarded-for": "203.0.113.20"})).status_code == 429


async def test_the_bucket_refills_with_time(settings: Settings, db: None) -> None:
    async with limited(settings) as client:
        reader = client()
        with clock.frozen(T0):
            for _ in range(3):
                assert (await feed(reader)).status_code == 200
            assert_refused(await feed(reader), policy="address", retry_after=20)
        with clock.frozen(T0 + timedelta(seconds=19)):
            assert_refused(await feed(reader), policy="address", retry_after=1)
        with clock.frozen(T0 + timedelta(seconds=20)):
            assert (await feed(reader)).status_code == 200
            assert_refused(await feed(reader), policy="address", retry_after=20)
        with clock.frozen(T0 + timedelta(minutes=5)):  # full again, never fuller
            answers = [await feed(reader) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]


async def test_health_metrics_and_media_are_not_limited(settings: Settings, db: None) -> None:
    async with limited(settings, rate_limit="1/60") as client:
        reader = client()
        with clock.frozen(T0):
            for _ in range(3):
                assert (await reader.get("/healthz")).status_code == 200
                assert (await reader.get("/metrics")).status_code == 200
            assert (await reader.get("/feed.xml")).status_code == 200
            refused = await reader.get("/feed.json")
            assert_refused(refused, policy="address", retry_after=60)
            assert "ratelimit" not in (await reader.get("/healthz")).headers


async def test_off_means_off(settings: Settings, db: None) -> None:
    async with limited(settings, rate_limit="off", token_rate_limit="0") as client:
        reader = client()
        with clock.frozen(T0):
            answers = [await feed(reader) for _ in range(10)]
    assert {answer.status_code for answer in answers} == {200}
    assert all("ratelimit" not in answer.headers for answer in answers)


def test_limits_are_on_in_production_and_off_elsewhere() -> None:
    production = Settings(env="production", cors_origins="")
    assert (production.address_rate, production.token_rate) == ((600, 60.0), (6000, 60.0))
    assert Settings(env="production", rate_limit="off").address_rate is None
    assert Settings(env="development").address_rate is None
    assert Settings(env="test").token_rate is None
    assert Settings(rate_limit="120/30.5").address_rate == (120, 30.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate_limit", "600"),
        ("rate_limit", "many/60"),
        ("rate_limit", "0/60"),
        ("token_rate_limit", "10/0"),
        ("token_rate_limit", "10/inf"),
        ("trusted_proxies", "10.0.0.0/8, proxy.internal"),
    ],
)
def test_bad_limits_are_refused_at_start_up(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings(**{name: value})


# --- Redis ------------------------------------------------------------------------------


async def test_two_workers_share_one_bucket_through_redis(
    settings: Settings, db: None, redis_url: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url, "rate_limit": "3/60"})
    address, other = _random_address(), _random_address()  # no bucket of an earlier run
    async with running(shared) as one, running(shared) as two, clients_of(one, two) as client:
        first, second = client(address, app=0), client(address, app=1)
        with clock.frozen(T0):
            answers = [await feed(first), await feed(second), await feed(first)]
            refused = await feed(second)
            elsewhere = await feed(client(other, app=1))
        with clock.frozen(T0 + timedelta(seconds=20)):
            refilled = await feed(first)

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["ratelimit"] for answer in answers] == [
        '"address";r=2;t=20',
        '"address";r=1;t=40',
        '"address";r=0;t=60',
    ]
    assert_refused(refused, policy="address", retry_after=20)
    assert elsewhere.status_code == 200
    assert refilled.status_code == 200


def _random_address() -> str:
    return "10." + ".".join(str(secrets.randbelow(256)) for _ in range(3))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def test_a_redis_that_is_down_lets_requests_through_and_says_so_once(
    settings: Settings, db: None, caplog: pytest.LogCaptureFixture, tokens_by_role: dict[str, str]
) -> None:
    from cms.http.rate_limits import RateLimitMiddleware, RateLimits

    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    limits = RateLimits(address=(1, 60), token=(1, 60), redis_url=dead)
    async with running(settings) as app, clients_of(RateLimitMiddleware(app, limits=limits)) as c:
        reader = c()
        with caplog.at_level(logging.WARNING, logger="cms.http.buckets"):
            with clock.frozen(T0):
                answers = [await feed(reader) for _ in range(3)]
            with clock.frozen(T0 + timedelta(seconds=2)):  # Redis is asked again: still down
                token = tokens_by_role["viewer"]
                answers += [await feed(reader, token=token) for _ in range(2)]
        await limits.close()

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.json()
        assert "ratelimit" not in answer.headers
    warnings = [record for record in caplog.records if "Redis failed" in record.getMessage()]
    assert len(warnings) == 1


async def test_made_up_tokens_do_not_buy_fresh_buckets_through_redis(
    settings: Settings, db: None, redis_url: str, tokens_by_role: dict[str, str]
) -> None:
    """The bucket of refused tokens is shared through Redis like the others."""
    update = {"redis_url": redis_url, "rate_limit": "3/60", "token_rate_limit": "100/60"}
    attacker_address, other_address = _random_address(), _random_address()
    async with running(settings.model_copy(update=update)) as app, clients_of(app) as client:
        attacker, elsewhere = client(attacker_address), client(other_address)
        with clock.frozen(T0):
            made_up = [
                await feed(attacker, token=f"ndk_{secrets.token_urlsafe(32)}") for _ in range(4)
            ]
            real = await feed(attacker, token=tokens_by_role["viewer"])
            real_elsewhere = await feed(elsewhere, token=tokens_by_role["viewer"])

    assert [answer.status_code for answer in made_up[:3]] == [401, 401, 401]
    assert_refused(made_up[3], policy="address", retry_after=20)
    assert_refused(real, policy="address", retry_after=20)
    assert real_elsewhere.status_code == 200, real_elsewhere.text
    assert real_elsewhere.headers["ratelimit"] == '"token";r=99;t=1'


@contextlib.contextmanager
def own_redis_server(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own on `port`, saving nothing, so the test may stop it."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)


async def test_redis_going_down_lets_requests_through_until_it_is_back(
    settings: Settings, db: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    url = f"redis://127.0.0.1:{port}/0"
    update = {"redis_url": url, "rate_limit": "1/60", "response_cache": False}
    with own_redis_server(tmp_path, port) as redis_server:
        async with running(settings.model_copy(update=update)) as app, clients_of(app) as c:
            reader = c()
            with clock.frozen(T0):
                assert (await feed(reader)).status_code == 200
                assert_refused(await feed(reader), policy="address", retry_after=60)
                redis_server.terminate()
                redis_server.wait(timeout=10)
                with caplog.at_level(logging.WARNING, logger="cms.http.buckets"):
                    down = [await feed(reader) for _ in range(3)]
            with own_redis_server(tmp_path, port), clock.frozen(T0 + timedelta(seconds=2)):
                back = [await feed(reader) for _ in range(2)]  # a new, empty Redis

    for answer in down:
        assert answer.status_code == 200, answer.text
        assert "ratelimit" not in answer.headers
    messages = [record.getMessage() for record in caplog.records]
    assert len([message for message in messages if "Redis failed" in message]) == 1
    assert back[0].status_code == 200
    assert back[0].headers["ratelimit"] == '"address";r=0;t=60'
    assert_refused(back[1], policy="address", retry_after=60)


# --- a real server ----------------------------------------------------------------------


async def test_a_websocket_handshake_past_the_limit_is_refused_with_429(
    settings: Settings, db: None
) -> None:
    async with serve(settings.model_copy(update={"rate_limit": "2/60"})) as address:
        url = f"ws://{address}/graphql"
        with clock.frozen(T0):
            async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                assert ws.subprotocol == "graphql-transport-ws"
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                answer = await http.post("/graphql", json={"query": FEED})
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url, subprotocols=["graphql-transport-ws"]):
                    pass

    assert answer.status_code == 200
    assert answer.headers["ratelimit"] == '"address";r=0;t=60'
    response = refused.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.headers["RateLimit"] == '"address";r=0;t=60'
    assert b"RATE_LIMITED" in response.body


async def test_a_server_that_cannot_refuse_a_handshake_gets_a_close_with_4429() -> None:
    """An ASGI server without the WebSocket denial response extension (uvicorn has it)."""
    from cms.http.rate_limits import RateLimitMiddleware, RateLimits

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})

    limited_app = RateLimitMiddleware(app, limits=RateLimits(address=(1, 60), token=None))
    handshakes = []
    for _ in range(2):
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "websocket",
            "path": "/graphql",
            "headers": [],
            "client": ("192.0.2.1", 40000),
            "subprotocols": ["graphql-transport-ws"],
        }
        with clock.frozen(T0):
            await limited_app(scope, receive, send)
        handshakes.append(sent)

    assert [message["type"] for message in handshakes[0]] == ["websocket.accept"]
    accept, close = handshakes[1]
    assert (accept["type"], accept["subprotocol"]) == ("websocket.accept", "graphql-transport-ws")
    assert (close["type"], close["code"]) == ("websocket.close", 4429)


# --- one policy without the other -------------------------------------------------------


async def test_with_only_an_address_limit_token_holders_are_not_limited(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    async with limited(settings, rate_limit="1/60", token_rate_limit="off") as client:
        reader = client()
        with clock.frozen(T0):
            holder = [await feed(reader, token=tokens_by_role["viewer"]) for _ in range(3)]
            anonymous = [await feed(reader) for _ in range(2)]

    for answer in holder:
        assert answer.status_code == 200, answer.text
        assert "ratelimit" not in answer.headers
    assert anonymous[0].status_code == 200
    assert_refused(anonymous[1], policy="address", retry_after=60)


async def test_with_only_a_token_limit_anonymous_readers_are_not_limited(
    settings: Settings, db: None, tokens_by_role: dict[str, str]
) -> None:
    """Without an address policy there is no bucket of refused tokens either: a made-up
    token is answered 401 each time, never 429."""
    async with limited(settings, rate_limit="off", token_rate_limit="1/60") as client:
        reader = client()
        with clock.frozen(T0):
            anonymous = [await feed(reader) for _ in range(3)]
            holder = [await feed(reader, token=tokens_by_role["viewer"]) for _ in range(2)]
            made_up = [
                await feed(reader, token=f"ndk_{secrets.token_urlsafe(32)}") for _ in range(3)
            ]

    for answer in anonymous:
        assert answer.status_code == 200, answer.text
        assert "ratelimit" not in answer.headers
    assert holder[0].headers["ratelimit"] == '"token";r=0;t=60'
    assert_refused(holder[1], policy="token", retry_after=60)
    assert [answer.status_code for answer in made_up] == [401, 401, 401]


async def test_a_peer_that_is_not_an_address_is_limited_by_what_the_server_reports(
    settings: Settings, db: None
) -> None:
    """An ASGI server may report a peer that is not an IP address (a bracketed IPv6
    address, a socket's name): it is a bucket of its own, and nothing fails."""
    async with limited(settings, rate_limit="1/60") as client:
        odd, other = client("[2001:db8::1]"), client("[2001:db8::2]")
        with clock.frozen(T0):
            answers = [await feed(odd), await feed(odd), await feed(other)]

    assert [answer.status_code for answer in answers] == [200, 429, 200]
    assert_refused(answers[1], policy="address", retry_after=60)
