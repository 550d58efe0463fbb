"""Settings (cms.config): defaults, the CMS_ environment and .env file, and the checks that
refuse a bad setting before anything starts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from cms.config import Settings, get_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CMS_ variable from the caller's shell, and no .env file but the test's own."""
    for name in list(os.environ):
        if name.upper().startswith("CMS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_run_a_development_newsroom_on_sqlite() -> None:
    settings = Settings()

    assert settings.database_url == "sqlite://data/cms.sqlite3"
    assert (settings.redis_url, settings.env) == (None, "development")
    assert settings.is_sqlite
    assert not settings.is_production
    assert settings.graphiql_enabled
    assert settings.allowed_origins == []
    assert settings.website_url == settings.public_url == "http://127.0.0.1:8000"
    assert (settings.article_path, settings.video_episode_path) == ("/news/{slug}", "/video/{slug}")
    assert (settings.max_page_size, settings.default_locale) == (100, "en")
    assert settings.cache_max_bytes == 64 * 1024 * 1024


def test_the_environment_is_read_under_cms_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMS_DATABASE_URL", "postgres://newsdesk@db:5432/newsdesk")
    monkeypatch.setenv("CMS_ENV", "production")
    monkeypatch.setenv("CMS_MAX_PAGE_SIZE", "50")
    monkeypatch.setenv("CMS_RUN_DISPATCHER", "false")
    monkeypatch.setenv("CMS_CORS_ORIGINS", " https://news.example , https://app.example,")
    monkeypatch.setenv("CMS_SITE_URL", "https://news.example")
    monkeypatch.setenv("DATABASE_URL", "sqlite://not-ours.sqlite3")  # no prefix: ignored
    monkeypatch.setenv("CMS_NO_SUCH_SETTING", "ignored")

    settings = Settings()

    assert settings.database_url == "postgres://newsdesk@db:5432/newsdesk"
    assert not settings.is_sqlite
    assert settings.is_production
    assert (settings.max_page_size, settings.run_dispatcher) == (50, False)
    assert settings.allowed_origins == ["https://news.example", "https://app.example"]
    assert settings.website_url == "https://news.example"
    assert not settings.graphiql_enabled


def test_a_dotenv_file_is_read_and_the_environment_and_arguments_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "CMS_SITE_NAME=Kharkiv Daily\nCMS_MAX_DEPTH=8\nCMS_MAX_ALIASES=9\n"
    )
    monkeypatch.setenv("CMS_MAX_DEPTH", "10")

    settings = Settings(max_aliases=11)

    assert (settings.site_name, settings.max_depth, settings.max_aliases) == (
        "Kharkiv Daily",
        10,
        11,
    )


def test_get_settings_reads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMS_SITE_NAME", "First")
    first = get_settings()
    monkeypatch.setenv("CMS_SITE_NAME", "Second")

    assert get_settings() is first
    assert first.site_name == "First"


def test_trailing_slashes_are_stripped_from_urls() -> None:
    settings = Settings(
        public_url="https://cms.example/",
        site_url="https://news.example//",
        graphiql_assets_url="https://cdn.example/graphiql/",
    )

    assert settings.public_url == "https://cms.example"
    assert settings.website_url == "https://news.example"
    assert settings.graphiql_assets_url == "https://cdn.example/graphiql"


@pytest.mark.parametrize(
    ("schedule", "delays"),
    [
        ("5,300,1800", (5.0, 300.0, 1800.0)),
        ("5, 300 ,1800", (5.0, 300.0, 1800.0)),
        ("0.5", (0.5,)),
        ("", ()),
        ((5, 0), (5.0, 0.0)),
    ],
)
def test_a_retry_schedule_of_seconds_is_parsed(
    schedule: str | tuple[float, ...], delays: tuple[float, ...]
) -> None:
    assert Settings(webhook_retry_schedule=schedule).webhook_retry_schedule == delays  # type: ignore[arg-type]


