"""Each package's public surface is deliberate, as httpx's tests/test_exported_members.py
has it: its `__all__` is pinned here, and every name in it exists. A package that
re-exports its modules (cms.content: every service module, or none) re-exports each
module that importing it brings in, so none is reachable by accident."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SURFACES: dict[str, list[str]] = {
    "cms": ["__version__"],
    "cms.auth": ["policy", "roles", "tokens", "viewer"],
    "cms.cache": ["changes", "stores", "tags", "versions"],
    "cms.content": [
        "corrections",
        "editing",
        "enums",
        "feed",
        "ids",
        "inputs",
        "items",
        "links",
        "lookups",
        "ninjs",
        "payloads",
        "people",
        "pins",
        "previews",
        "publishing",
        "raw_sql",
        "records",
        "rendering",
        "review",
        "revisions",
        "search",
        "slugs",
        "syndication",
        "taxonomy",
        "text",
        "times",
        "translations",
        "upserts",
        "visibility",
    ],
    "cms.demo": [],
    "cms.events": ["backlog", "outbox"],
    "cms.http": [],
    "cms.media": ["images", "png", "service", "storage"],
    "cms.portability": ["backup", "export", "import_", "lines"],
    "cms.models": [
        "ApiToken",
        "Author",
        "AuthorKind",
        "Content",
        "ContentAuthor",
        "ContentKind",
        "ContentStatus",
        "ContentTag",
        "Correction",
        "DeliveryStatus",
        "Media",
        "OutboxEvent",
        "Revision",
        "Section",
        "SigningKey",
        "Tag",
        "Webhook",
        "WebhookDelivery",
    ],
    "cms.webhooks": ["addresses", "courier", "deliveries", "records", "service", "signing"],
    "schema": ["Context", "Info", "NewsdeskSchema", "build_schema"],
    "schema.plans": ["codegen", "compiler", "extension", "plan"],
    "schema.types": [],
}
MODULE_PACKAGES = [
    "cms.auth",
    "cms.cache",
    "cms.content",
    "cms.events",
    "cms.media",
    "cms.portability",
    "cms.webhooks",
    "schema.plans",
]


def _packages() -> set[str]:
    """Every package of cms and schema (Tortoise's migrations apart)."""
    return {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("cms", "schema")
        for init in (ROOT / top).rglob("__init__.py")
        if "migrations" not in init.parts
    }


def test_every_package_has_its_surface_pinned() -> None:
    assert _packages() == set(SURFACES)


@pytest.mark.parametrize("name", list(SURFACES))
def test_a_package_exports_exactly_its_surface(name: str) -> None:
    package = importlib.import_module(name)

    assert package.__all__ == SURFACES[name]
    assert [member for member in package.__all__ if not hasattr(package, member)] == []


@pytest.mark.parametrize("name", MODULE_PACKAGES)
def test_a_package_of_modules_exports_every_module_importing_it_brings_in(name: str) -> None:
    # In a fresh interpreter: what other tests imported must not count.
    listing = (
        f"import json, types, {name} as package; print(json.dumps(sorted(member for member, "
        "value in vars(package).items() if isinstance(value, types.ModuleType))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", listing], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(found.stdout) == sorted(SURFACES[name])
