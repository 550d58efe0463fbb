"""The demo newsroom's data hangs together: every reference resolves, slugs are unique and
every media key has its SVG file beside the data; loaded, its Ukrainian translations make
the fallback feed show both languages (issue 15, part 5), and each item's ninjs document
validates against IPTC's schema."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from cms.auth import tokens
from cms.config import Settings
from cms.content import ids
from cms.demo import loader, newsroom
from cms.models import Content, ContentKind
from tests import ninjs_schema

MEDIA_DIR = Path(newsroom.__file__).resolve().parent / "media"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
THREE_DAYS_IN_MINUTES = 3 * 24 * 60 + 60

CONTENT = [*newsroom.ARTICLES, *newsroom.VIDEO_EPISODES]


def _duplicates(values: list[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def _svg_file(key: str) -> Path:
    assert key.startswith("demo/"), key
    return MEDIA_DIR / key.removeprefix("demo/")


def test_slugs_are_well_formed_and_unique() -> None:
    groups = {
        "sections": [section["slug"] for section in newsroom.SECTIONS],
        "tags": [tag["slug"] for tag in newsroom.TAGS],
        "authors": [author["slug"] for author in newsroom.AUTHORS],
        # articles and video episodes share one content table, unique on (slug, locale)
        "content": [item["slug"] for item in CONTENT],
    }
    for name, slugs in groups.items():
        assert not _duplicates(slugs), name
        assert all(SLUG.match(slug) for slug in slugs), name


def test_media_keys_are_unique() -> None:
    assert not _duplicates([media["key"] for media in newsroom.MEDIA])


def test_every_reference_resolves() -> None:
    sections = {section["slug"] for section in newsroom.SECTIONS}
    tags = {tag["slug"] for tag in newsroom.TAGS}
    authors = {author["slug"] for author in newsroom.AUTHORS}
    media = {item["key"] for item in newsroom.MEDIA}

    for author in newsroom.AUTHORS:
        assert author["avatar_key"] is None or author["avatar_key"] in media, author["slug"]
    for item in CONTENT:
        assert item["section_slug"] in sections, item["slug"]
        assert item["author_slugs"], item["slug"]
        assert set(item["author_slugs"]) <= authors, item["slug"]
        assert set(item["tag_slugs"]) <= tags, item["slug"]
        assert item["hero_image_key"] is None or item["hero_image_key"] in media, item["slug"]


def test_every_media_item_has_its_svg_file() -> None:
    for media in newsroom.MEDIA:
        path = _svg_file(media["key"])
        assert path.is_file(), media["key"]
        assert media["mime_type"] == "image/svg+xml"
        assert path.stat().st_size < 2048, media["key"]
        root = ElementTree.parse(path).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg", media["key"]
        assert root.get("width") == str(media["width"]), media["key"]
        assert root.get("height") == str(media["height"]), media["key"]


def test_every_svg_file_is_listed() -> None:
    listed = {_svg_file(media["key"]).name for media in newsroom.MEDIA}
    assert {path.name for path in MEDIA_DIR.glob("*.svg")} == listed


def test_the_news_desk_byline() -> None:
    desk = next(author for author in newsroom.AUTHORS if author["slug"] == "news-desk")
    assert desk["kind"] == "desk"
    assert desk["email"] in desk["bio"]
    assert sum(1 for author in newsroom.AUTHORS if author["kind"] == "person") >= 2
    articles_by_desk = [a for a in newsroom.ARTICLES if "news-desk" in a["author_slugs"]]
    assert len(articles_by_desk) > len(newsroom.ARTICLES) / 2


def test_publication_times_are_distinct_and_recent() -> None:
    minutes = [item["published_minutes_ago"] for item in CONTENT]
    assert len(set(minutes)) == len(minutes)
    assert all(m > 0 for m in minutes)
    assert all(a["published_minutes_ago"] <= THREE_DAYS_IN_MINUTES for a in newsroom.ARTICLES)


def test_video_episodes_are_one_weekly_show_in_order() -> None:
    assert len({episode["show"] for episode in newsroom.VIDEO_EPISODES}) == 1
    numbers = sorted(episode["episode_number"] for episode in newsroom.VIDEO_EPISODES)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    for episode in newsroom.VIDEO_EPISODES:
        assert episode["video_url"].startswith("https://"), episode["slug"]
        assert episode["duration_seconds"] > 0, episode["slug"]


def test_article_bodies_are_short_markdown() -> None:
    for article in newsroom.ARTICLES:
        paragraphs = article["body"].split("\n\n")
        assert 2 <= len(paragraphs) <= 5, article["slug"]
        assert 60 <= len(article["body"].split()) <= 220, article["slug"]
    assert any(
        re.search(r"^\s*(?:[-*]|\d+\.) |\]\(|\*\w", article["body"], re.MULTILINE)
        for article in newsroom.ARTICLES
    )


# --- translations (issue 15, part 5) ------------------------------------------------------

DEFAULTS = Settings.model_fields
DEFAULT_LOCALE: str = DEFAULTS["default_locale"].default
DEFAULT_LOCALES: tuple[str, ...] = DEFAULTS["locales"].default


def test_translations_translate_demo_articles_into_another_configured_locale() -> None:
    articles = {article["slug"] for article in newsroom.ARTICLES}
    assert newsroom.TRANSLATIONS, "the demo has translations"
    for translation in newsroom.TRANSLATIONS:
        assert translation["of_slug"] in articles, translation["slug"]
        assert translation["locale"] in DEFAULT_LOCALES, translation["slug"]
        assert translation["locale"] != DEFAULT_LOCALE, translation["slug"]
        assert SLUG.match(translation["slug"]), translation["slug"]
        assert translation["title"] and translation["dek"] and translation["body"]
        assert translation["published_minutes_ago"] > 0
    stories = [(t["of_slug"], t["locale"]) for t in newsroom.TRANSLATIONS]
    assert not _duplicates([f"{slug}/{locale}" for slug, locale in stories])
    addresses = [f"{t['slug']}/{t['locale']}" for t in newsroom.TRANSLATIONS]
    assert not _duplicates(addresses)  # content is unique on (slug, locale)


FALLBACK_FEED = """
query($locale: String, $fallbackLocale: String) {
  feed(first: 50, locale: $locale, fallbackLocale: $fallbackLocale) {
    edges { node { slug locale title translations { locale slug } } }
  }
}
"""


def _fallback_rows() -> list[str]:
    """The demo's fallback feed (uk, else en) as "slug/locale", newest first."""
    translated = {t["of_slug"]: t for t in newsroom.TRANSLATIONS}
    rows = [
        (item["published_minutes_ago"], f"{item['slug']}/{DEFAULT_LOCALE}")
        for item in CONTENT
        if item["slug"] not in translated
    ]
    rows += [
        (t["published_minutes_ago"], f"{t['slug']}/{t['locale']}") for t in translated.values()
    ]
    return [row for _, row in sorted(rows)]


