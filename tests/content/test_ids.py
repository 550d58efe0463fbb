"""Global IDs (cms.content.ids): encoded and decoded, and `expect`, the one way to read
the ID of an object of a given type."""

from __future__ import annotations

import pytest

from cms.content import ids
from cms.errors import Invalid, NotFound
from cms.models import ContentKind


def test_an_id_decodes_to_what_it_encodes() -> None:
    assert ids.decode(ids.encode("WebhookDelivery", 42)) == ("WebhookDelivery", 42)
    assert ids.decode(ids.content_id(ContentKind.VIDEO_EPISODE, 7)) == ("VideoEpisode", 7)


@pytest.mark.parametrize("value", ["not-an-id", "", ids.encode("Article", 1)[:-2], "QXJ0aWNsZTp4"])
def test_something_that_is_not_one_of_our_ids_is_invalid(value: str) -> None:
    with pytest.raises(Invalid) as refused:
        ids.expect(value, "Article", field="heroImageId")

    assert (refused.value.field, refused.value.message) == (
        "heroImageId",
        "heroImageId is not a valid ID",
    )


def test_expect_answers_the_primary_key_of_the_expected_type() -> None:
    assert ids.expect(ids.encode("Webhook", 12), "Webhook") == 12
    assert ids.expect(ids.encode("Section", 3), "Tag", "Section") == 3


@pytest.mark.parametrize(
    ("type_names", "what", "message"),
    [
        (("Webhook",), None, "no webhook has that id"),
        (("WebhookDelivery",), None, "no webhook delivery has that id"),
        (("VideoEpisode",), None, "no video episode has that id"),
        (("Article", "VideoEpisode"), "content", "no content has that id"),
    ],
)
def test_the_id_of_another_type_is_not_found(
    type_names: tuple[str, ...], what: str | None, message: str
) -> None:
    with pytest.raises(NotFound) as missing:
        ids.expect(ids.encode("Tag", 1), *type_names, what=what)

    assert missing.value.message == message


def test_expect_content_takes_either_kind_or_the_one_asked_for() -> None:
    article, episode = ids.encode("Article", 1), ids.encode("VideoEpisode", 2)

    assert [ids.expect_content(article), ids.expect_content(episode)] == [1, 2]
    assert ids.expect_content(episode, ContentKind.VIDEO_EPISODE) == 2
    with pytest.raises(NotFound, match="^no article has that id$"):
        ids.expect_content(episode, ContentKind.ARTICLE)
    with pytest.raises(NotFound, match="^no content has that id$"):
        ids.expect_content(ids.encode("Revision", 1))


@pytest.mark.parametrize(
    ("text", "pk"),
    [("1", 1), ("42", 42), ("2147483647", 2**31 - 1)],
)
def test_a_primary_key_is_ascii_digits_within_the_columns_range(text: str, pk: int) -> None:
    assert ids.primary_key(text) == pk


@pytest.mark.parametrize(
    "text",
    ["", "0", "01", "+1", "-1", " 1", "1 ", "1_000", "1.0", "\u0661", "²", "2147483648", "9" * 40],
)
def test_anything_else_is_no_primary_key(text: str) -> None:
    assert ids.primary_key(text) is None


def test_another_base64_spelling_of_an_id_is_not_an_id() -> None:
    id = ids.encode("Article", 10)  # 10 bytes: the last digit before "==" has unused bits
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other = id[:-3] + digits[digits.index(id[-3]) + 1] + id[-2:]

    with pytest.raises(Invalid):
        ids.decode(other)
    with pytest.raises(Invalid):
        ids.decode(id.rstrip("="))
    assert ids.decode(id) == ("Article", 10)
