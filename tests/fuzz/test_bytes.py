"""Hostile bytes never fail the server: random bytes, truncated and deeply nested JSON,
JSON of the wrong shape, wrong and broken content types, broken multipart uploads, odd
methods and headers, to POST /graphql; random query strings to GET /graphql and to the
feeds; random media keys and ninjs ids. Every answer is 2xx/3xx/4xx and comes
(HANG_SECONDS guards against a hang), with nothing logged as an unexpected error
(tests/fuzz/faults.py).

NEWSDESK_FUZZ_EXAMPLES sets the number of requests per backend, as for the operations.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import faults
from tests.fuzz.conftest import EXAMPLES, ROLES
from tests.fuzz.values import SPECIAL, hostile_text, mostly

REQUEST = {"query": "query Q($first: Int) { feed(first: $first) { edges { node { title } } } }",
           "variables": {"first": 2}}  # fmt: skip
UPLOAD = {"query": "mutation($f: Upload!) { uploadMedia(file: $f) { __typename } }",
          "variables": {"f": None}}  # fmt: skip
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x7f\xff\xff\xff\x7f\xff\xff\xff\x08\x02"

CONTENT_TYPES = (
    "application/json", "application/json; charset=latin-1", "application/graphql-response+json",
    "application/graphql", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=X",
    "multipart/mixed; boundary=X", "application/json; boundary=X", "*/*", "", "\x00", "é",
)  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions", "map", "0", "f"])
            | st.text(max_size=4),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
)


def _cut(data: bytes, at: int) -> bytes:
    return data[: at % (len(data) + 1)]


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


def _multipart(operations: bytes, files_map: bytes, file: bytes, name: str) -> bytes:
    parts = [(b"operations", b"", operations), (b"map", b"", files_map),
             (name.encode("utf-8", "surrogatepass"), b'; filename="a.png"', file)]  # fmt: skip
    body = b"".join(
        b"--X\r\nContent-Disposition: form-data; name=\"" + part + b'"' + extra
        + b"\r\nContent-Type: image/png\r\n\r\n" + data + b"\r\n"
        for part, extra, data in parts
    )  # fmt: skip
    return body + b"--X--\r\n"


multipart_bodies = st.builds(
    _multipart,
    operations=mostly(st.just(_json(UPLOAD)), json_values.map(_json)),
    files_map=mostly(st.just(b'{"0": ["variables.f"]}'), json_values.map(_json)),
    file=st.sampled_from([GIF, PNG_HEADER, b"", b"GIF89a"]) | st.binary(max_size=200),
    name=mostly(st.just("0"), hostile_text),
)

bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(_cut, st.just(_json(REQUEST)), st.integers(0, 200)),
    json_values.map(_json),
    st.builds(lambda v: _json({**REQUEST, "variables": v}), json_values),
    st.builds(
        lambda open_, n: open_ * n,
        st.sampled_from([b"[", b'{"a":', b'{"query":[']),
        st.integers(1, 100_000),
    ),  # fmt: skip
    st.builds(lambda n: b'{"query": "' + b"{ feed " * n + b'"}', st.integers(1, 10_000)),
    st.builds(_cut, multipart_bodies, st.integers(0, 2_000)),
    multipart_bodies,
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
)

header_values = (st.sampled_from(SPECIAL[:20]) | st.text(max_size=30)).map(
    lambda text: text.encode("utf-8", "surrogatepass")
) | st.binary(max_size=30)


@st.composite
def requests(draw: st.DrawFn, tokens: dict[str | None, str | None]) -> dict[str, Any]:
    """One hostile HTTP request (keyword arguments of httpx's `request`)."""
    headers: dict[str, str | bytes] = {}
    role = draw(st.sampled_from([*ROLES, None]))
    token = tokens[role]
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    elif draw(st.booleans()):
        headers["authorization"] = draw(header_values)
    if draw(st.booleans()):
        headers["accept"] = draw(
            st.sampled_from(["application/json", "application/graphql-response+json", "*/*"])
            | header_values
        )
    if draw(st.booleans()):
        headers["apollo-require-preflight"] = "true"
    kind = draw(st.sampled_from(["post", "post", "post", "get", "get", "other"]))
    if kind == "post":
        headers["content-type"] = draw(
            mostly(
                st.just("application/json"),
                mostly(st.sampled_from(CONTENT_TYPES), header_values, percent=20),
                percent=50,
            )
        )
        return {"method": "POST", "url": "/graphql", "headers": headers,
                "content": draw(bodies)}  # fmt: skip
    if kind == "get":
        path = draw(st.sampled_from(["/graphql", "/graphql", "/feed.xml", "/feed.json"]))
        raw = draw(
            st.one_of(
                st.binary(max_size=200).map(urllib.parse.quote_from_bytes),
                st.dictionaries(
                    st.sampled_from(["query", "variables", "operationName", "extensions",
                                     "section", "tag", "after", "first"]),
                    hostile_text.filter(lambda text: len(text) < 20_000),
                ).map(lambda params: urllib.parse.urlencode(params, errors="surrogatepass")),
                st.binary(max_size=200).map(lambda data: data.decode("latin-1")),
            )
        )  # fmt: skip
        return {"method": "GET", "url": path + "?" + raw, "headers": headers}
    method = draw(st.sampled_from(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "GET"]))
    path = draw(
        st.sampled_from(["/graphql", "/healthz", "/metrics", "/media/"])
        | st.binary(min_size=1, max_size=40).map(
            lambda data: "/media/" + urllib.parse.quote_from_bytes(data)
        )
        | st.binary(max_size=40).map(lambda data: "/ninjs/" + urllib.parse.quote_from_bytes(data))
        | st.sampled_from(["/ninjs/QXJ0aWNsZTox", "/ninjs/VmlkZW9FcGlzb2RlOjE="])  # Article:1 …
    )
    return {"method": method, "url": path, "headers": headers, "content": draw(bodies)}


def _describe(request: dict[str, Any]) -> str:
    content = request.get("content", b"")
    shown = content if len(content) < 2000 else content[:2000] + b"..."
    url = request["url"][:2000]
    return f"{request['method']} {url}\nheaders: {request['headers']}\nbody: {shown!r}"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(data=st.data())
async def test_hostile_bytes_never_fail_the_server(
    production: httpx.AsyncClient,
    role_tokens: dict[str | None, str | None],
    faults_seen: faults.Faults,
    data: st.DataObject,
) -> None:
    request = data.draw(requests(role_tokens), label="request")
    try:
        httpx.Request(request["method"], "http://testserver" + request["url"],
                      headers=request["headers"])  # fmt: skip
    except (httpx.InvalidURL, UnicodeEncodeError, ValueError):
        return  # a request httpx itself will not send (servers never see it either)
    await faults.send(production, faults_seen, _describe(request), **request)
