"""The server's log (issue 16 part 3): `cms serve` writes JSON lines or human lines
(CMS_LOG_FORMAT), one access line per request with its operation, role, status, duration
and SQL count, and never a secret: the whole log of a run that handled tokens, a preview
link, a webhook's secret and failing requests is searched for each of them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from cms import logs
from tests.live import LiveServer, cms, run_live_server

ME = "query Me { me { name role } }"
CREATE = (
    'mutation Draft { createArticle(input: {title: "Embargoed budget"}) '
    "{ __typename ... on Article { id } } }"
)
LINK = (
    "mutation Link($id: ID!) { createPreviewLink(id: $id) "
    "{ __typename ... on PreviewLink { token url } } }"
)
PREVIEW = "query Preview($token: String!) { preview(token: $token) { title } }"
WEBHOOK = (
    'mutation Hook { createWebhook(url: "http://127.0.0.1:9/hook", events: [CONTENT_PUBLISHED]) '
    "{ __typename ... on Webhook { secret } } }"
)
COOKIE = "session=cookie-value-that-must-not-be-logged"
BASIC = "Basic bmV3c2Rlc2s6aHVudGVyMg=="  # newsdesk:hunter2


@dataclass
class Run:
    format: str
    log: str
    secrets: dict[str, str]


def _post(
    server: LiveServer,
    query: str,
    *,
    token: str | None = None,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {"Authorization": f"Bearer {token}"} if token else {}
    sent.update(headers or {})
    return httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=sent,
        timeout=10,
        trust_env=False,
    )


async def _subscribe(server: LiveServer, token: str) -> None:
    """A subscription over graphql-transport-ws, the token in connection_init."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    headers = {"X-Request-ID": "obs-ws"}
    async with connect(
        url,
        subprotocols=["graphql-transport-ws"],
        additional_headers=headers,
    ) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        query = "subscription Wire { feedEvents { type } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        named = f"subscription {SOCKET_SECRET} {{ feedEvents {{ type }} }}"
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": named}}))
        await asyncio.sleep(0.3)


