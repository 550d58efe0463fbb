"""The demo newsroom's data hangs together: every reference resolves, slugs are unique and
every media key has its SVG file beside the data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from cms.demo import newsroom

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
