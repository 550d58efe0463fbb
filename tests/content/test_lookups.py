"""Batch readers, called directly (cms.content.lookups): one call answers for several
content ids at once, keeps bylines in their order and tags by name, leaves out ids that have
nothing (or do not exist), and reads only what an Include asks for."""

from __future__ import annotations

from cms.content import editing, inputs, lookups
from cms.content.records import AuthorRecord, MediaRecord, SectionRecord, TagRecord
from cms.content.revisions import RevisionRecord
from cms.models import AuthorKind, Content, ContentKind, Revision, Section, Tag
from tests import factories

MISSING = 999_999


async def test_authors_for_several_items_keeps_each_bylines_order(db: None) -> None:
    iryna = await factories.make_author(slug="iryna-zavolska", bio="Reports from Kharkiv.")
    desk = await factories.make_author(slug="news-desk", kind=AuthorKind.DESK)
    both = await factories.make_article(title="Both", authors=[desk, iryna])
    one = await factories.make_article(title="One", authors=[iryna])
    nobody = await factories.make_article(title="Nobody")

    bylines = await lookups.authors_for([one.id, MISSING, both.id, nobody.id])

    assert {id: [a.slug for a in authors] for id, authors in bylines.items()} == {
        both.id: ["news-desk", "iryna-zavolska"],
        one.id: ["iryna-zavolska"],
    }
    assert bylines[one.id] == [
        AuthorRecord(
            id=iryna.id,
            name="Iryna Zavolska",
            slug="iryna-zavolska",
            kind=AuthorKind.PERSON,
            bio="Reports from Kharkiv.",
        )
    ]
    assert bylines[both.id][0].kind == AuthorKind.DESK


async def test_authors_for_joins_avatars_only_when_asked(db: None) -> None:
    pictured = await factories.make_author(slug="pictured", avatar=True)
    plain = await factories.make_author(slug="plain")
    article = await factories.make_article(authors=[pictured, plain])

    without = await lookups.authors_for([article.id])
    with_avatars = await lookups.authors_for([article.id], avatars=True)

    assert [a.avatar for a in without[article.id]] == [None, None]
    first, second = with_avatars[article.id]
    assert first.avatar is not None
    assert (first.avatar.id, first.avatar.key) == (pictured.avatar_id, "avatars/pictured.png")  # type: ignore[attr-defined]
    assert second.avatar is None


async def test_tags_for_several_items_by_name(db: None) -> None:
    first = await factories.make_article(title="First", tags=["war", "kharkiv", "culture"])
    second = await factories.make_article(title="Second", tags=["kharkiv"])
    untagged = await factories.make_article(title="Untagged")

    tags = await lookups.tags_for([second.id, first.id, untagged.id, MISSING])

    assert {id: [t.slug for t in found] for id, found in tags.items()} == {
        first.id: ["culture", "kharkiv", "war"],
        second.id: ["kharkiv"],
    }
    assert tags[second.id] == tags[first.id][1:2]
    assert isinstance(tags[second.id][0], TagRecord)
    assert tags[second.id][0].name == "Kharkiv"


async def test_revisions_for_several_items_newest_first(db: None) -> None:
    first = await factories.make_article(title="First")
    second = await factories.make_article(title="Second")
    for title in ("First, edited", "First, edited again"):
        await editing.update(
            id=first.id,
            kind=ContentKind.ARTICLE,
            data=inputs.ContentInput(title=title),
            viewer=factories.ADMIN_VIEWER,
        )

    revisions = await lookups.revisions_for([second.id, first.id, MISSING])

    assert {id: [(r.version, r.title) for r in found] for id, found in revisions.items()} == {
        first.id: [(3, "First, edited again"), (2, "First, edited"), (1, "First")],
        second.id: [(1, "Second")],
    }
    stored = await Revision.get(content_id=second.id)
    assert revisions[second.id] == [
        RevisionRecord(
            id=stored.id,
            content_id=second.id,
            version=1,
            created_at=stored.created_at,
            created_by="tests",
            title="Second",
        )
    ]


