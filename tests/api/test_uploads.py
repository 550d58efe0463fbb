"""uploadMedia over HTTP, per the GraphQL multipart request spec: `operations` (the
document and variables, the file as null), `map` (file part -> variable path), then the
file parts. Authors and up upload; the type comes from the bytes; errors are data."""

from __future__ import annotations

import gc
import io
import json
import resource
import struct
import sys
from typing import Any

import httpx
import pytest
from PIL import Image

from cms.config import Settings
from cms.media import images, service
from cms.models import Media
from tests.api.conftest import ERROR_FIELDS, error_code, gql_data
from tests.api.graphql_client import app_client
from tests.media import test_png

UPLOAD = (
    """
mutation Upload($file: Upload!, $altText: String, $caption: String, $credit: String) {
  uploadMedia(file: $file, altText: $altText, caption: $caption, credit: $credit) {
    __typename
    ... on Media { id url mimeType width height altText caption credit }
    ...ErrorFields
  }
}
"""
    + ERROR_FIELDS
)

CREATE_WITH_HERO = """
mutation Create($input: ArticleInput!) {
  createArticle(input: $input) {
    __typename
    ... on Article { id heroImage { id url width height mimeType altText } }
    ... on ValidationError { field message }
  }
}
"""


def _png(size: tuple[int, int] = (40, 30), colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


async def _upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    token: str | None,
    filename: str = "photo.png",
    content_type: str = "image/png",
    **variables: Any,
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"file": None, **variables}}
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    headers["Apollo-Require-Preflight"] = "true"
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, data, content_type)},
        headers=headers,
    )


async def _uploaded(client: httpx.AsyncClient, data: bytes, **options: Any) -> dict[str, Any]:
    response = await _upload(client, data, **options)
    body = response.json()
    assert "errors" not in body, body
    assert response.status_code == 200, body
    result: dict[str, Any] = body["data"]["uploadMedia"]
    return result


