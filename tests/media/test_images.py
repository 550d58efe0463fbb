"""cms.media.images: real images made with Pillow in memory; the type and size come from
the bytes, and anything else (damaged files, text, SVG, decompression bombs) is Invalid."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from cms.errors import Invalid
from cms.media import images
from tests.media import test_png

ROOT = Path(__file__).resolve().parents[2]


def _image(
    format: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **options: object
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "red" if mode == "RGB" else 1).save(buffer, format, **options)
    return buffer.getvalue()


def _noisy_jpeg(size: tuple[int, int] = (256, 256)) -> bytes:
    """A JPEG whose scan data is long enough that cutting it leaves a readable header."""
    noise = bytes(
        (x * 7919 + y * 104729) % 251
        for y in range(size[1])
        for x in range(size[0])
        for _ in range(3)
    )
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, noise).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming `width` x `height`, then IEND: no pixels at all."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("format", "mime_type", "extension"),
    [
        ("JPEG", "image/jpeg", "jpg"),
        ("PNG", "image/png", "png"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
async def test_accepted_formats_report_type_and_size(
    format: str, mime_type: str, extension: str
) -> None:
    info = await images.inspect(_image(format, (64, 48)))

    assert info == images.ImageInfo(mime_type, extension, 64, 48)


async def test_a_camera_jpeg_with_a_second_picture_is_a_jpeg() -> None:
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")
    first.save(buffer, "MPO", save_all=True, append_images=[second])

    info = await images.inspect(buffer.getvalue())

    assert info == images.ImageInfo("image/jpeg", "jpg", 40, 30)


async def test_a_photo_turned_by_its_exif_orientation_reports_its_displayed_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise

    info = await images.inspect(_image("JPEG", (64, 48), exif=exif.tobytes()))

    assert (info.width, info.height) == (48, 64)


async def test_an_animated_gif_is_accepted() -> None:
    frames = [Image.new("P", (20, 10), colour) for colour in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)

    info = await images.inspect(buffer.getvalue())

    assert info == images.ImageInfo("image/gif", "gif", 20, 10)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_noisy_jpeg()[:-2000], id="truncated-jpeg"),
        pytest.param(_image("PNG", (300, 200))[:-30], id="truncated-png"),
        pytest.param(_image("WEBP", (300, 200))[:-30], id="truncated-webp"),
    ],
)
async def test_a_truncated_image_is_invalid(data: bytes) -> None:
    with pytest.raises(Invalid) as caught:
        await images.inspect(data)

    assert caught.value.field == "file"
    assert "damaged or incomplete" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Kyiv, 24 February: the first reports came in before dawn.\n", id="text"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", id="pdf"),
        pytest.param(_image("BMP"), id="bmp"),
        pytest.param(_image("TIFF"), id="tiff"),
        pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", id="eps"),
    ],
)
async def test_anything_but_jpeg_png_gif_webp_is_invalid(data: bytes) -> None:
    with pytest.raises(Invalid) as caught:
        await images.inspect(data)

    assert caught.value.field == "file"
    assert "JPEG, PNG, GIF or WebP" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.cookie)</script></svg>",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
)
async def test_svg_is_refused_because_it_can_carry_scripts(data: bytes) -> None:
    with pytest.raises(Invalid) as caught:
        await images.inspect(data)

    assert caught.value.field == "file"
    assert "SVG is not accepted" in caught.value.message


async def test_a_decompression_bomb_is_invalid() -> None:
    # 20000 x 20000 pixels of one colour: 400 megapixels in about 50 KB.
    bomb = _image("PNG", (20_000, 20_000), mode="1")
    assert len(bomb) < 100_000

    with pytest.raises(Invalid) as caught:
        await images.inspect(bomb)

    assert caught.value.field == "file"
    assert "50 megapixels" in caught.value.message


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(100_000, 100_000, id="header-claims-10-gigapixels"),
        pytest.param(9_000, 9_000, id="81-megapixels-between-the-limit-and-twice-it"),
        pytest.param(50_001, 1_000, id="just-over-the-limit"),
    ],
)
async def test_a_header_claiming_too_many_pixels_is_invalid(width: int, height: int) -> None:
    with pytest.raises(Invalid) as caught:
        await images.inspect(_png_header_only(width, height))

    assert caught.value.field == "file"
    assert "too many pixels" in caught.value.message


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_over_the_limit_is_invalid_even_when_pillow_only_warns() -> None:
    # In production Pillow's warning is not an error: the size check refuses by itself.
    with pytest.raises(Invalid) as caught:
        await images.inspect(_png_header_only(9_000, 9_000))

    assert "too many pixels" in caught.value.message


async def test_the_limit_itself_is_allowed_in_the_header_check() -> None:
    # Exactly MAX_PIXELS passes the size check; this header has no pixel data, so it then
    # fails as an incomplete file, not as a bomb.
    with pytest.raises(Invalid) as caught:
        await images.inspect(_png_header_only(50_000, 1_000))

    assert "damaged or incomplete" in caught.value.message


# --- the decode budget -------------------------------------------------------------------

# Run in a fresh interpreter: ru_maxrss is the process's peak, so only there does its
# growth across one inspect() measure that inspect() alone.
_MEASURE = """
import asyncio, json, resource, sys
from cms.errors import Invalid
from cms.media import images
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    info = asyncio.run(images.inspect(data))
    outcome = [info.mime_type, info.width, info.height]
