"""Settings from the environment (CMS_ prefix) or a .env file. The only reader of the env."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated, Any, Literal, cast

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


# A language tag (en, uk, uk-UA), as content's locale column holds it.
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_MAX_LOCALE = 16  # the content table's locale column


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CMS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite://data/cms.sqlite3"
    redis_url: str | None = None
    # Seconds to connect to Redis or wait for its answer; and between checks whether an
    # unreachable Redis is back (meanwhile each worker uses its own memory).
    redis_timeout_seconds: float = Field(default=0.5, gt=0)
    redis_retry_seconds: float = Field(default=5.0, gt=0)
    media_dir: str = "data/media"
    public_url: str = "http://127.0.0.1:8000"
    site_url: str | None = None
    # Where a preview link opens (createPreviewLink): a URL with {token} in it, such as
    # "https://news.example/api/preview?secret={token}". Unset: <site>/preview?token={token}.
    preview_url: str | None = None
    site_name: str = "Newsdesk"
    env: Literal["development", "production", "test"] = "development"
    graphiql: bool | None = None
    graphiql_assets_url: str | None = None
    graphiql_assets_dir: str = "data/graphiql-assets"
    cors_origins: str = ""
    auto_migrate: bool = True
    # The access-log line per request (cms.http.access: status, duration, GraphQL
    # operation, role, SQL count): on unless false.
    access_log: bool | None = None
    # prometheus-client's multiprocess directory (its own variable, PROMETHEUS_MULTIPROC_DIR):
    # when set, /metrics sums the metrics of every worker writing there. `cms serve
    # --workers N` (N > 1) makes a temporary one when it is unset.
    metrics_dir: str | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "CMS_METRICS_DIR")
    )
    # The server's log lines: "json" (one object a line, for a log collector) or "text"
    # (for a person). Unset: json in production, text otherwise.
    log_format: Literal["json", "text"] | None = None
    # Introspection and "Did you mean …?" in error messages: on in development, off in
    # production (both show the schema to whoever asks); true or false decides.
    introspection: bool | None = None
    run_dispatcher: bool = True
    # The dispatcher (cms/dispatch.py): outbox events it claims and sends out per round,
    # and how long its claim on them lasts (a worker that dies mid-round leaves them to
    # another once the lease is over; one that stops releases them at once).
    dispatch_batch_size: int = Field(default=200, ge=1, le=1000)
    dispatch_lease_seconds: float = Field(default=30.0, gt=0)
    # Webhook deliveries sent at once by one worker (cms/webhooks/courier.py); one
    # receiver holds at most a quarter of them (8 of 32: 160 a second to a receiver that
    # answers in 50 ms), so a slow one never stalls the others.
    webhook_concurrency: int = Field(default=32, ge=1, le=1000)
    # Seconds requests in flight get to finish after a worker stops accepting (SIGTERM);
    # an orchestrator's grace period (compose's stop_grace_period) should outlast it plus
    # the drain below.
    shutdown_seconds: int = Field(default=25, ge=1)
    # Seconds a worker keeps serving after SIGTERM while /readyz answers 503, so a load
    # balancer that polls /readyz takes it out of rotation before it stops accepting.
    shutdown_drain_seconds: float = Field(default=0.0, ge=0)

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
    # The most items `pinned(section:)` shows (the most recently pinned).
    max_pinned: int = Field(default=3, ge=1, le=10)
    # Search by relevance ranks the newest this many matches (cms/content/search.py).
    search_depth: int = Field(default=300, ge=1, le=100_000)
    # The most objects one operation may ask for, estimated before any SQL (schema/cost.py).
    max_nodes: int = Field(default=10_000, ge=1)
    # Milliseconds a GraphQL read may spend in the database before its statement is
    # stopped (QUERY_TIMEOUT); 0: no budget. Writes, migrations and the CLI have none.
    query_timeout_ms: int = Field(default=5_000, ge=0)
    # The largest request body, in bytes (413 above it); multipart uploads may add a file.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # Seconds a WebSocket may stay open without connection_init (then closed with 4408).
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0)
    # Rate limits (token buckets): "<requests>/<seconds>", the burst being <requests>;
    # "off" or "0" turns one off. CMS_RATE_LIMIT is per client address (requests without a
    # token), CMS_TOKEN_RATE_LIMIT per token. Unset: 600/60 and 6000/60 in production,
    # off otherwise (development, tests, the benchmark's own settings).
    rate_limit: str | None = None
    token_rate_limit: str | None = None
    # Proxies whose X-Forwarded-For is believed: a comma list of addresses or CIDRs
    # ("10.0.0.0/8,127.0.0.1"). Empty: the client address is the connection's peer.
    trusted_proxies: str = ""
    # Subscriptions one WebSocket may hold at once; past it `subscribe` gets an `error`.
    max_subscriptions_per_connection: int = Field(default=10, ge=1)
    # WebSockets one client address may hold open in a worker process; past it: 4429.
    max_connections_per_client: int = Field(default=20, ge=1)
    # Messages waiting for a socket that does not read; past it the socket is dropped (4429).
    ws_max_pending_messages: int = Field(default=100, ge=1)

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
    # The locales content may have (CMS_LOCALES=en,uk); another is a ValidationError.
    locales: Annotated[tuple[str, ...], NoDecode] = ("en", "uk")

    @field_validator("public_url", "site_url", "graphiql_assets_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("preview_url")
    @classmethod
    def _preview_url_has_token(cls, value: str | None) -> str | None:
        if not value:
            return None  # blank: the default
        if "{token}" not in value:
            raise ValueError(
                "a preview URL contains {token}, where the link's token goes, such as "
                "https://news.example/preview?token={token}"
            )
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower() or None
        if value not in (None, "json", "text"):
            raise ValueError("json (one JSON object a line) or text (lines for a person)")
        return value

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

    @field_validator("locales", mode="before")
    @classmethod
    def _locales(cls, value: object) -> tuple[str, ...]:
        """A comma list such as "en,uk" -> ("en", "uk"): language tags, at least one."""
        parts = value.split(",") if isinstance(value, str) else value
        try:
            locales = tuple(dict.fromkeys(str(part).strip() for part in cast(Iterable[Any], parts)))
        except TypeError:
            locales = ()
        locales = tuple(locale for locale in locales if locale)
        if not locales or not all(
            len(locale) <= _MAX_LOCALE and _LOCALE.fullmatch(locale) for locale in locales
        ):
            raise ValueError(
                "language tags of at most 16 characters separated by commas, such as en,uk "
                "or en,uk-UA"
            )
        return locales

    @field_validator("rate_limit", "token_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_rate(value)  # refused at start-up, not on the first request
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an address or CIDR") from None
        return value

    @field_validator("article_path", "video_episode_path")
    @classmethod
    def _path_has_slug(cls, value: str) -> str:
        if "{slug}" not in value or not value.startswith("/"):
            raise ValueError("a content path starts with / and contains {slug}")
        try:
            value.format(slug="s", locale="l")
        except (KeyError, IndexError, ValueError):
            raise ValueError(
                "a content path may hold {slug} and {locale}, and no other braces"
            ) from None
        return value

    @model_validator(mode="after")
    def _default_locale_is_a_locale(self) -> Settings:
        if self.default_locale not in self.locales:
            raise ValueError(
                f"CMS_DEFAULT_LOCALE ({self.default_locale}) must be one of CMS_LOCALES "
                f"({','.join(self.locales)})"
            )
        return self

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
        return self.access_log is not False

    @property
    def log_lines(self) -> Literal["json", "text"]:
        """CMS_LOG_FORMAT, or its default for CMS_ENV."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "text"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def allowed_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def address_rate(self) -> tuple[int, float] | None:
        """(requests, seconds) per client address, or None when off."""
        default = _PRODUCTION_RATE if self.is_production else None
        return _parse_rate(self.rate_limit) if self.rate_limit is not None else default

    @property
    def token_rate(self) -> tuple[int, float] | None:
        """(requests, seconds) per token, or None when off."""
        default = _PRODUCTION_TOKEN_RATE if self.is_production else None
        return _parse_rate(self.token_rate_limit) if self.token_rate_limit is not None else default

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)

    @property
    def website_url(self) -> str:
        return self.site_url or self.public_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


_PRODUCTION_RATE: tuple[int, float] = (600, 60.0)
_PRODUCTION_TOKEN_RATE: tuple[int, float] = (6000, 60.0)


def _parse_rate(value: str) -> tuple[int, float] | None:
    """ "600/60" -> (600, 60.0); "off", "0" or "" -> None."""
    text = value.strip().lower()
    if text in ("", "0", "off", "false"):
        return None
    requests, slash, seconds = text.partition("/")
    try:
        rate = (int(requests), float(seconds))
    except ValueError:
        rate = (0, 0.0)
    if not slash or rate[0] < 1 or not (0 < rate[1] < math.inf):
        raise ValueError('a rate limit is "<requests>/<seconds>" such as "600/60", or "off"')
    return rate


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
