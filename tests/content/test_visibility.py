"""The one visibility rule: public means PUBLISHED and published_at <= now, to the
microsecond, in SQL (`public_q`) and in Python (`is_public`) alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.content import publishing, visibility
from cms.models import Content, ContentStatus
from tests import factories
from tests.factories import ADMIN_VIEWER

ONE_MICROSECOND = timedelta(microseconds=1)
KYIV_SUMMER = timezone(timedelta(hours=3))

# A whole second (stored without a fraction) and a time with a fraction.
MOMENTS = [
    datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC),
    datetime(2025, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC),
    datetime(2025, 5, 1, 12, 0, 0, 999_999, tzinfo=UTC),
]


async def _public_ids(now: datetime) -> set[int]:
    return set(await Content.filter(visibility.public_q(now)).values_list("id", flat=True))


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda moment: moment.isoformat())
async def test_an_item_is_public_from_its_publication_time_on(db: None, moment: datetime) -> None:
    item = await factories.make_article(published_at=moment)
    stored = await Content.get(id=item.id)
    assert stored.published_at == moment

    assert visibility.is_public(stored, moment)
    assert visibility.is_public(stored, moment + ONE_MICROSECOND)
    assert not visibility.is_public(stored, moment - ONE_MICROSECOND)
    assert await _public_ids(moment) == {item.id}
    assert await _public_ids(moment + ONE_MICROSECOND) == {item.id}
    assert await _public_ids(moment - ONE_MICROSECOND) == set()


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda moment: moment.isoformat())
async def test_now_in_another_timezone_is_the_same_instant(db: None, moment: datetime) -> None:
    item = await factories.make_article(published_at=moment)
    stored = await Content.get(id=item.id)
    local = moment.astimezone(KYIV_SUMMER)

    assert visibility.is_public(stored, local)
    assert not visibility.is_public(stored, local - ONE_MICROSECOND)
    assert await _public_ids(local) == {item.id}
    assert await _public_ids(local - ONE_MICROSECOND) == set()


async def test_publishing_at_a_time_in_another_timezone_stores_that_instant(db: None) -> None:
    local = datetime(2025, 5, 1, 15, 0, 0, tzinfo=KYIV_SUMMER)  # 12:00 UTC
    item = await factories.make_article(published_at=local)
    noon_utc = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)

    assert (await Content.get(id=item.id)).published_at == noon_utc
    assert await _public_ids(noon_utc) == {item.id}
    assert await _public_ids(noon_utc - ONE_MICROSECOND) == set()


async def test_only_published_items_are_public(db: None) -> None:
    moment = MOMENTS[1]
    later = moment + timedelta(days=1)
    public = await factories.make_article(title="Public", published_at=moment)
    draft = await factories.make_article(title="Draft")
    archived = await factories.make_article(title="Archived", published_at=moment)
    await publishing.archive(id=archived.id, viewer=ADMIN_VIEWER)
    withdrawn = await factories.make_video_episode(title="Withdrawn", published_at=moment)
    await publishing.unpublish(id=withdrawn.id, viewer=ADMIN_VIEWER)
    scheduled = await factories.make_video_episode(title="Scheduled", published_at=later)

    assert await _public_ids(moment) == {public.id}
    assert await _public_ids(later) == {public.id, scheduled.id}
    rows = {row.id: row for row in await Content.all()}
    assert rows[archived.id].status == ContentStatus.ARCHIVED
    assert rows[archived.id].published_at == moment  # keeps its time, yet is not public
    assert rows[withdrawn.id].status == ContentStatus.DRAFT
    assert rows[draft.id].published_at is None
    assert {id for id, row in rows.items() if visibility.is_public(row, later)} == {
        public.id,
        scheduled.id,
    }


def test_is_public_of_plain_values() -> None:
    class Item:
        def __init__(
            self, status: str, published_at: datetime | None, expires_at: datetime | None = None
        ) -> None:
            self.status = status
            self.published_at = published_at
            self.expires_at = expires_at

    now = MOMENTS[0]
    assert visibility.is_public(Item("published", now), now)
    assert visibility.is_public(Item(ContentStatus.PUBLISHED, now), now)
    assert not visibility.is_public(Item("published", None), now)
    assert not visibility.is_public(Item("draft", now), now)
    assert not visibility.is_public(Item("archived", now - timedelta(days=1)), now)
    assert not visibility.is_public(Item("scheduled", now - timedelta(days=1)), now)
    assert not visibility.is_public(Item("killed", now - timedelta(days=1)), now)
    assert not visibility.is_public(Item("in_review", now - timedelta(days=1)), now)
    # Public until its expiry, not at it.
    day = timedelta(days=1)
    assert visibility.is_public(Item("published", now - day, now + day), now)
    assert not visibility.is_public(Item("published", now - day, now), now)
    assert not visibility.is_public(Item("published", now - day, now - day), now)


@pytest.mark.parametrize("role", list(Role))
def test_token_holders_preview_and_anonymous_readers_do_not(role: Role) -> None:
    holder = Viewer(name="someone", role=role, token_id=1)

    assert visibility.can_preview(holder)
    assert not visibility.can_preview(ANONYMOUS)


async def test_visible_to_the_anonymous_reader_is_the_public_rule(db: None) -> None:
    moment = MOMENTS[1]
    public = await factories.make_article(title="Public", published_at=moment)
    draft = await factories.make_article(title="Draft")
    scheduled = await factories.make_article(
        title="Scheduled", published_at=moment + timedelta(hours=1)
    )
    holder = Viewer(name="someone", role=Role.VIEWER, token_id=1)

    anonymous = visibility.visible_to(Content.all(), viewer=ANONYMOUS, now=moment)
    previewer = visibility.visible_to(Content.all(), viewer=holder, now=moment)

    assert set(await anonymous.values_list("id", flat=True)) == {public.id}
    assert set(await previewer.values_list("id", flat=True)) == {public.id, draft.id, scheduled.id}