except Invalid as error:
    outcome = error.message
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grown": (after - before) * 1024, "outcome": outcome}))
"""


def _inspected_alone(data: bytes, tmp_path: Path) -> tuple[int, object]:
    """(bytes the peak RSS grew by, [mime type, width, height] or the message) of
    inspecting `data` in a fresh interpreter."""
    path = tmp_path / "upload"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    measured = json.loads(done.stdout)
    return measured["grown"], measured["outcome"]


def _saved(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def test_a_49_megapixel_png_is_checked_within_the_budget(tmp_path: Path) -> None:
    data = test_png.made(7_000, 7_000)  # decoded, 196 MB of Pillow's pixels
    assert len(data) < 1_000_000

    grown, outcome = _inspected_alone(data, tmp_path)

    assert outcome == ["image/png", 7_000, 7_000]
    assert grown < images.DECODE_BUDGET


def test_a_49_megapixel_png_with_damaged_data_is_refused_without_decoding(tmp_path: Path) -> None:
    data = test_png.made(7_000, 7_000, missing=21_001)  # the last row is missing

    grown, outcome = _inspected_alone(data, tmp_path)

    assert outcome == "the image is damaged or incomplete"
    assert grown < images.DECODE_BUDGET


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            lambda: _saved(Image.new("L", (8_000, 5_000), 90), "JPEG", progressive=True),
            ["image/jpeg", 8_000, 5_000],
            id="40-megapixel-progressive-jpeg",  # its coefficients alone: 80 MB
        ),
        pytest.param(
            lambda: _saved(Image.new("P", (7_000, 7_000), 3), "GIF"),
            ["image/gif", 7_000, 7_000],
            id="49-megapixel-gif",  # at most 2 bytes a pixel: 98 MB
        ),
        pytest.param(
            lambda: _saved(Image.new("RGB", (4_000, 4_000), "teal"), "WEBP", lossless=True),
            ["image/webp", 4_000, 4_000],
            id="16-megapixel-webp",  # libwebp and Pillow: 16 bytes a pixel
        ),
    ],
)
def test_an_image_too_big_to_decode_within_the_budget_is_checked_without_decoding(
    make: Callable[[], bytes], expected: list[object], tmp_path: Path
) -> None:
    data = make()

    grown, outcome = _inspected_alone(data, tmp_path)

    assert outcome == expected
    assert grown < images.DECODE_BUDGET


@pytest.mark.parametrize(
    ("format", "options", "cost"),
    [
        ("JPEG", {}, 10 * 8 * 4),  # at 1/8 scale, 4 bytes a pixel
        # and the coefficients at 4:2:0: 10 x 8 luma blocks, 5 x 4 of each chroma
        ("JPEG", {"progressive": True}, 10 * 8 * 4 + (80 + 20 + 20) * 128),
        ("PNG", {}, 80 * 64 * 5),
        ("GIF", {}, 80 * 64 * 2),
        ("WEBP", {}, 80 * 64 * 17),
    ],
)
def test_the_cost_of_decoding_is_estimated_from_the_header(
    format: str, options: dict[str, object], cost: int
) -> None:
    data = _saved(Image.new("RGB", (80, 64), "teal"), format, **options)

    with Image.open(io.BytesIO(data)) as image:
        assert images.decode_cost(image) == cost


@pytest.mark.parametrize(
    ("width", "height"), [pytest.param(0, 10, id="no-columns"), pytest.param(10, 0, id="no-rows")]
)
async def test_a_header_claiming_no_pixels_is_not_an_image(width: int, height: int) -> None:
    with pytest.raises(Invalid) as caught:
        await images.inspect(_png_header_only(width, height))

    assert caught.value.field == "file"
    assert caught.value.message == "the file must be a JPEG, PNG, GIF or WebP image"


def _turned(format: str, size: tuple[int, int], mode: str, orientation: int | None) -> bytes:
    """An image of `size`, with an EXIF orientation (or no EXIF at all when None)."""
    options: dict[str, object] = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    return _saved(Image.new(mode, size, 0), format, **options)


@pytest.mark.parametrize(
    ("make", "size"),
    [
        # 13.6 megapixels of PNG: 68 MB to decode; its EXIF is in an eXIf chunk
        pytest.param(
            lambda: _turned("PNG", (4_000, 3_400), "1", 6), (3_400, 4_000), id="png-turned"
        ),
        pytest.param(
            lambda: _turned("PNG", (4_000, 3_400), "1", None), (4_000, 3_400), id="png-as-is"
        ),
        # 4 megapixels of WebP: 68 MB to decode; its EXIF is in the RIFF header
        pytest.param(
            lambda: _turned("WEBP", (4_000, 1_000), "RGB", 8), (1_000, 4_000), id="webp-turned"
        ),
        pytest.param(
            lambda: _turned("WEBP", (4_000, 1_000), "RGB", 1), (4_000, 1_000), id="webp-upright"
        ),
    ],
)
async def test_an_image_too_big_to_decode_reports_its_size_turned_by_its_exif(
    make: Callable[[], bytes], size: tuple[int, int]
) -> None:
    data = make()
    with Image.open(io.BytesIO(data)) as image:
        assert images.decode_cost(image) > images.DECODE_BUDGET  # checked without decoding

    info = await images.inspect(data)

    assert (info.width, info.height) == size
