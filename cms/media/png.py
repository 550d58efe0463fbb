"""A PNG's image data checked without decoding its pixels.

Pillow decodes a PNG into a buffer of four bytes a pixel (a 49-megapixel PNG: about 200 MB)
before it can say whether the data is whole. A PNG too big to decode within the decode
budget is checked here instead, in constant memory: its IDAT chunks are inflated in
pieces of WINDOW bytes (each piece dropped once counted), and the inflated stream must end
where the zlib stream ends, with its checksum, at exactly the length IHDR's width, height,
bit depth, colour type and interlacing give. A truncated file or damaged image data is
refused, as decoding it would be. (Chunk CRCs are Pillow's `verify`, run before this.)
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Final

from cms.errors import Invalid

__all__ = ["WINDOW", "ImageData", "check_image_data", "raw_length"]

WINDOW: Final = 1024 * 1024
"""The most inflated bytes held at once."""

_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_CHANNELS: Final = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples a pixel
# Adam7: (first column, first row, column step, row step) of each of the seven passes.
_ADAM7: Final = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                 (1, 0, 2, 2), (0, 1, 1, 2))  # fmt: skip
_DAMAGED: Final = "the image is damaged or incomplete"


@dataclass(frozen=True, slots=True)
class ImageData:
    """What the walk over the chunks found: the inflated length and an eXIf chunk."""

    length: int
    exif: bytes | None


def raw_length(width: int, height: int, bit_depth: int, colour_type: int, interlaced: bool) -> int:
    """The length of the inflated image data: each scanline of each pass, plus its filter
    byte."""
    bits = bit_depth * _CHANNELS[colour_type]

    def rows(w: int, h: int) -> int:
        return h * (1 + (w * bits + 7) // 8) if w and h else 0

    if not interlaced:
        return rows(width, height)
    return sum(
        rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for x0, y0, dx, dy in _ADAM7
    )


def check_image_data(data: bytes) -> ImageData:
    """Inflate the IDAT stream of the PNG in `data` in WINDOW-sized pieces; Invalid
    (field "file") unless it is whole and exactly as long as IHDR says."""
    if not data.startswith(_SIGNATURE):
        raise Invalid(_DAMAGED, field="file")
    view = memoryview(data)
    position = len(_SIGNATURE)
    inflater = zlib.decompressobj()
    expected: int | None = None
    produced = 0
    exif: bytes | None = None
    try:
        while position + 8 <= len(data):
            length, kind = struct.unpack_from(">I4s", data, position)
            body = view[position + 8 : position + 8 + length]
            position += 12 + length
            if kind == b"IHDR":
                width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
                expected = raw_length(width, height, depth, colour, interlace == 1)
            elif kind == b"IDAT" and expected is not None:
                pending: bytes | memoryview = body
                while pending:
                    produced += len(inflater.decompress(pending, WINDOW))
                    if produced > expected:
                        raise Invalid(_DAMAGED, field="file")
                    pending = inflater.unconsumed_tail
            elif kind == b"eXIf":
                exif = bytes(body)
            elif kind == b"IEND":
                break
        produced += len(inflater.flush())  # at most a match's length was held back
    except (zlib.error, struct.error, KeyError):
        raise Invalid(_DAMAGED, field="file") from None
    if expected is None or not inflater.eof or produced != expected:
        raise Invalid(_DAMAGED, field="file")
    return ImageData(produced, exif)
