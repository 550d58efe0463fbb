"""cms.media.png: a PNG's image data checked in constant memory, without decoding pixels.
The expected length is checked against Pillow: what Pillow decodes, the walk accepts."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from cms.errors import Invalid
from cms.media import png


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def made(
    width: int,
    height: int,
    *,
    depth: int = 8,
    colour: int = 2,
    interlaced: bool = False,
    missing: int = 0,
    extra: int = 0,
    idat_size: int = 8192,
) -> bytes:
    """A PNG of zero bytes (filter 0, black) whose image data is `missing` bytes short or
    `extra` bytes long, split into IDAT chunks of `idat_size`; its CRCs are right."""
    length = png.raw_length(width, height, depth, colour, interlaced) - missing + extra
    compressor = zlib.compressobj(9)
    zeros = bytes(min(length, 1 << 20))
    parts = []
    left = length
    while left:
        parts.append(compressor.compress(zeros[: min(left, len(zeros))]))
        left -= min(left, len(zeros))
    stream = b"".join(parts) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlaced))
    palette = chunk(b"PLTE", bytes(3)) if colour == 3 else b""
    idats = b"".join(
        chunk(b"IDAT", stream[start : start + idat_size])
        for start in range(0, len(stream), idat_size)
    )
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + palette + idats + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("depth", "colour"),
    [
        (1, 0),
        (2, 0),
        (4, 0),
        (8, 0),
        (16, 0),
        (8, 2),
        (16, 2),
        (1, 3),
        (4, 3),
        (8, 3),
        (8, 4),
        (16, 4),
        (8, 6),
        (16, 6),
    ],  # fmt: skip
)
@pytest.mark.parametrize("interlaced", [False, True], ids=["progressive", "adam7"])
def test_the_length_it_expects_is_the_length_pillow_decodes(
    depth: int, colour: int, interlaced: bool
) -> None:
    data = made(13, 7, depth=depth, colour=colour, interlaced=interlaced)

    with Image.open(io.BytesIO(data)) as image:
        image.load()  # Pillow fails on image data of another length
    found = png.check_image_data(data)

    assert found.length == png.raw_length(13, 7, depth, colour, interlaced)


def test_image_data_over_many_chunks_and_windows_is_accepted() -> None:
    data = made(3000, 1000, idat_size=1000)  # 9 MB inflated: nine windows, many chunks

    assert png.check_image_data(data).length == png.raw_length(3000, 1000, 8, 2, False)


@pytest.mark.parametrize(("missing", "extra"), [(1, 0), (3001, 0), (0, 1), (0, 50_000)])
def test_image_data_of_another_length_is_damaged(missing: int, extra: int) -> None:
    data = made(1000, 100, missing=missing, extra=extra)

    with pytest.raises(Invalid, match="damaged or incomplete") as refused:
        png.check_image_data(data)

    assert refused.value.field == "file"


def test_a_zlib_stream_cut_short_is_damaged() -> None:
    whole = made(1000, 100)
    stream_end = whole.index(b"IEND") - 4 - 4  # the last IDAT's CRC, then IEND's length
    cut = made(1000, 100)[: stream_end - 20]  # a whole file's signature and IHDR, no end

    with pytest.raises(Invalid, match="damaged or incomplete"):
        png.check_image_data(cut)


def test_an_exif_chunk_is_returned() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = made(10, 10)
    data = data[:-12] + chunk(b"eXIf", exif.tobytes()) + data[-12:]

    assert png.check_image_data(data).exif == exif.tobytes()
