"""/media serves stored files with long-lived cache headers; /metrics speaks Prometheus."""

from __future__ import annotations

from pathlib import Path

import httpx

from cms.config import Settings

SECTIONS = "{ sections { slug } }"


async def test_media_serves_stored_files_with_immutable_caching(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    stored = Path(settings.media_dir) / "photos" / "kyiv.svg"
    stored.parent.mkdir(parents=True)
    stored.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')

    response = await client.get("/media/photos/kyiv.svg")

    assert response.status_code == 200
    assert response.text.startswith("<svg")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_media_does_not_leave_its_directory(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    secret = Path(settings.media_dir).parent / "secret.txt"
    secret.write_text("not for the web")

    missing = await client.get("/media/nope.png")
    escaped = await client.get("/media/%2e%2e/secret.txt")

    assert missing.status_code == 404
    assert escaped.status_code == 404
    assert "not for the web" not in escaped.text


async def test_metrics_count_requests_by_route_and_status(client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": SECTIONS})
    await client.get("/media/missing.png")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert 'newsdesk_http_requests_total{method="POST",route="/graphql",status="200"} 1.0' in lines
    assert 'newsdesk_http_requests_total{method="GET",route="/media",status="404"} 1.0' in lines
    assert any(line.startswith("newsdesk_http_request_duration_seconds_bucket") for line in lines)


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    echoed = await client.get("/healthz", headers={"X-Request-ID": "edge-42"})
    refused = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    assert len(generated.headers["x-request-id"]) == 16
    assert echoed.headers["x-request-id"] == "edge-42"
    assert refused.headers["x-request-id"] != "bad id\twith spaces"
