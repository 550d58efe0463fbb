"""/metrics with several workers (`cms serve --workers 2`, real processes): a scrape
reaches one worker, and still counts every worker's requests (prometheus-client's
multiprocess mode, in a temporary directory `cms serve` makes and removes)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import run_live_server

REQUESTS = 30
COUNTED = "query Counted { sections { slug } }"


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{url}/metrics", timeout=10, trust_env=False)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_one_scrape_counts_the_requests_of_every_worker(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("workers")
    temporary = workdir / "tmp"
    temporary.mkdir()
    with run_live_server(workdir, workers=2, extra_env={"TMPDIR": str(temporary)}) as server:
        for _ in range(REQUESTS):  # a new connection each: both workers answer some
            response = httpx.post(
                f"{server.url}/graphql", json={"query": COUNTED}, timeout=10, trust_env=False
            )
            assert response.status_code == 200 and "errors" not in response.json()
        scrapes = [_scrape(server.url) for _ in range(6)]
        made = [path.name for path in temporary.iterdir()]

    operation = frozenset({("operation", "Counted"), ("type", "query"), ("outcome", "ok")})
    requests = frozenset({("method", "POST"), ("route", "/graphql"), ("status", "200")})
    for samples in scrapes:
        assert samples[("newsdesk_graphql_operation_duration_seconds_count", operation)] == REQUESTS
        assert samples[("newsdesk_http_requests_total", requests)] == REQUESTS
        builds = [value for (name, _), value in samples.items() if name == "newsdesk_build_total"]
        assert builds == [2]  # one a process, summed over both
        workers = {
            dict(labels)["worker"]
            for name, labels in samples
            if name == "newsdesk_compiled_reads_total"
        }
        assert len(workers) == 1  # in-memory counts: the answering worker's, labelled
    assert len([name for name in made if name.startswith("newsdesk-metrics-")]) == 1
    assert not list(Path(temporary).iterdir())  # removed when the server stopped
