"""Keyset reads, called directly (cms.content.feed): the public feed and its filters, an
author's items, search and the editors' list; pages that never skip or repeat an item, even
among items published at the same instant; nothing unpublished in a public read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise import Tortoise

from cms import clock
from cms.content import feed, publishing, search
from cms.content.enums import SearchOrder
from cms.content.feed import Cursor, Page
from cms.errors import Invalid
from cms.models import Author, Content, ContentKind, ContentStatus
from tests import factories
from tests.factories import ADMIN_VIEWER
from tests.statements import counting

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    with clock.frozen(NOW) as now:
        yield now


def _titles(page: Page) -> list[str]:
    return [record.title for record in page.items]


@dataclass
class Newsroom:
    """Four public items, and one item in every state that must stay out of public reads."""

    front: Content
    clip: Content
    ukrainian: Content
    desk_note: Content
    draft: Content
    scheduled: Content
    archived: Content
    withdrawn: Content


@pytest.fixture
async def newsroom(db: None) -> Newsroom:
    await factories.make_section(slug="war")
    await factories.make_section(slug="culture")
    await factories.make_author(slug="iryna-zavolska")
    await factories.make_author(slug="news-desk")
    everything: dict[str, Any] = {
        "section": "war",
        "authors": ["iryna-zavolska"],
        "tags": ["breaking"],
    }
    archived = await factories.make_article(title="Archived", published_at=_ago(5), **everything)
    await publishing.archive(id=archived.id, viewer=ADMIN_VIEWER)
    withdrawn = await factories.make_article(title="Withdrawn", published_at=_ago(6), **everything)
    await publishing.unpublish(id=withdrawn.id, viewer=ADMIN_VIEWER)
    return Newsroom(
        front=await factories.make_article(
            title="Front",
            section="war",
            authors=["iryna-zavolska"],
            tags=["breaking", "kharkiv"],
            published_at=_ago(1),
        ),
        clip=await factories.make_video_episode(
            title="Clip",
            section="culture",
            authors=["news-desk"],
            tags=["breaking"],
            published_at=_ago(2),
        ),
        ukrainian=await factories.make_article(
            title="Ukrainian",
            slug="front",
            locale="uk",
            section="war",
            authors=["iryna-zavolska"],
            published_at=_ago(3),
        ),
        desk_note=await factories.make_article(
            title="Desk note",
            authors=["news-desk", "iryna-zavolska"],
            tags=["kharkiv"],
            published_at=_ago(4),
        ),
        draft=await factories.make_article(title="Draft", **everything),
        scheduled=await factories.make_video_episode(
            title="Scheduled", published_at=NOW + timedelta(hours=1), **everything
        ),
        archived=archived,
        withdrawn=withdrawn,
    )


# --- the public feed ----------------------------------------------------------------


async def test_the_feed_is_every_public_item_newest_first(newsroom: Newsroom) -> None:
    page = await feed.feed(now=NOW, first=20)

    assert _titles(page) == ["Front", "Clip", "Ukrainian", "Desk note"]
    assert {record.status for record in page.items} == {ContentStatus.PUBLISHED}
    assert [record.kind for record in page.items] == [
        ContentKind.ARTICLE,
        ContentKind.VIDEO_EPISODE,
        ContentKind.ARTICLE,
        ContentKind.ARTICLE,
    ]
    assert (page.has_next, page.has_previous) == (False, False)
    assert page.cursors == [Cursor(record.published_at, record.id) for record in page.items]  # type: ignore[arg-type]


async def test_a_scheduled_item_joins_the_feed_at_its_time(newsroom: Newsroom) -> None:
    at = NOW + timedelta(hours=1)

    before = await feed.feed(now=at - timedelta(microseconds=1), first=20)
    after = await feed.feed(now=at, first=20)

    assert "Scheduled" not in _titles(before)
    assert _titles(after) == ["Scheduled", "Front", "Clip", "Ukrainian", "Desk note"]


async def test_the_feed_carries_each_items_relations(newsroom: Newsroom) -> None:
    page = await feed.feed(now=NOW, first=20)

    front, clip, _, desk_note = page.items
    assert front.section is not None and front.section.slug == "war"
    assert [author.slug for author in desk_note.authors] == ["news-desk", "iryna-zavolska"]
    assert [tag.slug for tag in front.tags] == ["breaking", "kharkiv"]
    assert (clip.video_url, clip.section and clip.section.slug) == (
        "https://video.example/weekly.mp4",
        "culture",
    )
    assert (desk_note.section, desk_note.tags[0].slug) == (None, "kharkiv")


FILTERS: dict[str, tuple[feed.FeedFilter, list[str]]] = {
    "section": (feed.FeedFilter(section="war"), ["Front", "Ukrainian"]),
    "another section": (feed.FeedFilter(section="culture"), ["Clip"]),
    "tag": (feed.FeedFilter(tag="breaking"), ["Front", "Clip"]),
    "another tag": (feed.FeedFilter(tag="kharkiv"), ["Front", "Desk note"]),
    "author": (feed.FeedFilter(author="iryna-zavolska"), ["Front", "Ukrainian", "Desk note"]),
    "video episodes": (feed.FeedFilter(kinds=(ContentKind.VIDEO_EPISODE,)), ["Clip"]),
    "articles": (
        feed.FeedFilter(kinds=(ContentKind.ARTICLE,)),
        ["Front", "Ukrainian", "Desk note"],
    ),
    "both kinds": (
        feed.FeedFilter(kinds=(ContentKind.ARTICLE, ContentKind.VIDEO_EPISODE)),
        ["Front", "Clip", "Ukrainian", "Desk note"],
    ),
    "locale": (feed.FeedFilter(locale="uk"), ["Ukrainian"]),
    "together": (
        feed.FeedFilter(section="war", author="iryna-zavolska", locale="en"),
        ["Front"],
    ),
    "unknown section": (feed.FeedFilter(section="nowhere"), []),
    "unknown tag": (feed.FeedFilter(tag="nothing"), []),
    "unknown author": (feed.FeedFilter(author="nobody"), []),
    "unknown locale": (feed.FeedFilter(locale="de"), []),
}


async def test_filters_narrow_the_feed(newsroom: Newsroom) -> None:
    found = {
        name: _titles(await feed.feed(now=NOW, first=20, filters=filters))
        for name, (filters, _) in FILTERS.items()
    }

    assert found == {name: titles for name, (_, titles) in FILTERS.items()}


async def test_by_author_id_is_that_authors_public_items(newsroom: Newsroom) -> None:
    desk = await Author.get(slug="news-desk")

    page = await feed.feed(now=NOW, first=20, filters=feed.FeedFilter(author_id=desk.id))
    mine = await feed.by_author(author_id=desk.id, now=NOW, first=20)

    assert _titles(page) == _titles(mine) == ["Clip", "Desk note"]


async def test_by_author_pages_one_item_at_a_time(newsroom: Newsroom) -> None:
    iryna = await Author.get(slug="iryna-zavolska")

    first = await feed.by_author(author_id=iryna.id, now=NOW, first=1)
    second = await feed.by_author(author_id=iryna.id, now=NOW, first=1, after=first.cursors[-1])
    third = await feed.by_author(author_id=iryna.id, now=NOW, first=1, after=second.cursors[-1])

    assert [_titles(first), _titles(second), _titles(third)] == [
        ["Front"],
        ["Ukrainian"],
        ["Desk note"],
    ]
    assert [first.has_next, second.has_next, third.has_next] == [True, True, False]


# --- keyset paging ------------------------------------------------------------------


async def _walk(first: int) -> list[Page]:
    """Every page of the feed at NOW, each asked for with the encoded end cursor of the
    page before (as a client would)."""
    pages = [await feed.feed(now=NOW, first=first)]
    while pages[-1].has_next:
        after = Cursor.decode(pages[-1].cursors[-1].encode())
        pages.append(await feed.feed(now=NOW, first=first, after=after))
    return pages


async def test_pages_never_skip_or_repeat_items_published_at_one_instant(db: None) -> None:
    tied = [await factories.make_article(title=f"Tied {n}", published_at=_ago(1)) for n in range(7)]
    newer = [
        await factories.make_article(title=f"New {n}", published_at=_ago(0.5)) for n in range(2)
    ]
    older = [await factories.make_article(title=f"Old {n}", published_at=_ago(2)) for n in range(2)]

    pages = await _walk(3)

    newest_first = sorted(newer, key=lambda c: -c.id)
    newest_first += sorted(tied, key=lambda c: -c.id)
    newest_first += sorted(older, key=lambda c: -c.id)
    assert [[r.id for r in page.items] for page in pages] == [
        [c.id for c in newest_first[start : start + 3]] for start in range(0, 11, 3)
    ]
    assert [page.has_next for page in pages] == [True, True, True, False]
    assert [page.has_previous for page in pages] == [False, True, True, True]
    last = pages[1].items[-1]
    assert pages[1].cursors[-1] == Cursor(_ago(1), last.id)


async def test_a_cursor_holds_its_place_while_news_is_published_on_top(db: None) -> None:
    stories = [
        await factories.make_article(title=f"S{n}", published_at=_ago(n + 1)) for n in range(4)
    ]
    page = await feed.feed(now=NOW, first=2)

    await factories.make_article(title="Breaking", published_at=NOW)
    rest = await feed.feed(now=NOW, first=2, after=page.cursors[-1])

    assert _titles(page) == ["S0", "S1"]
    assert [record.id for record in rest.items] == [stories[2].id, stories[3].id]


async def test_first_zero_gives_an_empty_page_that_says_more_exist(newsroom: Newsroom) -> None:
    page = await feed.feed(now=NOW, first=0)

    assert (page.items, page.cursors, page.has_next) == ([], [], True)


def test_page_size_bounds() -> None:
    assert feed.page_size(None, default=20, maximum=100) == 20
    assert feed.page_size(None, default=20, maximum=10) == 10
    assert feed.page_size(0, default=20, maximum=100) == 0
    assert feed.page_size(100, default=20, maximum=100) == 100
    for wrong in (-1, 101):
        with pytest.raises(Invalid) as refused:
            feed.page_size(wrong, default=20, maximum=100)
        assert refused.value.field == "first"


def test_a_cursor_survives_its_encoding_and_a_forged_one_is_refused() -> None:
    cursor = Cursor(datetime(2026, 3, 2, 9, 30, 0, 250_000, tzinfo=UTC), 42)
    encoded = cursor.encode()

    assert Cursor.decode(encoded) == cursor
    assert "=" not in encoded
    for forged in ("not a cursor", Cursor(datetime(2026, 3, 2, 9, 30), 42).encode(), ""):
        with pytest.raises(Invalid) as refused:
            Cursor.decode(forged)
        assert refused.value.field == "after"


# --- search -------------------------------------------------------------------------


@pytest.fixture
async def library(db: None) -> dict[str, Content]:
    return {
        "title": await factories.make_article(
            title="Library reopens", body="Doors open.", published_at=_ago(1)
        ),
        "dek": await factories.make_article(
            title="Volunteers", dek="The LIBRARY is back", published_at=_ago(2)
        ),
        "body": await factories.make_article(
            title="District news", body="A new library wing opens.", published_at=_ago(3)
        ),
        "description": await factories.make_video_episode(
            title="Weekly", description="Inside the library.", published_at=_ago(4)
        ),
        "draft": await factories.make_article(title="Library draft"),
        "scheduled": await factories.make_article(
            title="Library embargo", published_at=NOW + timedelta(hours=1)
        ),
    }


async def test_search_finds_a_word_in_any_text_field_ignoring_case(
    library: dict[str, Content],
) -> None:
    page = await feed.search(text="library", now=NOW, first=20)
    found = [record.id for record in page.items]

    # Relevance: the title above the dek above the body and the description (which bm25
    # orders by how much of their text the word is).
    assert found[:2] == [library["title"].id, library["dek"].id]
    assert set(found[2:]) == {library["body"].id, library["description"].id}


async def test_search_needs_every_word(library: dict[str, Content]) -> None:
    page = await feed.search(text="LIBRARY  opens", now=NOW, first=20)

    assert [record.id for record in page.items] == [library["title"].id, library["body"].id]


async def test_search_pages_like_the_feed(library: dict[str, Content]) -> None:
    whole = await feed.search(text="library", now=NOW, first=20)
    first = await feed.search(text="library", now=NOW, first=3)
    rest = await feed.search(text="library", now=NOW, first=3, after=first.cursors[-1])

    assert [record.id for record in first.items + rest.items] == [
        record.id for record in whole.items
    ]
    assert len(whole.items) == 4
    assert (first.has_next, rest.has_next) == (True, False)


@pytest.mark.parametrize(
    "text", ["", "   ", "x" * 201, " ".join(f"w{n}" for n in range(9)), "*", "🙂", '""', "-^()"]
)
def test_a_search_without_words_or_with_too_many_is_refused(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        search.terms(text)

    assert refused.value.field == "query"


def test_search_terms_are_the_distinct_words_and_quoted_phrases() -> None:
    Term = search.Term
    assert search.terms("  war  news war ") == [Term("war"), Term("news")]
    assert search.terms("50%_off") == [Term("50"), Term("off")]
    assert search.terms('title:war OR "enter  Pokrovsk" NEAR(x)') == [
        Term("enter Pokrovsk", phrase=True),
        Term("title"),
        Term("war"),
        Term("OR"),
        Term("NEAR"),
        Term("x"),
    ]
    assert search.terms('"Покровськ"') == [Term("Покровськ")]


def test_snippets_escape_the_text_and_mark_the_matches() -> None:
    assert search.highlight("<b>\x02war\x03</b> & peace") == (
        "&lt;b&gt;<mark>war</mark>&lt;/b&gt; &amp; peace"
    )


# --- the editors' list --------------------------------------------------------------

STATUSES: dict[str, tuple[list[ContentStatus], set[str]]] = {
    "drafts": ([ContentStatus.DRAFT], {"Draft", "Withdrawn"}),
    "published": ([ContentStatus.PUBLISHED], {"Front", "Clip", "Ukrainian", "Desk note"}),
    "scheduled": ([ContentStatus.SCHEDULED], {"Scheduled"}),
    "archived": ([ContentStatus.ARCHIVED], {"Archived"}),
    "drafts and scheduled": (
        [ContentStatus.DRAFT, ContentStatus.SCHEDULED],
        {"Draft", "Withdrawn", "Scheduled"},
    ),
    "any status": (
        [],
        {"Front", "Clip", "Ukrainian", "Desk note", "Draft", "Withdrawn", "Scheduled", "Archived"},
    ),
}


async def test_contents_lists_items_by_the_status_readers_see(newsroom: Newsroom) -> None:
    found = {
        name: set(_titles(await feed.contents(now=NOW, first=20, statuses=statuses)))
        for name, (statuses, _) in STATUSES.items()
    }

    assert found == {name: titles for name, (_, titles) in STATUSES.items()}


async def test_contents_counts_a_scheduled_item_as_published_once_its_time_comes(
    newsroom: Newsroom,
) -> None:
    later = NOW + timedelta(hours=1)

    scheduled = await feed.contents(now=later, first=20, statuses=[ContentStatus.SCHEDULED])
    published = await feed.contents(now=later, first=20, statuses=[ContentStatus.PUBLISHED])

    assert _titles(scheduled) == []
    assert "Scheduled" in _titles(published)


async def test_contents_pages_through_everything_most_recently_updated_first(
    newsroom: Newsroom,
) -> None:
    rows = await Content.all().values_list("updated_at", "id")
    expected = [id for _, id in sorted(rows, reverse=True)]

    pages = [await feed.contents(now=NOW, first=3)]
    while pages[-1].has_next:
        pages.append(await feed.contents(now=NOW, first=3, after=pages[-1].cursors[-1]))

    assert [record.id for page in pages for record in page.items] == expected
    assert len(expected) == 8
    assert [len(page.items) for page in pages] == [3, 3, 2]


async def test_contents_filters_by_kind(newsroom: Newsroom) -> None:
    page = await feed.contents(now=NOW, first=20, kinds=[ContentKind.VIDEO_EPISODE])

    assert set(_titles(page)) == {"Clip", "Scheduled"}


async def test_relevance_ranks_the_newest_matches_up_to_the_depth(db: None) -> None:
    """Ranking every match costs what the matches number; relevance ranks the `depth`
    most recently created (CMS_SEARCH_DEPTH), date order reaches every match."""
    made = [
        await factories.make_article(title=f"Flood {n}", body="flood " * n, published_at=_ago(n))
        for n in range(1, 6)
    ]

    ranked = await feed.search(text="flood", now=NOW, first=20, depth=3)
    newest = await feed.search(text="flood", now=NOW, first=20, depth=3, order=SearchOrder.NEWEST)

    assert {record.id for record in ranked.items} == {item.id for item in made[2:]}
    assert not ranked.has_next
    assert [record.id for record in newest.items] == [item.id for item in made]


async def test_the_window_is_the_newest_matches_however_far_back_they_lie(db: None) -> None:
    """PostgreSQL reads the window in tries over ever more of the newest ids
    (search._postgres_ranked): whichever try completes it, the window is the `depth`
    newest matches, and a word whose matches lie far back takes the last try."""
    made = []
    for n in range(40):
        words = [*(["harbour"] if n >= 35 else []), *(["quay"] if n in (2, 4, 29) else [])]
        made.append(
            await factories.make_article(
                title=f"Item {n}", body=" ".join(words) or "nothing", published_at=_ago(40 - n)
            )
        )

    with counting() as near:
        harbour = await feed.search(text="harbour", now=NOW, first=20, depth=2)
    with counting() as far:
        quay = await feed.search(text="quay", now=NOW, first=20, depth=2)

    assert {record.id for record in harbour.items} == {made[39].id, made[38].id}
    assert {record.id for record in quay.items} == {made[29].id, made[4].id}
    if Tortoise.get_connection("default").capabilities.dialect == "postgres":
        tries = [statement for statement in [*near, *far] if "s.vector AS vector" in statement]
        assert len(tries) == 3  # harbour: the newest 16 ids; quay: those, then all


def test_each_try_of_the_window_spans_what_the_last_one_found_should_hold() -> None:
    # 50 matches in 2,000 ids: 500 should lie in 20,000; half again as many, 30,000.
    assert search._next_span(2_000, 50, 500) == 30_000
    assert search._next_span(2_000, 499, 500) > 2_000
    assert search._next_span(2_000, 0, 500) > 10**18  # none found: all of them


async def test_bylines_and_tags_are_searched_with_their_item(db: None) -> None:
    """The index holds the names of an item's bylines and tags, written with the item."""
    desk = await factories.make_author(slug="kharkiv-desk", name="Kharkiv Desk")
    tagged = await factories.make_article(
        title="Night trains", tags=["railways"], published_at=_ago(1)
    )
    signed = await factories.make_article(
        title="Morning market", authors=[desk], published_at=_ago(2)
    )
    await factories.make_article(title="Weather", published_at=_ago(3))

    by_tag = await feed.search(text="railways", now=NOW, first=20)
    by_byline = await feed.search(text="kharkiv desk", now=NOW, first=20)

    assert [record.id for record in by_tag.items] == [tagged.id]
    assert [record.id for record in by_byline.items] == [signed.id]


async def test_postgresql_reads_start_no_parallel_workers(db: None) -> None:
    """A page of a few rows is slower with workers than without (cms/postgres.py)."""
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect != "postgres":
        pytest.skip("a PostgreSQL setting")
    rows = await connection.execute_query_dict("SHOW max_parallel_workers_per_gather")

    assert rows == [{"max_parallel_workers_per_gather": "0"}]