def _admin_token(workdir: Path) -> str:
    """An admin token made with `cms token create` on the served database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CMS_")}
    env.update(
        CMS_DATABASE_URL=f"sqlite://{workdir / 'cms.sqlite3'}",
        CMS_MEDIA_DIR=str(workdir / "media"),
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
    )
    created = cms(
        ["token", "create", "--name", "desk-admin", "--role", "admin"], env=env, cwd=workdir
    )
    return created.strip().splitlines()[-1].strip()


# An operation named like an API token, and a webhook secret in a path.
NAMED_SECRET = "ndk_" + "N" * 43
PATH_SECRET = "whsec_" + "P" * 40
SOCKET_SECRET = "ndk_" + "S" * 43  # a subscription's name


def _serve_and_handle_secrets(workdir: Path, log_format: str) -> Run:
    with run_live_server(workdir, extra_env={"CMS_LOG_FORMAT": log_format}) as server:
        admin = _admin_token(workdir)
        me = _post(
            server, ME, token=server.token, headers={"Cookie": COOKIE, "X-Request-ID": "obs-me"}
        )
        draft = _post(server, CREATE, token=server.token).json()["data"]["createArticle"]
        link = _post(server, LINK, token=server.token, variables={"id": draft["id"]}).json()
        preview_token = link["data"]["createPreviewLink"]["token"]
        # The preview token in a query string (a GET the cache may answer) and in a body.
        params = {"query": PREVIEW, "variables": json.dumps({"token": preview_token})}
        by_get = httpx.get(
            f"{server.url}/graphql", params=params, headers={"X-Request-ID": "obs-get"},
            timeout=10, trust_env=False,
        )  # fmt: skip
        by_post = _post(server, PREVIEW, variables={"token": preview_token})
        feed = httpx.get(
            f"{server.url}/feed.json?token={preview_token}", timeout=10, trust_env=False
        )
        hook = _post(server, WEBHOOK, token=admin, headers={"X-Request-ID": "obs-hook"}).json()
        secret = hook["data"]["createWebhook"]["secret"]
        wrong = "ndk_" + "W" * 43
        refused = _post(server, ME, token=wrong, headers={"X-Request-ID": "obs-wrong"})
        basic = _post(server, ME, headers={"Authorization": BASIC})
        broken = _post(server, "query Broken { nothingHere }", token=server.token)
        # Secrets where the access line itself carries them: an operation's name, a path.
        named = _post(server, f"query {NAMED_SECRET} {{ __typename }}")
        missing = httpx.get(f"{server.url}/media/{PATH_SECRET}", timeout=10, trust_env=False)
        asyncio.run(_subscribe(server, server.token))
    assert me.status_code == by_get.status_code == by_post.status_code == feed.status_code == 200
    assert by_get.json()["data"]["preview"]["title"] == "Embargoed budget"
    assert secret.startswith("whsec_") and admin.startswith("ndk_")
    assert (refused.status_code, basic.status_code, broken.status_code) == (401, 401, 200)
    assert (named.status_code, missing.status_code) == (200, 404)
    return Run(
        format=log_format,
        log=(workdir / "serve.log").read_text(),
        secrets={
            "editor token": server.token,
            "admin token": admin,
            "wrong token": wrong,
            "preview token": preview_token,
            "webhook secret": secret,
            "webhook secret's key": secret.removeprefix("whsec_"),
            "cookie": COOKIE.split("=", 1)[1],
            "basic credentials": BASIC.split()[1],
            "operation name": NAMED_SECRET,
            "subscription's name": SOCKET_SECRET,
            "path's webhook secret": PATH_SECRET,
        },
    )


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _serve_and_handle_secrets(tmp_path_factory.mktemp("logs-json"), "json")


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _serve_and_handle_secrets(tmp_path_factory.mktemp("logs-text"), "text")


@pytest.fixture(params=["json_run", "text_run"])
def run(request: pytest.FixtureRequest) -> Run:
    found: Run = request.getfixturevalue(request.param)
    return found


def _json_lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def _access(log: str, request_id: str, operation: str | None = None) -> dict[str, Any]:
    found = [
        line
        for line in _json_lines(log)
        if line["logger"] == logs.ACCESS_LOGGER
        and line["request_id"] == request_id
        and (operation is None or line["operation_name"] == operation)
    ]
    assert len(found) == 1, found
    return found[0]


def test_no_secret_is_ever_written(run: Run) -> None:
    assert "cms.access" in run.log  # the log holds the requests at all
    for what, secret in run.secrets.items():
        assert secret not in run.log, f"the {what} is in the log"
    assert "hunter2" not in run.log
    assert re.search(r"(?i)^authorization|\bcookie:", run.log, re.MULTILINE) is None


def test_json_lines_carry_the_access_fields(json_run: Run) -> None:
    run = json_run
    lines = _json_lines(run.log)
    me = _access(run.log, "obs-me")
    hook = _access(run.log, "obs-hook")
    wrong = _access(run.log, "obs-wrong")
    cached = _access(run.log, "obs-get")

    assert [line for line in run.log.splitlines() if not line.startswith("{")] == []
    assert any(line["message"].startswith("Newsdesk serving") for line in lines)
    assert all(
        {"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", me["time"])
    assert me | {"time": "", "duration_ms": 0, "sql": 0, "message": ""} == {
        "time": "", "level": "info", "logger": "cms.access", "message": "",
        "request_id": "obs-me", "method": "POST", "path": "/graphql", "status": 200,
        "duration_ms": 0, "operation_name": "Me", "operation_type": "query", "outcome": "ok",
        "role": "editor", "sql": 0,
    }  # fmt: skip
    assert me["sql"] > 0 and me["duration_ms"] > 0
    assert (hook["operation_name"], hook["operation_type"], hook["role"]) == (
        "Hook",
        "mutation",
        "admin",
    )
    assert hook["sql"] > 0
    assert (wrong["status"], wrong["role"], wrong["outcome"]) == (
        401,
        "unauthenticated",
        "rejected",
    )
    socket = _access(run.log, "obs-ws", "Wire")
    assert (socket["method"], socket["path"], socket["operation_name"]) == (
        "WS",
        "/graphql",
        "Wire",
    )
    assert (socket["operation_type"], socket["role"]) == ("subscription", "editor")
    assert (cached["path"], cached["operation_name"], cached["role"]) == (
        "/graphql",
        "Preview",
        "anonymous",
    )


def test_text_lines_are_for_a_person(text_run: Run) -> None:
    run = text_run
    assert not _json_lines(run.log)
    me = [line for line in run.log.splitlines() if "[obs-me]" in line]

    assert len(me) == 1
    assert re.search(
        r"^\d{4}-\d\d-\d\dT[\d:.]+Z INFO \[obs-me\] cms\.access: POST /graphql 200 [\d.]+ms "
        r"query Me role=editor sql=[1-9]\d*$",
        me[0],
    ), me[0]


def test_an_error_is_one_json_line_with_its_traceback_and_no_secret() -> None:
    formatter = logs.JsonFormatter()
    try:
        raise RuntimeError(
            "verify failed for Bearer ndk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
        )
    except RuntimeError:
        record = logging.LogRecord(
            "cms.test", logging.ERROR, __file__, 1, "boom %s", ("whsec_QUJD",), sys.exc_info()
        )
    line = formatter.format(record)

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "error" and parsed["message"] == "boom whsec_[redacted]"
    assert "Traceback" in parsed["exception"] and "RuntimeError" in parsed["exception"]
    assert "ndk_abcdef" not in line and "QUJD" not in line


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer ndk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "ndk_abc"),
        ("headers={'authorization': 'Bearer opaque-value'}", "opaque-value"),
        ("Cookie: session=abc123; theme=dark", "abc123"),
        ("sent whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw to the partner", "MfKQ9r8G"),
        ("GET /preview?token=eyJpZCI6MX0.c2lnbmF0dXJl&x=1", "eyJpZCI6MX0"),
        ('{"token": "MTIzNC4xNzAw.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg"}', "AbCdEf"),
        ("key AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg rotated", "AbCdEfGh"),
        ("Basic bmV3c2Rlc2s6aHVudGVyMg==", "bmV3c2Rlc2s6"),
    ],
)
def test_redaction_knows_every_kind_of_secret(text: str, secret: str) -> None:
    redacted = logs.redact(text)

    assert secret not in redacted
    assert logs.REDACTED in redacted


def test_redaction_leaves_ordinary_lines_alone() -> None:
    line = "POST /graphql 200 3.1ms query FeedPage role=anonymous sql=3"

    assert logs.redact(line) == line