async def _feed(
    client: httpx.AsyncClient, token: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": FALLBACK_FEED, "variables": variables}, headers=headers
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return [edge["node"] for edge in body["data"]["feed"]["edges"]]


def _rows(nodes: list[dict[str, Any]]) -> list[str]:
    return [f"{node['slug']}/{node['locale']}" for node in nodes]


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_the_loaded_demo_shows_each_story_once_in_the_fallback_feed(
    client: httpx.AsyncClient, tmp_path: Path, reader: str
) -> None:
    await loader.load(media_dir=tmp_path / "media", default_locale=DEFAULT_LOCALE)
    token = None if reader == "anonymous" else (await tokens.create(name="t", role=reader))[1]

    fallback = await _feed(client, token, locale="uk", fallbackLocale=DEFAULT_LOCALE)
    ukrainian = await _feed(client, token, locale="uk")

    assert _rows(fallback) == _fallback_rows()
    assert len(fallback) == len(CONTENT)
    assert sorted(_rows(ukrainian)) == sorted(
        f"{t['slug']}/{t['locale']}" for t in newsroom.TRANSLATIONS
    )
    titles = {node["title"] for node in ukrainian}
    assert titles == {t["title"] for t in newsroom.TRANSLATIONS}
    # Each Ukrainian item lists its English original, and the original lists it.
    for node in ukrainian:
        of_slug = next(t["of_slug"] for t in newsroom.TRANSLATIONS if t["title"] == node["title"])
        assert node["translations"] == [{"locale": DEFAULT_LOCALE, "slug": of_slug}]
    english = await _feed(client, token, locale=DEFAULT_LOCALE)
    listed = {node["slug"]: node["translations"] for node in english}
    for translation in newsroom.TRANSLATIONS:
        assert listed[translation["of_slug"]] == [
            {"locale": translation["locale"], "slug": translation["slug"]}
        ]


async def test_loading_the_demo_twice_adds_no_translation(db: None, tmp_path: Path) -> None:
    first = await loader.load(media_dir=tmp_path / "media", default_locale=DEFAULT_LOCALE)
    count = await Content.all().count()
    second = await loader.load(media_dir=tmp_path / "media", default_locale=DEFAULT_LOCALE)

    assert count == len(CONTENT) + len(newsroom.TRANSLATIONS)
    assert await Content.all().count() == count
    assert second.created == 0
    assert second.existing == first.created


async def test_the_demo_loads_when_the_default_locale_is_the_translations_locale(
    db: None, tmp_path: Path
) -> None:
    """CMS_DEFAULT_LOCALE=uk (a Ukrainian newsroom): the demo's stories are written in uk,
    and loading must not fail on translations into the locale they already have."""
    await loader.load(media_dir=tmp_path / "media", default_locale="uk")

    slugs = {item.slug for item in await Content.filter(locale="uk")}
    assert {item["slug"] for item in CONTENT} <= slugs


# --- ninjs (issue 15: "ninjs documents of the demo items validate") -----------------------


@pytest.mark.parametrize("reader", ["anonymous", "viewer"])
async def test_every_loaded_demo_item_has_a_valid_ninjs_document(
    client: httpx.AsyncClient, tmp_path: Path, reader: str
) -> None:
    await loader.load(media_dir=tmp_path / "media", default_locale=DEFAULT_LOCALE)
    token = None if reader == "anonymous" else (await tokens.create(name="t", role=reader))[1]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    validator = ninjs_schema.validator()
    items = await Content.all()
    assert len(items) == len(CONTENT) + len(newsroom.TRANSLATIONS)

    for item in items:
        id = ids.content_id(item.kind, item.id)
        response = await client.get(f"/ninjs/{id}", headers=headers)
        assert response.status_code == 200, (item.slug, response.text)
        document = ninjs_schema.valid(validator, response.json())
        assert document["uri"] == f"http://testserver/ninjs/{id}", item.slug
        assert document["pubstatus"] == "usable", item.slug
        assert document["headlines"] == [{"role": "main", "value": item.title}], item.slug
        assert document["language"] == item.locale, item.slug
        expected_type = "text" if item.kind == ContentKind.ARTICLE else "video"
        assert document["type"] == expected_type, item.slug
