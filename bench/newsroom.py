"""The rows of a generated newsroom, exactly as Newsdesk itself would store them.

Tortoise on SQLite stores datetimes as `datetime.isoformat(" ")` text
('2026-01-01 00:00:00.123456+00:00') and enums as their values ('article', 'published').
Every random choice comes from one seeded generator, so a size and a seed always give the
same newsroom; only the time anchor ("now" at generation) differs between generations.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench import vocabulary as words
from cms.content import rendering, slugs

__all__ = ["AUTHORS", "Batch", "Newsroom", "SECTIONS", "TAGS"]

AUTHORS = 50
SECTIONS = 12
TAGS = 200
DRAFT_SHARE = 0.05
HERO_SHARE = 0.9
SPACING_SECONDS = 30
BODY_POOL = 64

Row = tuple[Any, ...]


def _ts(moment: datetime) -> str:
    return moment.isoformat(" ")  # what Tortoise's SQLite adapter writes


@dataclass
class Batch:
    """Rows for one transaction, by table."""

    content: list[Row] = field(default_factory=list)
    media: list[Row] = field(default_factory=list)
    content_author: list[Row] = field(default_factory=list)
    content_tag: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.content)


class Newsroom:
    """`articles` articles and `videos` video episodes, oldest first (id 1 is the oldest),
    one every ~30 s back from `anchor`."""

    def __init__(self, *, articles: int, videos: int, anchor: datetime, seed: int) -> None:
        self.articles = articles
        self.videos = videos
        self.total = articles + videos
        self.anchor = anchor
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self._is_video = [False] * articles + [True] * videos
        self.rng.shuffle(self._is_video)
        self._bodies = [self._body() for _ in range(BODY_POOL)]
        self._reading = {body: rendering.reading_time_minutes(body) for body in self._bodies}
        self._slugs: dict[str, str] = {}
        self._episodes = dict.fromkeys(words.SHOWS, 0)
        self._next_media_id = AUTHORS + 1  # avatars take the first ids

    # Reference data -----------------------------------------------------------------------

    def sections(self) -> list[Row]:
        created = _ts(self.anchor - timedelta(days=900))
        names = words.SECTIONS[:SECTIONS]
        return [(created, created, i, n, slugs.slugify(n)) for i, n in enumerate(names, 1)]

    def tags(self) -> list[Row]:
        created = _ts(self.anchor - timedelta(days=900))
        names = list(words.TAG_TOPICS)
        names += [f"{topic} in {place}" for place in words.PLACES for topic in words.TAG_TOPICS]
        return [
            (created, created, i, name, slugs.slugify(name))
            for i, name in enumerate(names[:TAGS], 1)
        ]

    def avatars(self) -> list[Row]:
        created = _ts(self.anchor - timedelta(days=800))
        return [
            (
                created,
                created,
                i,
                f"avatars/author-{i}.png",
                "image/png",
                9_000,
                256,
                256,
                f"Portrait of author {i}",
                None,
                "Newsroom",
            )
            for i in range(1, AUTHORS + 1)
        ]

    def authors(self) -> list[Row]:
        created = _ts(self.anchor - timedelta(days=800))
        rows = []
        for i in range(1, AUTHORS + 1):
            if i <= len(words.DESKS):
                name, kind = words.DESKS[i - 1], "desk"
            else:
                first = words.FIRST_NAMES[i % len(words.FIRST_NAMES)]
                last = words.LAST_NAMES[(i * 7) % len(words.LAST_NAMES)]
                name, kind = f"{first} {last}", "person"
            slug = f"{slugs.slugify(name)}-{i}"
            bio = f"{name} writes for the newsroom."
            rows.append((created, created, i, name, slug, kind, bio, f"{slug}@newsroom.example", i))
        return rows

    # Content ------------------------------------------------------------------------------

    def batches(self, size: int) -> Iterator[Batch]:
        batch = Batch()
        for index in range(self.total):
            self._item(index, batch)
            if len(batch) >= size:
                yield batch
                batch = Batch()
        if batch:
            yield batch

    def _body(self) -> str:
        count = self.rng.randint(2, 8)
        return "\n\n".join(self.rng.sample(words.PARAGRAPHS, count))

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.random() * len(options))]

    def _distinct(self, count: int, upper: int) -> list[int]:
        """`count` distinct numbers in 1..upper (count is small)."""
        chosen: list[int] = []
        while len(chosen) < count:
            number = int(self.random() * upper) + 1
            if number not in chosen:
                chosen.append(number)
        return chosen

    def _title(self) -> str:
        pick = self._pick
        title = (
            f"{pick(words.HEADLINE_SUBJECTS)} {pick(words.HEADLINE_VERBS)} "
            f"{pick(words.HEADLINE_OBJECTS)}"
        )
        return title if self.random() < 0.5 else f"{title} in {pick(words.PLACES)}"

    def _slug(self, title: str, content_id: int) -> str:
        base = self._slugs.get(title)
        if base is None:
            base = self._slugs[title] = slugs.slugify(title)
        return f"{base}-{content_id}"

    def _item(self, index: int, batch: Batch) -> None:
        random = self.random
        content_id = index + 1
        seconds = (self.total - index) * SPACING_SECONDS - random() * SPACING_SECONDS / 2
        moment = self.anchor - timedelta(seconds=seconds)
        at = _ts(moment)
        created = _ts(moment - timedelta(seconds=300 + int(random() * 7_200)))
        draft = random() < DRAFT_SHARE
        status, published_at = ("draft", None) if draft else ("published", at)
        title = self._title()
        slug = self._slug(title, content_id)
        dek = f"{self._pick(words.HEADLINE_SUBJECTS)} expects a decision within weeks."
        hero_id = None
        if random() < HERO_SHARE:
            hero_id = self._next_media_id
            self._next_media_id += 1
            batch.media.append(
                (
                    created,
                    created,
                    hero_id,
                    f"images/{content_id:07d}.jpg",
                    "image/jpeg",
                    80_000 + int(random() * 320_000),
                    1600,
                    900,
                    f"Photo for {title}",
                    None,
                    "Newsroom photo desk",
                )
            )
        if self._is_video[index]:
            show = self._pick(words.SHOWS)
            self._episodes[show] += 1
            kind_values: Row = (
                None,
                1,
                f"{title}: the episode.",
                f"https://video.newsroom.example/{slug}.m3u8",
                60 + int(random() * 3_540),
                show,
                self._episodes[show],
            )
            kind = "video_episode"
        else:
            body = self._bodies[int(random() * BODY_POOL)]
            kind_values = (body, self._reading[body], None, None, None, None, None)
            kind = "article"
        section_id = int(random() * SECTIONS) + 1
        batch.content.append(
            (
                created,
                at,
                content_id,
                kind,
                status,
                title,
                slug,
                dek,
                "en",
                1,
                published_at,
                None,
                *kind_values,
                None,
                hero_id,
                section_id,
            )
        )
        bylines = self._distinct(1 if random() < 0.7 else 2, AUTHORS)
        for position, author_id in enumerate(bylines):
            batch.content_author.append((position, author_id, content_id))
        for tag_id in self._distinct(1 + int(random() * 3), TAGS):
            batch.content_tag.append((content_id, tag_id))
