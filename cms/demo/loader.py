"""Load the demo newsroom through the same services editors use. Idempotent: every item
carries an externalId ("demo:<slug>"), so a second run finds it and changes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cms import clock
from cms.auth.roles import Role
from cms.auth.viewer import Viewer
from cms.content import editing, inputs, lookups, people, publishing, taxonomy
from cms.demo import newsroom
from cms.models import Author, AuthorKind, Content, ContentKind, ContentStatus, Media, Section, Tag

__all__ = ["Report", "load"]

DEMO_VIEWER = Viewer(name="demo-loader", role=Role.ADMIN)
_MEDIA_FILES = Path(newsroom.__file__).parent / "media"


@dataclass
class Report:
    created: int = 0
    existing: int = 0
    skipped_not_empty: bool = False

    def count(self, created: bool) -> None:
        """One demo record (media, section, tag, author or item): new, or already there."""
        if created:
            self.created += 1
        else:
            self.existing += 1


async def _media(media_dir: Path, report: Report) -> dict[str, int]:
    ids: dict[str, int] = {}
    for item in newsroom.MEDIA:
        target = media_dir / item["key"]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_MEDIA_FILES / item["key"].removeprefix("demo/"), target)
        media, created = await Media.get_or_create(
            key=item["key"],
            defaults={
                "mime_type": item["mime_type"],
                "size_bytes": target.stat().st_size,
                "width": item["width"],
                "height": item["height"],
                "alt_text": item["alt_text"],
                "caption": item["caption"],
                "credit": item["credit"],
            },
        )
        report.count(created)
        ids[item["key"]] = media.id
    return ids


async def _people(media_ids: dict[str, int], report: Report) -> None:
    for section in newsroom.SECTIONS:
        if await Section.exists(slug=section["slug"]):
            report.existing += 1
        else:
            await taxonomy.create_section(viewer=DEMO_VIEWER, **section)
            report.created += 1
    for tag in newsroom.TAGS:
        _, created = await Tag.get_or_create(slug=tag["slug"], defaults={"name": tag["name"]})
        report.count(created)
    for author in newsroom.AUTHORS:
        if await Author.exists(slug=author["slug"]):
            report.existing += 1
            continue
        await people.create_author(
            viewer=DEMO_VIEWER,
            name=author["name"],
            slug=author["slug"],
            kind=AuthorKind(author["kind"]),
            bio=author["bio"],
            email=author["email"],
            avatar_id=media_ids.get(author["avatar_key"] or ""),
        )
        report.created += 1


async def _item(
    kind: ContentKind,
    data: inputs.ContentInput,
    minutes_ago: int,
    report: Report,
    *,
    default_locale: str,
) -> None:
    content = await editing.create(
        kind=kind,
        data=data,
        viewer=DEMO_VIEWER,
        default_locale=default_locale,
        include=lookups.NOTHING,
    )
    if content.status != ContentStatus.DRAFT or content.version > 1:
        report.existing += 1
        return
    at = clock.utcnow() - timedelta(minutes=minutes_ago)
    await publishing.publish(id=content.id, viewer=DEMO_VIEWER, at=at, include=lookups.NOTHING)
    report.created += 1


async def load(
    *,
    media_dir: Path,
    default_locale: str,
    only_if_empty: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Report:
    report = Report()
    if only_if_empty and await Content.exists():
        report.skipped_not_empty = True
        return report
    say = progress or (lambda message: None)
    say("media, sections, tags and authors")
    media_ids = await _media(media_dir, report)
    await _people(media_ids, report)
    for article in newsroom.ARTICLES:
        say(f"article: {article['title']}")
        data = inputs.ContentInput(
            title=article["title"], slug=article["slug"], dek=article["dek"],
            body=article["body"], section_slug=article["section_slug"],
            author_slugs=article["author_slugs"], tag_slugs=article["tag_slugs"],
            hero_image_id=media_ids.get(article["hero_image_key"] or ""),
            external_id=f"demo:{article['slug']}",
        )  # fmt: skip
        minutes_ago = article["published_minutes_ago"]
        await _item(ContentKind.ARTICLE, data, minutes_ago, report, default_locale=default_locale)
    for episode in newsroom.VIDEO_EPISODES:
        say(f"video episode: {episode['title']}")
        data = inputs.ContentInput(
            title=episode["title"], slug=episode["slug"], dek=episode["dek"],
            description=episode["description"], video_url=episode["video_url"],
            duration_seconds=episode["duration_seconds"], show=episode["show"],
            episode_number=episode["episode_number"], section_slug=episode["section_slug"],
            author_slugs=episode["author_slugs"], tag_slugs=episode["tag_slugs"],
            hero_image_id=media_ids.get(episode["hero_image_key"] or ""),
            external_id=f"demo:{episode['slug']}",
        )  # fmt: skip
        minutes_ago = episode["published_minutes_ago"]
        await _item(
            ContentKind.VIDEO_EPISODE, data, minutes_ago, report, default_locale=default_locale
        )
    for translation in newsroom.TRANSLATIONS:
        say(f"translation ({translation['locale']}): {translation['title']}")
        original = await Content.get_or_none(external_id=f"demo:{translation['of_slug']}")
        if original is None or original.locale == translation["locale"]:
            continue  # a newsroom whose default locale is the translation's has no need of it
        story = next(a for a in newsroom.ARTICLES if a["slug"] == translation["of_slug"])
        data = inputs.ContentInput(
            title=translation["title"], slug=translation["slug"], dek=translation["dek"],
            body=translation["body"], locale=translation["locale"],
            section_slug=story["section_slug"], author_slugs=story["author_slugs"],
            tag_slugs=story["tag_slugs"],
            hero_image_id=media_ids.get(story["hero_image_key"] or ""),
            translation_of=original.id,
            external_id=f"demo:{translation['locale']}:{translation['slug']}",
        )  # fmt: skip
        minutes_ago = translation["published_minutes_ago"]
        await _item(ContentKind.ARTICLE, data, minutes_ago, report, default_locale=default_locale)
    return report
