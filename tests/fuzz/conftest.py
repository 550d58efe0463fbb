"""The fuzzed app: production settings (errors masked, introspection and GraphiQL off, the
response cache and compiled reads on), a small newsroom in every state, a token per role."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest

from cms import clock
from cms.auth import tokens
from cms.config import Settings
from cms.content.feed import Cursor
from cms.models import Author, Content, Media, Revision, Section, Tag
from tests import factories
from tests.api.graphql_client import app_client
from tests.fuzz import faults
from tests.fuzz.values import Names

ROLES = ("viewer", "author", "editor", "admin")
# Generated operations per backend and test: CI runs the default, `make fuzz` 10,000.
EXAMPLES = int(os.environ.get("NEWSDESK_FUZZ_EXAMPLES", "300"))


def _global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@pytest.fixture
async def newsroom(db: None) -> Names:
    """Published, draft, scheduled and back-dated items, with every relation, and the IDs,
    slugs and cursors that reach them."""
    now = clock.utcnow()
    war = await factories.make_section(slug="war", name="War")
    desk = await factories.make_author(slug="news-desk", bio="The desk.", avatar=True)
    await factories.make_author(slug="iryna-zavolska", email="iryna@example.org")
    await factories.make_article(
        title="Volunteers rebuild the library", section=war, authors=[desk],
        tags=["kyiv", "culture"], hero_image=True, published_at=now - timedelta(hours=2),
    )  # fmt: skip
    await factories.make_video_episode(
        title="Newsroom Weekly", section=war, authors=[desk], tags=["kyiv"],
        published_at=now - timedelta(hours=1),
    )  # fmt: skip
    await factories.make_article(title="A draft", authors=[desk])
    await factories.make_article(title="Scheduled story", published_at=now + timedelta(days=1))
    await factories.make_article(title="Українська новина", locale="uk", published_at=now)

    ids: list[str] = []
    cursors: list[str] = []
    for item in await Content.all():
        ids.append(_global_id("Article" if item.kind.value == "article" else "VideoEpisode",
                              item.id))  # fmt: skip
        if item.published_at is not None:
            cursors.append(Cursor(item.published_at, item.id).encode())
    for model, type_name in ((Author, "Author"), (Section, "Section"), (Tag, "Tag"),
                             (Media, "Media"), (Revision, "Revision")):  # fmt: skip
        pks = await model.all().values_list("id", flat=True)
        ids.extend(_global_id(type_name, pk) for pk in pks)
    slugs = [row.slug for model in (Content, Author, Section, Tag) for row in await model.all()]
    return Names(ids=ids, slugs=slugs, cursors=cursors)


@pytest.fixture
async def role_tokens(db: None) -> dict[str | None, str | None]:
    """None (anonymous) and a secret per role."""
    found: dict[str | None, str | None] = {None: None}
    for role in ROLES:
        _, found[role] = await tokens.create(name=f"fuzz-{role}", role=role)
    return found


@pytest.fixture
async def production(settings: Settings, newsroom: Names) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app as production runs it (CMS_ENV=production), over the test's
    database; background delivery stays off (generated webhooks point anywhere)."""
    update = {"env": "production", "run_dispatcher": False}
    async with app_client(settings.model_copy(update=update)) as client:
        yield client


@pytest.fixture
def faults_seen() -> Iterator[faults.Faults]:
    with faults.watching() as handler:
        yield handler