async def test_no_ids_means_no_answer(db: None) -> None:
    await factories.make_article(authors=[await factories.make_author()], tags=["war"])

    assert await lookups.authors_for([]) == {}
    assert await lookups.tags_for([]) == {}
    assert await lookups.revisions_for([]) == {}
    assert await lookups.authors_for([MISSING]) == {}


async def test_content_records_read_what_the_include_asks_for(db: None) -> None:
    await factories.make_section(slug="war", name="War")
    await factories.make_author(slug="iryna-zavolska")
    made = [
        await factories.make_article(
            title=f"Item {n}",
            body=f"Body {n}.",
            section="war" if n != 1 else None,
            authors=["iryna-zavolska"],
            tags=["kharkiv"],
            hero_image=n == 0,
        )
        for n in range(3)
    ]
    query = Content.filter(id__in=[c.id for c in made] + [MISSING]).order_by("id")

    bare = await lookups.content_records(query, lookups.Include())
    full = await lookups.content_records(query, lookups.EVERYTHING)
    await lookups.attach_relations(full, lookups.EVERYTHING)

    assert [r.id for r in bare] == [r.id for r in full] == [c.id for c in made]
    assert [(r.body, r.section, r.hero_image, r.authors, r.tags) for r in bare] == [
        (None, None, None, [], [])
    ] * 3
    assert [r.body for r in full] == ["Body 0.", "Body 1.", "Body 2."]
    war = await Section.get(slug="war")
    assert [r.section for r in full] == [
        SectionRecord(war.id, "War", "war"),
        None,
        SectionRecord(war.id, "War", "war"),
    ]
    hero = full[0].hero_image
    assert isinstance(hero, MediaRecord)
    assert (hero.id, hero.mime_type, hero.width, hero.alt_text) == (
        made[0].hero_image_id,  # type: ignore[attr-defined]
        "image/png",
        1200,
        "A picture",
    )
    assert [r.hero_image for r in full[1:]] == [None, None]
    assert [[a.slug for a in r.authors] for r in full] == [["iryna-zavolska"]] * 3
    assert [[t.slug for t in r.tags] for r in full] == [["kharkiv"]] * 3


async def test_attach_relations_gives_items_without_any_an_empty_list(db: None) -> None:
    tagged = await factories.make_article(title="Tagged", tags=["war"])
    bare = await factories.make_article(title="Bare")
    records = await lookups.content_records(
        Content.filter(id__in=[tagged.id, bare.id]).order_by("id"), lookups.Include()
    )

    await lookups.attach_relations(records, lookups.Include(tags=True))

    assert [[t.slug for t in r.tags] for r in records] == [["war"], []]
    assert [r.authors for r in records] == [[], []]  # not asked for


async def test_single_readers_answer_none_for_what_does_not_exist(db: None) -> None:
    author = await factories.make_author(slug="iryna-zavolska", email="iz@news.example")
    culture = await factories.make_section(slug="culture", name="Culture")
    war = await factories.make_section(slug="war", name="War")
    media = await factories.make_media(key="tests/one.png", caption="A caption")
    await factories.make_article(tags=["kharkiv"])
    tag_id = (await Tag.get(slug="kharkiv")).id

    by_slug = await lookups.author(slug="iryna-zavolska")
    by_id = await lookups.author(id=author.id, avatar=False)

    assert by_slug == by_id
    assert by_slug is not None and (by_slug.id, by_slug.email) == (author.id, "iz@news.example")
    assert await lookups.author(slug="nobody") is None
    assert await lookups.author(id=MISSING) is None
    assert await lookups.sections() == [
        SectionRecord(culture.id, "Culture", "culture"),
        SectionRecord(war.id, "War", "war"),
    ]
    assert await lookups.section(id=war.id) == SectionRecord(war.id, "War", "war")
    assert await lookups.section(id=MISSING) is None
    assert await lookups.tag(id=tag_id) == TagRecord(tag_id, "Kharkiv", "kharkiv")
    assert await lookups.tag(id=MISSING) is None
    found = await lookups.media(id=media.id)
    assert found is not None and (found.key, found.caption) == ("tests/one.png", "A caption")
    assert await lookups.media(id=MISSING) is None
