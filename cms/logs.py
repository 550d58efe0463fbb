"""The server's log: JSON lines in production, human lines in development (CMS_LOG_FORMAT).

Every line carries the time (UTC, ISO-8601), the level, the logger, the message and the
request id; a request's access line (cms.http.access) adds its method, path, status,
duration, GraphQL operation, the viewer's role and its SQL statement count as fields.
An exception's traceback goes in the same line (`exception` in JSON).

Secrets never reach the log, whichever code wrote the line: `redact` is the one place
that knows what a secret looks like (API tokens, webhook secrets, preview tokens and
signing keys, `Authorization`/`Cookie` values, secret-looking query parameters), and
both formatters pass every message, field and traceback through it. The access line
itself never holds a header or a query string.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Final, Literal

import orjson

__all__ = [
    "ACCESS_LOGGER",
    "REDACTED",
    "JsonFormatter",
    "TextFormatter",
    "config",
    "redact",
]

ACCESS_LOGGER: Final = "cms.access"

REDACTED: Final = "[redacted]"

# What a secret looks like, each with what stays of it (a prefix tells kinds apart).
_SECRETS: Final = (
    # Authorization / Cookie header values, however they were written into a message.
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+"), r"\1 " + REDACTED),
    (re.compile(r"(?i)\b(authorization|cookie|set-cookie)(\"?\s*[:=]\s*\"?)[^\n\"]*"),
     r"\1\2" + REDACTED),
    # API tokens (cms.auth.tokens: ndk_ + 43 characters) and webhook secrets (whsec_…).
    (re.compile(r"\bndk_[A-Za-z0-9_-]+"), "ndk_" + REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), "whsec_" + REDACTED),
    # Query parameters and JSON fields that carry secrets (preview links' ?token=).
    (re.compile(r"(?i)\b(token|secret|password|signature|api_key)(\"?\s*[=:]\s*\"?)"
                r"[^&\s\"',;]+"), r"\1\2" + REDACTED),
    # Preview tokens (claims.signature) and signing keys: 32 random or HMAC bytes in
    # base64url are 43 characters.
    (re.compile(r"(?<![A-Za-z0-9_-])(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
     REDACTED),
)  # fmt: skip
# A line holds no secret unless it has one of these words or a run of 43 base64url
# characters (a cheap test first: most lines have neither).
_WORDS: Final = (
    "bearer", "basic", "authorization", "cookie", "ndk_", "whsec_", "token", "secret",
    "password", "signature", "api_key",
)  # fmt: skip
_RUN: Final = re.compile(r"[A-Za-z0-9_-]{43}")
# Fields never written, whatever their value.
_NEVER: Final = frozenset({"authorization", "cookie", "token", "secret", "headers", "password"})
# Fields whose values are the server's own words (an HTTP method, an operation type, an
# outcome, a role) or numbers: nothing to redact.
_OWN_WORDS: Final = frozenset(
    {"method", "status", "duration_ms", "operation_type", "outcome", "role", "sql"}
)


def redact(text: str) -> str:
    """`text` with every secret in it replaced by [redacted]."""
    lowered = text.lower()
    if not any(word in lowered for word in _WORDS) and not _RUN.search(text):
        return text  # the common case: no substitutions
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


# The attributes every LogRecord has; anything else came in `extra=` and is a field.
_STANDARD: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)


def _utc(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(record).items()
        if name not in _STANDARD and name.lower() not in _NEVER
    }


def _safe(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the
    record's fields (`extra=`), then `exception` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name, value in _fields(record).items():
            line[name] = value if name in _OWN_WORDS else _safe(value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """A human line: `2026-11-30T09:00:00.123Z INFO [request id] logger: message`, then the
    traceback, redacted as a whole."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return redact(super().format(record))


def config(log_format: Literal["json", "text"], *, level: str = "INFO") -> dict[str, Any]:
    """logging.dictConfig for the server (uvicorn's loggers included). Uvicorn's own
    access line is off: cms.http.access writes one per request with more in it."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "cms.http.middleware.RequestIdFilter"}},
        "formatters": {"default": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "": {"handlers": ["default"], "level": level},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": "WARNING", "propagate": False, "handlers": []},
        },
    }