def test_the_retry_schedule_is_read_from_its_comma_form(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().webhook_retry_schedule[:3] == (5.0, 300.0, 1800.0)
    monkeypatch.setenv("CMS_WEBHOOK_RETRY_SCHEDULE", "1,2")

    assert Settings().webhook_retry_schedule == (1.0, 2.0)


@pytest.mark.parametrize("schedule", ["5,-1", "5,soon", "5,inf", "nan", "5;300", (5, -1)])
def test_a_bad_retry_schedule_is_refused(schedule: str | tuple[float, ...]) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(webhook_retry_schedule=schedule)  # type: ignore[arg-type]

    assert refused.value.errors()[0]["loc"] == ("webhook_retry_schedule",)


@pytest.mark.parametrize("path", ["/news/", "news/{slug}", "", "/news/{id}"])
def test_a_content_path_must_start_with_a_slash_and_contain_the_slug(path: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(article_path=path)
    assert refused.value.errors()[0]["loc"] == ("article_path",)

    with pytest.raises(ValidationError):
        Settings(video_episode_path=path)


def test_a_content_path_may_place_the_slug_anywhere() -> None:
    settings = Settings(article_path="/{slug}.html", video_episode_path="/watch/{slug}/")

    assert (settings.article_path, settings.video_episode_path) == (
        "/{slug}.html",
        "/watch/{slug}/",
    )


@pytest.mark.parametrize("origins", ["*", "https://news.example,*", " * "])
def test_any_origin_is_refused_in_production(origins: str) -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(env="production", cors_origins=origins)


def test_any_origin_is_allowed_outside_production() -> None:
    assert Settings(env="development", cors_origins="*").allowed_origins == ["*"]
    assert Settings(env="production", cors_origins="https://news.example").allowed_origins == [
        "https://news.example"
    ]


@pytest.mark.parametrize(
    ("env", "graphiql", "enabled"),
    [
        ("development", None, True),
        ("test", None, True),
        ("production", None, False),
        ("production", True, True),
        ("development", False, False),
    ],
)
def test_graphiql_is_on_by_default_except_in_production(
    env: str, graphiql: bool | None, enabled: bool
) -> None:
    assert Settings(env=env, graphiql=graphiql).graphiql_enabled is enabled  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "sqlite"),
    [
        ("sqlite://data/cms.sqlite3", True),
        ("sqlite://:memory:", True),
        ("sqlite:///var/lib/newsdesk/cms.sqlite3", True),
        ("postgres://newsdesk@127.0.0.1:5432/newsdesk", False),
        ("asyncpg://newsdesk@127.0.0.1/newsdesk", False),
    ],
)
def test_is_sqlite_follows_the_database_url(url: str, sqlite: bool) -> None:
    assert Settings(database_url=url).is_sqlite is sqlite


@pytest.mark.parametrize(
    "values",
    [
        {"env": "staging"},
        {"max_page_size": 0},
        {"max_depth": 0},
        {"webhook_timeout_seconds": 0},
        {"cache_max_age": -1},
        {"cache_generation_seconds": 0},
        {"dispatch_batch_size": 0},
        {"dispatch_batch_size": 1001},
        {"dispatch_lease_seconds": 0},
        {"webhook_concurrency": 0},
    ],
    ids=lambda values: f"{next(iter(values))}={next(iter(values.values()))}",
)
def test_out_of_range_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)  # type: ignore[arg-type]

    assert refused.value.errors()[0]["loc"] == (next(iter(values)),)


@pytest.mark.parametrize(
    "values",
    [{"dispatch_lease_seconds": 0}, {"shutdown_seconds": 0}, {"shutdown_drain_seconds": -1}],
    ids=lambda values: next(iter(values)),
)
def test_leases_and_shutdown_times_out_of_range_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)  # type: ignore[arg-type]

    assert refused.value.errors()[0]["loc"] == (next(iter(values)),)


def test_leases_and_shutdown_times_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CMS_DISPATCH_LEASE_SECONDS", "2.5")
    monkeypatch.setenv("CMS_SHUTDOWN_SECONDS", "40")
    monkeypatch.setenv("CMS_SHUTDOWN_DRAIN_SECONDS", "5")
    settings = Settings()

    assert (settings.dispatch_lease_seconds, settings.shutdown_seconds) == (2.5, 40)
    assert settings.shutdown_drain_seconds == 5
    assert (
        Settings.model_fields["dispatch_lease_seconds"].default,
        Settings.model_fields["shutdown_seconds"].default,
        Settings.model_fields["shutdown_drain_seconds"].default,
    ) == (30.0, 25, 0.0)


@pytest.mark.parametrize(
    ("env", "access_log", "enabled"),
    [
        ("development", None, True),
        ("production", None, True),
        ("production", False, False),
        ("development", False, False),
    ],
)
def test_the_access_log_is_on_unless_turned_off(
    env: str, access_log: bool | None, enabled: bool
) -> None:
    settings = Settings(env=env, access_log=access_log)  # type: ignore[arg-type]

    assert settings.access_log_enabled is enabled


# --- locales (issue 15) ----------------------------------------------------------------


def test_content_locales_default_to_english_and_ukrainian() -> None:
    settings = Settings()

    assert settings.locales == ("en", "uk")
    assert settings.default_locale in settings.locales


