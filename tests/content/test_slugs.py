"""Slugs: made from titles, checked, and kept unique per locale."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cms.content import slugs
from cms.errors import Invalid
from tests import factories

# --- slugify -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Kyiv reopens metro", "kyiv-reopens-metro"),
        ("Élections à Kyiv: résultats", "elections-a-kyiv-resultats"),
        ("Ångström, naïve café, façade", "angstrom-naive-cafe-facade"),
        ("Hello, World!!!", "hello-world"),
        ("  --Leading and trailing--  ", "leading-and-trailing"),
        ("Many    spaces\tand\nlines", "many-spaces-and-lines"),
        ("2025: 4,000 books (and more)", "2025-4-000-books-and-more"),
        ("UPPER lower MiXeD", "upper-lower-mixed"),
        ("a/b\\c.d_e+f", "a-b-c-d-e-f"),
        ("ﬁnance", "finance"),  # a ligature decomposes
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugs.slugify(title) == slug


@pytest.mark.parametrize("title", ["", "   ", "!!!", "—", "???…", "🙂🙂"])
def test_slugify_of_a_title_with_no_letters_or_digits_is_still_a_slug(title: str) -> None:
    assert slugs.slugify(title) == "item"


def test_slugify_is_cut_at_the_maximum_length_without_a_trailing_hyphen() -> None:
    slug = slugs.slugify("word " * 100)

    assert len(slug) <= slugs.MAX_LENGTH == 200
    assert not slug.endswith("-")
    assert slugs.check(slug) == slug


@settings(max_examples=200, deadline=None, database=None)
@given(title=st.text(max_size=300))
def test_slugify_always_gives_a_slug_that_check_accepts(title: str) -> None:
    assert slugs.check(slugs.slugify(title))


# --- check -------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a", "war", "kyiv-reopens-metro", "2025", "a-1-b-2", "x" * 200])
def test_check_accepts_well_formed_slugs(slug: str) -> None:
    assert slugs.check(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Upper",
        "two--hyphens",
        "-leading",
        "trailing-",
        "with space",
        "under_score",
        "dot.ted",
        "slash/ed",
        "café",
        "київ",
        "x" * 201,
        "tab\t",
        "new\nline",
        "ok\n",
    ],
)
def test_check_rejects_bad_slugs(slug: str) -> None:
    with pytest.raises(Invalid) as caught:
        slugs.check(slug)

    assert caught.value.field == "slug"
    assert "slug" in caught.value.message


def test_check_names_the_field_it_is_given() -> None:
    with pytest.raises(Invalid) as caught:
        slugs.check("Bad Slug", field="tagSlugs")

    assert caught.value.field == "tagSlugs"


# --- unique per locale (through the editing service) -------------------------------------


async def test_the_same_title_gets_a_numbered_slug(db: None) -> None:
    first = await factories.make_article(title="Kyiv reopens metro")
    second = await factories.make_article(title="Kyiv reopens metro")
    third = await factories.make_video_episode(title="Kyiv reopens metro")

    assert [first.slug, second.slug, third.slug] == [
        "kyiv-reopens-metro",
        "kyiv-reopens-metro-2",
        "kyiv-reopens-metro-3",
    ]


async def test_a_slug_that_only_starts_like_another_is_not_a_clash(db: None) -> None:
    longer = await factories.make_article(title="War games")
    shorter = await factories.make_article(title="War")

    assert (longer.slug, shorter.slug) == ("war-games", "war")


async def test_the_same_slug_may_exist_once_per_locale(db: None) -> None:
    english = await factories.make_article(title="Kyiv", locale="en")
    ukrainian = await factories.make_article(title="Kyiv", locale="uk")

    assert english.slug == ukrainian.slug == "kyiv"


async def test_a_chosen_slug_that_is_taken_is_invalid(db: None) -> None:
    await factories.make_article(title="One", slug="taken")

    with pytest.raises(Invalid) as caught:
        await factories.make_article(title="Two", slug="taken")

    assert caught.value.field == "slug"


async def test_a_malformed_chosen_slug_is_invalid(db: None) -> None:
    with pytest.raises(Invalid) as caught:
        await factories.make_article(title="One", slug="Not A Slug")

    assert caught.value.field == "slug"


async def test_a_title_of_no_letters_gets_a_usable_slug(db: None) -> None:
    first = await factories.make_article(title="!!!")
    second = await factories.make_article(title="???")

    assert (first.slug, second.slug) == ("item", "item-2")


async def test_a_numbered_slug_of_a_longest_title_still_fits(db: None) -> None:
    title = "word " * 60  # slugify cuts it at 200 characters
    first = await factories.make_article(title=title)
    second = await factories.make_article(title=title)

    assert len(first.slug) <= slugs.MAX_LENGTH
    assert len(second.slug) <= slugs.MAX_LENGTH
    assert second.slug != first.slug
    assert slugs.check(second.slug) == second.slug
