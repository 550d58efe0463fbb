"""Settings from the environment (CMS_ prefix) or a .env file. The only reader of the env."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated, Any, Literal, cast

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CMS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite://data/cms.sqlite3"
    redis_url: str | None = None
    media_dir: str = "data/media"
    public_url: str = "http://127.0.0.1:8000"
    site_url: str | None = None
    site_name: str = "Newsdesk"
    env: Literal["development", "production", "test"] = "development"
    graphiql: bool | None = None
    graphiql_assets_url: str | None = None
    graphiql_assets_dir: str = "data/graphiql-assets"
    cors_origins: str = ""
    auto_migrate: bool = True
    # uvicorn's access-log line per request: on in development, off in production (where
    # the proxy logs requests); true or false decides.
    access_log: bool | None = None
    # Introspection and "Did you mean …?" in error messages: on in development, off in
    # production (both show the schema to whoever asks); true or false decides.
    introspection: bool | None = None
    run_dispatcher: bool = True

    webhook_allow_private: bool = True
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Seconds between delivery attempts: 10 attempts over about 3 days, the first retry
    # within about 5 s. From the environment: CMS_WEBHOOK_RETRY_SCHEDULE=5,300,1800.
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = (
        5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0,
    )  # fmt: skip

    max_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    # The most objects one operation may ask for, estimated before any SQL (schema/cost.py).
    max_nodes: int = Field(default=10_000, ge=1)
    # Milliseconds a GraphQL read may spend in the database before its statement is
    # stopped (QUERY_TIMEOUT); 0: no budget. Writes, migrations and the CLI have none.
    query_timeout_ms: int = Field(default=5_000, ge=0)
    # The largest request body, in bytes (413 above it); multipart uploads may add a file.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # Seconds a WebSocket may stay open without connection_init (then closed with 4408).
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0)

    response_cache: bool = True
    # Answer reads from compiled plans (schema/plans); false: graphql-core answers all.
    compiled_reads: bool = True
    cache_max_age: int = Field(default=5, ge=0)
    cache_stale_while_revalidate: int = Field(default=30, ge=0)
    cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    cache_generation_seconds: float = Field(default=1.0, gt=0)
    persisted_only: bool = False
    persisted_queries_file: str | None = None

    article_path: str = "/news/{slug}"
    video_episode_path: str = "/video/{slug}"
    default_locale: str = "en"

    @field_validator("public_url", "site_url", "graphiql_assets_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _retry_schedule(cls, value: object) -> tuple[float, ...]:
        """A comma list such as "5,300,1800" (or numbers) -> (5.0, 300.0, 1800.0); "": none."""
        parts = value.replace(" ", "").split(",") if isinstance(value, str) else value
        try:
            delays = tuple(float(part) for part in cast(Iterable[Any], parts) if part != "")
        except (TypeError, ValueError):
            delays = (-1.0,)
        if any(delay < 0 or not math.isfinite(delay) for delay in delays):
            raise ValueError("seconds between attempts, zero or more, such as 5,300,1800")
        return delays

    @field_validator("article_path", "video_episode_path")
    @classmethod
    def _path_has_slug(cls, value: str) -> str:
        if "{slug}" not in value or not value.startswith("/"):
            raise ValueError("a content path starts with / and contains {slug}")
        return value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.is_production and "*" in self.allowed_origins:
            raise ValueError("CMS_CORS_ORIGINS='*' is refused in production: list the origins")
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def access_log_enabled(self) -> bool:
        return self.access_log if self.access_log is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def allowed_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def website_url(self) -> str:
        return self.site_url or self.public_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
