"""docker-compose.yml describes a working production deployment: PostgreSQL, Redis, a
one-shot migration, app replicas wired to them, and a proxy that routes by readiness."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from cms import dispatch
from cms.config import Settings
from cms.http import shutdown as http_shutdown

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


def test_the_services_exist(services: dict[str, Any]) -> None:
    assert {"app", "db", "redis", "migrate", "proxy"} <= set(services)


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


# --- replicas, migrations, proxy and shutdown (issue 16) --------------------------------

PROXY_CONFIG_TARGET = "/usr/local/etc/haproxy/haproxy.cfg"


def _duration_seconds(value: str) -> float:
    """Compose's durations as used here: "35s", "1m30s", "500ms"."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    assert parts and "".join(n + u for n, u in parts) == value, value
    return sum(float(number) * units[unit] for number, unit in parts)


@pytest.fixture(scope="module")
def proxy_config(services: dict[str, Any]) -> str:
    for volume in services["proxy"]["volumes"]:
        source, target = volume.split(":")[:2]
        if target == PROXY_CONFIG_TARGET:
            path = COMPOSE_FILE.parent / source
            assert path.is_file(), f"{source} is mounted but missing"
            return path.read_text(encoding="utf-8")
    pytest.fail(f"the proxy has no configuration mounted at {PROXY_CONFIG_TARGET}")


def test_migrations_run_once_before_the_replicas(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert _command(migrate)[:2] == ["cms", "migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert str(migrate.get("restart", "no")) == "no"
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_replicas_do_not_migrate_themselves(app_env: dict[str, str]) -> None:
    assert app_env["CMS_AUTO_MIGRATE"] == "false"


def test_migrate_uses_the_apps_image_and_database(
    services: dict[str, Any], app_env: dict[str, str]
) -> None:
    migrate_env = {
        name: _interpolate(str(value)) for name, value in services["migrate"]["environment"].items()
    }
    assert services["migrate"]["image"] == services["app"]["image"]
    assert migrate_env["CMS_DATABASE_URL"] == app_env["CMS_DATABASE_URL"]


def test_the_app_runs_as_replicas_behind_one_published_port(services: dict[str, Any]) -> None:
    app = services["app"]
    assert int(app["deploy"]["replicas"]) > 1
    assert "ports" not in app, "replicas cannot share a host port: publish the proxy's"
    assert "container_name" not in app, "a fixed name prevents `--scale`"
    assert len(services["proxy"]["ports"]) == 1
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_the_proxy_finds_replicas_by_name_and_routes_by_readiness(proxy_config: str) -> None:
    assert re.search(r"^\s*server-template\s+\S+\s+\d+\s+app:8000\b", proxy_config, re.M)
    assert re.search(r"^\s*http-check send meth GET uri /readyz\s*$", proxy_config, re.M)
    assert re.search(r"^\s*http-check expect status 200\s*$", proxy_config, re.M)
    assert "127.0.0.11" in proxy_config, "Docker's DNS, which knows every replica"


def test_the_proxy_publishes_the_port_it_binds(services: dict[str, Any], proxy_config: str) -> None:
    bind = re.search(r"^\s*bind\s+:(\d+)", proxy_config, re.M)
    assert bind is not None
    [published] = services["proxy"]["ports"]
    assert str(published).rsplit(":", 1)[1] == bind.group(1)


def test_a_replica_stops_within_its_grace_period(
    services: dict[str, Any], app_env: dict[str, str], proxy_config: str
) -> None:
    """Docker's SIGKILL comes after stop_grace_period: it must outlast the drain, the
    requests in flight and the dispatcher's deliveries in flight (cut off after the webhook
    timeout and a margin); the drain must outlast the proxy's check interval."""
    grace = _duration_seconds(str(services["app"]["stop_grace_period"]))
    shutdown = float(app_env["CMS_SHUTDOWN_SECONDS"])
    drain = float(app_env["CMS_SHUTDOWN_DRAIN_SECONDS"])
    interval = re.search(r"\binter\s+(\d+(?:ms|s))", proxy_config)
    assert interval is not None
    webhook_timeout = float(
        app_env.get(
            "CMS_WEBHOOK_TIMEOUT_SECONDS", Settings.model_fields["webhook_timeout_seconds"].default
        )
    )
    dispatcher = webhook_timeout + dispatch.STOP_MARGIN_SECONDS + 2 * dispatch.RELEASE_SECONDS
    assert grace > drain + http_shutdown.SOCKETS_CLOSE_SECONDS + shutdown + dispatcher
    assert drain > _duration_seconds(interval.group(1))
