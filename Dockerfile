# The Newsdesk app image. docker-compose.yml runs it beside PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CMS_MEDIA_DIR=/data/media

WORKDIR /app

# Only what the package needs (no .venv, data/ or tests in the image).
COPY pyproject.toml README.md ./
COPY cms ./cms
COPY schema ./schema

RUN pip install . \
    && rm -rf build *.egg-info \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin newsdesk \
    && mkdir -p /data/media \
    && chown newsdesk:newsdesk /data/media

USER newsdesk

EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

# `cms serve` applies pending migrations before it starts serving (CMS_AUTO_MIGRATE=true).
CMD ["cms", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