async def test_an_author_uploads_a_png_and_it_is_served_at_its_url(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    data = _png((40, 30))

    media = await _uploaded(
        client,
        data,
        token=tokens_by_role["author"],
        altText="Boats in the harbour",
        caption="The fleet returns at dawn.",
        credit="Newsdesk",
    )

    assert media["__typename"] == "Media"
    assert (media["mimeType"], media["width"], media["height"]) == ("image/png", 40, 30)
    assert media["altText"] == "Boats in the harbour"
    assert (media["caption"], media["credit"]) == ("The fleet returns at dawn.", "Newsdesk")
    assert media["url"].startswith("http://testserver/media/uploads/")
    assert media["url"].endswith(".png")
    served = await client.get(media["url"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_the_type_comes_from_the_bytes_not_the_filename_or_content_type(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    media = await _uploaded(
        client,
        _png(),
        token=tokens_by_role["editor"],
        filename="photo.jpg",
        content_type="image/jpeg",
    )

    assert media["mimeType"] == "image/png"
    assert media["url"].endswith(".png")


async def test_the_same_bytes_twice_give_the_same_media(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    first = await _uploaded(client, _png(), token=tokens_by_role["author"], caption="First")
    again = await _uploaded(client, _png(), token=tokens_by_role["admin"], caption="Second")

    assert again["id"] == first["id"]
    assert again["caption"] == "First"


async def test_an_anonymous_upload_is_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await _upload(client, _png(), token=None)

    body = response.json()
    assert error_code(body) == "UNAUTHENTICATED", body
    assert body["data"] is None


async def test_a_viewer_may_not_upload(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    response = await _upload(client, _png(), token=tokens_by_role["viewer"])

    body = response.json()
    assert error_code(body) == "FORBIDDEN", body
    assert "may not upload media" in body["errors"][0]["message"]
    assert body["data"] is None


async def test_a_text_file_is_a_validation_error_on_file(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    result = await _uploaded(
        client,
        b"Not a picture: the council met on Tuesday.\n",
        token=tokens_by_role["author"],
        filename="notes.png",
        content_type="image/png",
    )

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "file"
    assert "JPEG, PNG, GIF or WebP" in result["message"]


async def test_an_svg_is_refused(client: httpx.AsyncClient, tokens_by_role: dict[str, str]) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

    result = await _uploaded(
        client,
        svg,
        token=tokens_by_role["author"],
        filename="logo.svg",
        content_type="image/svg+xml",
    )

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "file"
    assert "SVG is not accepted" in result["message"]


async def test_a_file_over_the_limit_is_a_validation_error_naming_it(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    too_large = _png() + b"\x00" * service.MAX_BYTES

    result = await _uploaded(client, too_large, token=tokens_by_role["author"])

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "file"
    assert "limit of 20 MB (20971520 bytes)" in result["message"]


async def test_a_file_sent_as_json_instead_of_multipart_is_a_validation_error(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    data = await gql_data(client, UPLOAD, {"file": "aGVsbG8="}, token=tokens_by_role["author"])

    result = data["uploadMedia"]
    assert result["__typename"] == "ValidationError"
    assert result["field"] == "file"
    assert "multipart" in result["message"]


async def test_an_uploaded_image_becomes_an_articles_hero_image(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    author = tokens_by_role["author"]
    media = await _uploaded(client, _png((120, 80)), token=author, altText="A hero")

    data = await gql_data(
        client,
        CREATE_WITH_HERO,
        {"input": {"title": "Harbour reopens", "heroImageId": media["id"]}},
        token=author,
    )

    article = data["createArticle"]
    assert article["__typename"] == "Article", article
    assert article["heroImage"] == {
        "id": media["id"],
        "url": media["url"],
        "width": 120,
        "height": 80,
        "mimeType": "image/png",
        "altText": "A hero",
    }


async def test_an_upload_without_the_preflight_header_is_refused_and_not_stored(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """A cross-site form can post multipart with no CORS preflight; the required header
    forces one, so a page cannot make an editor's browser upload on its behalf."""
    operations = {"query": UPLOAD, "variables": {"file": None}}
    for header in ({}, {"Apollo-Require-Preflight": ""}, {"Apollo-Require-Preflight": "  "}):
        response = await client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": ("photo.png", _png(), "image/png")},
            headers={"Authorization": f"Bearer {tokens_by_role['author']}", **header},
        )

        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "Apollo-Require-Preflight" in error["message"]
    assert await Media.all().count() == 0


async def test_a_cross_origin_upload_may_send_the_preflight_header(
    settings: Settings, db: None
) -> None:
    allowed = settings.model_copy(update={"cors_origins": "https://desk.example"})
    async with app_client(allowed) as client:
        response = await client.options(
            "/graphql",
            headers={
                "Origin": "https://desk.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, apollo-require-preflight",
            },
        )

    assert response.status_code == 200
    assert "apollo-require-preflight" in response.headers["access-control-allow-headers"].lower()


async def test_large_pngs_are_checked_within_the_decode_budget(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str]
) -> None:
    """A 49-megapixel PNG (whole, or missing its last row) is checked without decoding its
    pixels, and a header claiming 100 megapixels is refused before anything is decoded:
    the process's peak RSS grows by less than the decode budget (it grew by about 188 MB
    when the PNG was decoded)."""
    uploads = {
        "whole": test_png.made(7_000, 7_000),
        "missing its last row": test_png.made(7_000, 7_000, missing=21_001),
        "claiming 100 megapixels": b"\x89PNG\r\n\x1a\n"
        + test_png.chunk(b"IHDR", struct.pack(">IIBBBBB", 10_000, 10_000, 8, 2, 0, 0, 0))
        + test_png.chunk(b"IEND", b""),
    }
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    answers = {
        name: await _uploaded(client, data, token=tokens_by_role["author"])
        for name, data in uploads.items()
    }

    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert answers["whole"]["__typename"] == "Media", answers["whole"]
    assert (answers["whole"]["width"], answers["whole"]["height"]) == (7_000, 7_000)
    assert answers["missing its last row"] == {
        "__typename": "ValidationError",
        "message": "the image is damaged or incomplete",
        "field": "file",
    }
    assert answers["claiming 100 megapixels"] == {
        "__typename": "ValidationError",
        "message": "the image has too many pixels: at most 50 megapixels",
        "field": "file",
    }
    assert grown < images.DECODE_BUDGET


async def test_a_body_cut_off_inside_a_file_leaves_no_temporary_file_open(
    client: httpx.AsyncClient, tokens_by_role: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Starlette opens a temporary file when a file part's headers end; a body cut off
    # inside that part used to leave it open until the garbage collector found it.
    unclosed: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: unclosed.append(hook.exc_value))
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None}}).encode()
    body = (
        b'--X\r\nContent-Disposition: form-data; name="operations"\r\n\r\n' + operations
        + b'\r\n--X\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0": ["variables.file"]}'
        + b'\r\n--X\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n'
        + b"Content-Type: image/png\r\n\r\n\x89PNG\r\n"  # and no closing boundary
    )  # fmt: skip
    headers = {
        "content-type": "multipart/form-data; boundary=X",
        "apollo-require-preflight": "true",
        "authorization": f"Bearer {tokens_by_role['author']}",
    }

    response = await client.post("/graphql", content=body, headers=headers)
    gc.collect()

    assert response.status_code == 400, response.text
    assert [error for error in unclosed if isinstance(error, ResourceWarning)] == []
