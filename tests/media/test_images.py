"""cms.media.images: real images made with Pillow in memory; the type and size come from
the bytes, and anything else (damaged files, text, SVG, decompression bombs) is Invalid."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from cms.errors import Invalid
from cms.media import images


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
