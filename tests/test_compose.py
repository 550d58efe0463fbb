"""docker-compose.yml describes a working production deployment: PostgreSQL, Redis and a
multi-worker app wired to them, each with a health check."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def _interpolate(value: str) -> str:
    """What compose does with ${NAME:-default} when NAME is unset."""
    return _VARIABLE.sub(lambda match: match.group("default") or "", value).replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    services: dict[str, Any] = compose["services"]
    return services


@pytest.fixture(scope="module")
def app_env(services: dict[str, Any]) -> dict[str, str]:
    environment = services["app"]["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: _interpolate(str(value)) for name, value in environment.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]


def _healthcheck(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(str(arg) for arg in test)


def test_the_three_services_exist(services: dict[str, Any]) -> None:
    assert {"app", "db", "redis"} <= set(services)


def test_app_waits_for_healthy_db_and_redis(services: dict[str, Any]) -> None:
    depends_on = services["app"]["depends_on"]
    assert {"db", "redis"} <= set(depends_on)
    if isinstance(depends_on, dict):
        for name in ("db", "redis"):
            assert depends_on[name]["condition"] == "service_healthy"


def test_app_uses_the_db_service_over_postgres(app_env: dict[str, str]) -> None:
    url = urlsplit(app_env["CMS_DATABASE_URL"])
    assert url.scheme in {"postgres", "postgresql", "psycopg", "asyncpg"}
    assert url.hostname == "db"
    assert url.path.lstrip("/")


def test_app_uses_the_redis_service(app_env: dict[str, str]) -> None:
    url = urlsplit(app_env["CMS_REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname == "redis"


def test_app_runs_in_production_mode(app_env: dict[str, str]) -> None:
    assert app_env["CMS_ENV"] == "production"


def test_app_healthcheck_targets_healthz(services: dict[str, Any]) -> None:
    assert "/healthz" in _healthcheck(services["app"])


def test_media_volume_is_mounted_at_the_media_dir(
    compose: dict[str, Any], services: dict[str, Any], app_env: dict[str, str]
) -> None:
    media_dir = app_env["CMS_MEDIA_DIR"]
    mounts = {}
    for volume in services["app"]["volumes"]:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        mounts[target] = source
    assert media_dir in mounts
    assert mounts[media_dir] in (compose.get("volumes") or {}), "a named volume, not a host path"


def test_app_runs_several_workers(services: dict[str, Any]) -> None:
    command = _command(services["app"])
    assert "--workers" in command
    assert int(command[command.index("--workers") + 1]) > 1


@pytest.mark.parametrize("name", ["db", "redis"])
def test_backing_services_have_healthchecks(services: dict[str, Any], name: str) -> None:
    assert _healthcheck(services[name])