@pytest.mark.parametrize(
    ("value", "locales"),
    [
        ("en,uk", ("en", "uk")),
        (" en , uk ,pl", ("en", "uk", "pl")),
        ("en,uk,en", ("en", "uk")),
        ("en,,uk,", ("en", "uk")),
        ("uk-UA,en", ("uk-UA", "en")),
        ("en", ("en",)),
        (("en", "de"), ("en", "de")),
    ],
)
def test_cms_locales_is_a_comma_list_of_language_tags(
    monkeypatch: pytest.MonkeyPatch, value: str | tuple[str, ...], locales: tuple[str, ...]
) -> None:
    if isinstance(value, str):
        monkeypatch.setenv("CMS_LOCALES", value)
        assert Settings().locales == locales
    assert Settings(locales=value).locales == locales  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", " , ", "EN", "en;uk", "e", "english", "en_GB", "en,u k"])
def test_a_malformed_cms_locales_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(locales=value)  # type: ignore[arg-type]

    assert refused.value.errors()[0]["loc"] == ("locales",)


def test_a_locale_longer_than_content_can_store_is_refused() -> None:
    """Content's locale column holds 16 characters (cms.content.inputs.MAX_LOCALE): a
    longer CMS_LOCALES entry could never be used, so it is refused at start-up."""
    assert Settings(locales="en,en-abcdefgh-abcd").locales == ("en", "en-abcdefgh-abcd")

    with pytest.raises(ValidationError) as refused:
        Settings(locales="en,en-abcdefgh-abcde")  # type: ignore[arg-type]

    assert refused.value.errors()[0]["loc"] == ("locales",)


def test_the_default_locale_must_be_one_of_the_locales(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(default_locale="pl")
    message = str(refused.value)
    assert "CMS_DEFAULT_LOCALE" in message and "CMS_LOCALES" in message
    assert "pl" in message and "en,uk" in message

    monkeypatch.setenv("CMS_LOCALES", "uk,pl")
    with pytest.raises(ValidationError, match="CMS_DEFAULT_LOCALE"):
        Settings()  # the default locale, en, is not among them
    monkeypatch.setenv("CMS_DEFAULT_LOCALE", "uk")
    assert (Settings().default_locale, Settings().locales) == ("uk", ("uk", "pl"))
    assert Settings(default_locale="pl").default_locale == "pl"


def test_a_content_path_may_hold_the_locale() -> None:
    settings = Settings(
        article_path="/{locale}/news/{slug}", video_episode_path="/watch/{slug}.{locale}"
    )

    assert (settings.article_path, settings.video_episode_path) == (
        "/{locale}/news/{slug}",
        "/watch/{slug}.{locale}",
    )


@pytest.mark.parametrize(
    "path", ["/{lang}/news/{slug}", "/news/{slug}/{}", "/news/{slug}/{0}", "/news/{slug}}"]
)
def test_a_content_path_with_other_braces_is_refused(path: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(article_path=path)
    assert refused.value.errors()[0]["loc"] == ("article_path",)

    with pytest.raises(ValidationError):
        Settings(video_episode_path=path)


# --- logs and metrics (issue 16) ------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "log_format", "lines"),
    [
        ("development", None, "text"),
        ("production", None, "json"),
        ("production", "text", "text"),
        ("development", " JSON ", "json"),
    ],
)
def test_log_lines_are_json_in_production_unless_told(
    env: str, log_format: str | None, lines: str
) -> None:
    settings = Settings(env=env, log_format=log_format)  # type: ignore[arg-type]

    assert settings.log_lines == lines


def test_an_unknown_log_format_is_refused_with_the_choices() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(log_format="xml")  # type: ignore[arg-type]

    error = refused.value.errors()[0]
    assert error["loc"] == ("log_format",)
    assert "json" in error["msg"] and "text" in error["msg"]


def test_the_metrics_directory_is_prometheus_clients_own_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert Settings().metrics_dir is None
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    assert Settings().metrics_dir == str(tmp_path)


def test_the_dispatcher_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = Settings()
    assert (defaults.dispatch_batch_size, defaults.dispatch_lease_seconds) == (200, 30.0)
    assert defaults.webhook_concurrency == 32
    monkeypatch.setenv("CMS_DISPATCH_BATCH_SIZE", "50")
    monkeypatch.setenv("CMS_DISPATCH_LEASE_SECONDS", "2.5")
    monkeypatch.setenv("CMS_WEBHOOK_CONCURRENCY", "4")
    settings = Settings()
    assert (settings.dispatch_batch_size, settings.dispatch_lease_seconds) == (50, 2.5)
    assert settings.webhook_concurrency == 4
