"""Dependencies point one way: schema -> cms services -> cms.models -> tortoise.

cms (outside its composition roots, cms/http/ and cms/cli.py) knows nothing of GraphQL,
and schema reads and writes only through cms services, never through the ORM or its
models: services answer with records.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CMS = ROOT / "cms"
SCHEMA = ROOT / "schema"


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    return _imports_in(path.read_text(encoding="utf-8"), package)


def _imports_in(source: str, package: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in `source`, including ones inside functions and
    TYPE_CHECKING blocks, and import_module("..."); relative imports are resolved
    against `package`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from cms import x` may name a package too
                yield node.lineno, f"{module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _is(module: str, banned: str) -> bool:
    return module == banned or module.startswith(banned + ".")


def _violations(files: list[Path], banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in _imports(path)
        if any(_is(module, name) for name in banned)
    ]


def _cms_services() -> list[Path]:
    composition_roots = (CMS / "http", CMS / "cli.py")
    return [
        path
        for path in sorted(CMS.rglob("*.py"))
        if not any(path == root or root in path.parents for root in composition_roots)
    ]


def test_the_files_are_there() -> None:
    services = {path.relative_to(CMS).as_posix() for path in _cms_services()}
    assert {"content/feed.py", "content/visibility.py", "models/content.py"} <= services
    assert "http/app.py" not in services
    assert "cli.py" not in services
    assert {"content.py", "people.py", "media.py", "webhooks.py"} <= {
        path.name for path in SCHEMA.glob("*.py")
    }


def test_cms_outside_http_and_cli_never_imports_graphql() -> None:
    assert _violations(_cms_services(), ("strawberry", "graphql", "schema")) == []


def test_cms_models_import_no_services() -> None:
    models = sorted((CMS / "models").rglob("*.py"))
    banned = ("cms.content", "cms.auth", "cms.events", "cms.http", "cms.cli", "cms.demo")
    assert _violations(models, banned) == []


def test_events_know_nothing_of_content_services_or_webhooks() -> None:
    """Content records its events in the outbox; reading content back for subscribers and
    webhooks is the dispatcher's job (cms.dispatch), so the two packages never form a cycle."""
    events = sorted((CMS / "events").rglob("*.py"))
    banned = ("cms.content", "cms.webhooks", "cms.dispatch", "cms.http", "cms.cli")
    assert _violations(events, banned) == []


def test_services_never_import_the_composition_roots() -> None:
    roots = (CMS / "dispatch.py", CMS / "__main__.py")
    services = [path for path in _cms_services() if path not in roots]
    assert _violations(services, ("cms.dispatch", "cms.http", "cms.cli")) == []


def test_schema_never_imports_tortoise_or_the_models() -> None:
    assert _violations(sorted(SCHEMA.rglob("*.py")), ("tortoise", "cms.models")) == []


@pytest.mark.parametrize(
    ("source", "banned", "caught"),
    [
        ("import strawberry\n", "strawberry", True),
        ("from graphql import GraphQLError\n", "graphql", True),
        ("from schema.types import nodes\n", "schema", True),
        ("from schema import build_schema\n", "schema", True),
        ("def f():\n    from tortoise.expressions import Q\n", "tortoise", True),
        ("import importlib\nimportlib.import_module('strawberry.relay')\n", "strawberry", True),
        ("from ..schema import x\n", "cms.schema", True),  # relative, from cms/content/
        ("import schemathesis\n", "schema", False),
        ("from cms.content import feed\n", "schema", False),
        ("from cms.models import Content\n", "cms.models", True),
        ("from cms.models.content import ContentKind\n", "cms.models", True),
        ("from cms import models\n", "cms.models", True),
        ("import cms.models\n", "cms.models", True),
        ("from .. import models\n", "cms.models", True),  # relative, from cms/content/
        ("from cms.content.records import ContentRecord\n", "cms.models", False),
        ("from cms.content import enums\n", "cms.models", False),
        ("import cms.models_extra\n", "cms.models", False),
    ],
)
def test_the_checker_catches_what_it_should(source: str, banned: str, caught: bool) -> None:
    found = [module for _, module in _imports_in(source, ("cms", "content")) if _is(module, banned)]

    assert bool(found) is caught, found
