"""cms.media.service.upload against a real database (SQLite, and PostgreSQL when set):
who may upload, what is refused, and that the same bytes are stored once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from cms.auth.roles import Role
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.config import Settings
from cms.content.records import MediaRecord
from cms.errors import Forbidden, Invalid, Unauthenticated
from cms.media import service
from cms.media.storage import LocalStorage
from cms.models import Media

AUTHOR = Viewer(name="reporter", role=Role.AUTHOR)


def _png(size: tuple[int, int] = (32, 24), colour: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def local(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.media_dir)


async def test_an_author_uploads_an_image(db: None, local: LocalStorage) -> None:
    data = _png((32, 24))

    media = await service.upload(
        viewer=AUTHOR,
        storage=local,
        data=data,
        filename="harbour.png",
        alt_text="  Fishing boats in the harbour at dawn ",
        caption="The fleet returns.",
        credit="A. Photographer",
    )

    assert isinstance(media, MediaRecord)
    assert media.key == service.key_for(data, "png")
    assert media.key.startswith("uploads/") and media.key.endswith(".png")
    assert (media.mime_type, media.width, media.height) == ("image/png", 32, 24)
    assert (await Media.get(id=media.id)).size_bytes == len(data)
    assert media.alt_text == "Fishing boats in the harbour at dawn"
    assert (media.caption, media.credit) == ("The fleet returns.", "A. Photographer")
    assert local.path(media.key).read_bytes() == data
    assert await Media.filter(id=media.id).exists()


async def test_the_same_bytes_are_stored_once_and_the_first_row_is_kept(
    db: None, local: LocalStorage
) -> None:
    data = _png()
    first = await service.upload(viewer=AUTHOR, storage=local, data=data, caption="First")

    again = await service.upload(viewer=AUTHOR, storage=local, data=data, caption="Second")
    other = await service.upload(viewer=AUTHOR, storage=local, data=_png(colour="red"))

    assert again.id == first.id
    assert again.caption == "First"  # nothing is updated
    assert other.id != first.id and other.key != first.key
    assert await Media.all().count() == 2


async def test_a_missing_file_is_written_again_on_the_next_identical_upload(
    db: None, local: LocalStorage
) -> None:
    data = _png()
    media = await service.upload(viewer=AUTHOR, storage=local, data=data)
    local.path(media.key).unlink()

    await service.upload(viewer=AUTHOR, storage=local, data=data)

    assert local.path(media.key).read_bytes() == data


async def test_an_empty_alt_text_is_kept_and_empty_caption_and_credit_are_none(
    db: None, local: LocalStorage
) -> None:
    media = await service.upload(
        viewer=AUTHOR, storage=local, data=_png(), alt_text="", caption=" ", credit=""
    )

    assert [media.alt_text, media.caption, media.credit] == ["", None, None]


@pytest.mark.parametrize(
    ("viewer", "error"),
    [
        (ANONYMOUS, Unauthenticated),
        (Viewer(name="preview", role=Role.VIEWER), Forbidden),
    ],
)
async def test_below_the_author_role_nothing_is_stored(
    db: None, local: LocalStorage, viewer: Viewer, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await service.upload(viewer=viewer, storage=local, data=_png())

    assert await Media.all().count() == 0
    assert not local.root.exists() or not any(local.root.rglob("*.png"))


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"data": b""}, "file", "is empty"),
        ({"data": b"x" * (service.MAX_BYTES + 1)}, "file", "limit of 20 MB (20971520 bytes)"),
        ({"data": b"plain text, not a picture"}, "file", "JPEG, PNG, GIF or WebP"),
        ({"alt_text": "a" * 501}, "altText", "at most 500 characters"),
        ({"caption": "c" * 2001}, "caption", "at most 2000 characters"),
        ({"credit": "c" * 256}, "credit", "at most 255 characters"),
        ({"alt_text": "a\ud800"}, "altText", "without NUL characters or unpaired surrogates"),
        ({"caption": "a\x00b"}, "caption", "without NUL characters or unpaired surrogates"),
        ({"credit": "\udfff"}, "credit", "without NUL characters or unpaired surrogates"),
    ],
)
async def test_bad_input_is_invalid_and_nothing_is_stored(
    db: None, local: LocalStorage, options: dict[str, object], field: str, words: str
) -> None:
    arguments: dict[str, object] = {"data": _png(), **options}

    with pytest.raises(Invalid) as caught:
        await service.upload(viewer=AUTHOR, storage=local, **arguments)  # type: ignore[arg-type]

    assert caught.value.field == field
    assert words in caught.value.message
    assert await Media.all().count() == 0
    assert not local.root.exists() or not any(path.is_file() for path in local.root.rglob("*"))


async def test_the_message_names_the_clients_file(db: None, local: LocalStorage) -> None:
    with pytest.raises(Invalid, match=r"^notes\.txt is empty$"):
        await service.upload(viewer=AUTHOR, storage=local, data=b"", filename="notes.txt")


async def test_a_long_or_unprintable_file_name_is_shown_cut_and_escaped(
    db: None, local: LocalStorage
) -> None:
    with pytest.raises(Invalid) as caught:
        await service.upload(viewer=AUTHOR, storage=local, data=b"", filename="\ud800" + "n" * 5000)

    assert caught.value.message == "\\ud800" + "n" * 39 + "… is empty"


def test_keys_are_content_addresses() -> None:
    key = service.key_for(b"same bytes", "jpg")

    assert key == service.key_for(b"same bytes", "jpg")
    assert key != service.key_for(b"other bytes", "jpg")
    directory, name = key.removeprefix("uploads/").split("/")
    assert len(directory) == 2 and len(name) == len("0" * 30 + ".jpg")
    assert Path(key).suffix == ".jpg"
