"""What an uploaded image is, read from its bytes by Pillow (in a worker thread).

Accepted: JPEG, PNG, GIF and WebP, as Pillow detects them from the bytes; the client's
filename and content type are never trusted. SVG is refused: it is XML that can carry
scripts and external references, and Pillow cannot check it. Everything else Pillow could
open is refused too (Image.open only tries the four accepted decoders, so no other
parser, such as EPS's Ghostscript, ever sees an upload).

Decompression bombs: a few kilobytes can claim billions of pixels. An image may have at
most MAX_PIXELS pixels: 50 megapixels, so a full-resolution photo from a 45-megapixel
camera (8256 x 5504) passes and a 61-megapixel one or a 10000 x 10000 scan does not. The
size comes from the header (Image.open reads no pixels), and is checked before any pixel
is decoded; Pillow's own guard, Image.MAX_IMAGE_PIXELS, is set to the same constant, so
Pillow itself refuses more than twice it (DecompressionBombError) and warns above it
(DecompressionBombWarning); both become Invalid(field="file").

Decode budget: checking one upload decodes pixels only when that takes at most
DECODE_BUDGET (64 MiB), estimated from the header before decoding (`decode_cost`). A JPEG
is decoded at 1/8 scale (a progressive one also holds its full-size DCT coefficients,
two bytes a sample); a PNG, GIF or WebP at full size (Pillow's four bytes a pixel and the
decoder's own buffers: at most 5, 2 and 17 bytes a pixel). An image over the budget is
checked without decoding its pixels: a PNG's image data is inflated in 1 MiB pieces and
must be whole (cms.media.png); a WebP's container is checked by libwebp's demuxer when
Pillow opens it; a JPEG's and a GIF's headers by Pillow. So a 49-megapixel PNG is checked
in a few megabytes, not 200.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from cms.errors import Invalid
from cms.media import png

__all__ = ["DECODE_BUDGET", "FORMATS", "MAX_PIXELS", "ImageInfo", "decode_cost", "inspect"]

MAX_PIXELS: Final = 50_000_000
"""The most pixels (width x height) an upload may have."""
DECODE_BUDGET: Final = 64 * 1024 * 1024
"""The most memory (bytes) decoding one upload's pixels may take: 64 MiB."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    mime_type: str
    extension: str


FORMATS: Final = {
    "JPEG": ImageFormat("image/jpeg", "jpg"),
    "MPO": ImageFormat("image/jpeg", "jpg"),  # a JPEG with more pictures, as cameras write
    "PNG": ImageFormat("image/png", "png"),
    "GIF": ImageFormat("image/gif", "gif"),
    "WEBP": ImageFormat("image/webp", "webp"),
}
"""Pillow's format name -> the MIME type and file extension Newsdesk stores it under."""

_DECODERS: Final = ("JPEG", "PNG", "GIF", "WEBP")  # MPO files open through JPEG's decoder
_ORIENTATION: Final = 0x0112  # EXIF: values 5-8 mean the picture is shown turned 90 degrees
# Bytes a pixel a full-size decode takes, rounded up from Pillow 13's peak RSS while
# decoding 16- to 49-megapixel images (4.5, 1.1 and 16.3): Pillow's 4-byte pixels and the
# inflated rows (PNG); 1-byte palette pixels (GIF; 2 leaves room for a frame's copy);
# libwebp's two canvases, its output and Pillow's copy (WebP).
_BYTES_PER_PIXEL: Final = {"PNG": 5, "GIF": 2, "WEBP": 17}
_JPEG_SCALE: Final = 8  # draft() decodes a JPEG at 1/8 scale
_COEFFICIENT_BYTES: Final = 128  # 64 two-byte DCT coefficients an 8 x 8 block
_ACCEPTED: Final = "JPEG, PNG, GIF or WebP"


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime_type: str
    extension: str
    width: int
    height: int
    """As displayed: a photo whose EXIF orientation turns it reports its turned size."""


async def inspect(data: bytes) -> ImageInfo:
    """The MIME type and displayed size of the image in `data`; raises
    Invalid(field="file") for anything that is not a whole JPEG, PNG, GIF or WebP image
    of at most MAX_PIXELS pixels."""
    return await run_in_threadpool(_inspect, data)


def _inspect(data: bytes) -> ImageInfo:
    # A process-wide Pillow setting; Newsdesk opens images only here.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data), formats=_DECODERS) as image:
            kind = FORMATS.get(image.format or "")
            width, height = image.size
            _check_size(width, height)  # from the header: no pixel decoded yet
            decoded = decode_cost(image) <= DECODE_BUDGET
            image.verify()  # checksums and structure, without decoding
        with Image.open(io.BytesIO(data), formats=_DECODERS) as image:
            if decoded:
                image.draft(image.mode, (1, 1))  # JPEG only: decode at 1/8 scale
                image.load()  # a truncated file fails here
                orientation = image.getexif().get(_ORIENTATION)
            else:
                orientation = _undecoded_orientation(image, data)
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid(_too_many_pixels(), field="file") from None
    except UnidentifiedImageError:
        raise Invalid(_unidentified(data), field="file") from None
    except Exception:  # Pillow's parsers raise many types on damaged input
        raise Invalid("the image is damaged or incomplete", field="file") from None
    assert kind is not None  # the decoders above (_DECODERS) only produce FORMATS
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(kind.mime_type, kind.extension, width, height)


def decode_cost(image: Image.Image) -> int:
    """The bytes decoding the pixels of the opened `image` takes, from its header alone:
    at 1/8 scale for a JPEG (with the full-size coefficients of a progressive one), at
    full size for the other formats."""
    width, height = image.size
    if image.format not in ("JPEG", "MPO"):
        return width * height * _BYTES_PER_PIXEL.get(image.format or "", 4)
    scaled = math.ceil(width / _JPEG_SCALE) * math.ceil(height / _JPEG_SCALE) * 4
    if not image.info.get("progressive"):
        return scaled
    # Each component's blocks, at its sampling factors (Pillow's `layer`: id, h, v, table).
    layers: list[tuple[object, int, int, object]] = getattr(image, "layer", None) or [
        (None, 1, 1, None)
    ] * len(image.getbands())
    most_h = max(h for _, h, _, _ in layers)
    most_v = max(v for _, _, v, _ in layers)
    blocks = sum(
        math.ceil(width * h / most_h / 8) * math.ceil(height * v / most_v / 8)
        for _, h, v, _ in layers
    )
    return scaled + blocks * _COEFFICIENT_BYTES


def _undecoded_orientation(image: Image.Image, data: bytes) -> int | None:
    """The EXIF orientation of an image too big to decode within the budget, its data
    checked as far as that can be done without decoding (see the module's docstring)."""
    if image.format == "PNG":
        found = png.check_image_data(data)  # Pillow's getexif() would decode the PNG
        if found.exif is None:
            return None
        exif = Image.Exif()
        exif.load(found.exif)
        value = exif.get(_ORIENTATION)
        return value if isinstance(value, int) else None
    value = image.getexif().get(_ORIENTATION)  # JPEG, WebP: from the header's EXIF
    return value if isinstance(value, int) else None


def _check_size(width: int, height: int) -> None:
    # (Pillow opens no image of zero width or height: it is unidentified.)
    if width * height > MAX_PIXELS:
        raise Invalid(_too_many_pixels(), field="file")


def _too_many_pixels() -> str:
    return f"the image has too many pixels: at most {MAX_PIXELS // 1_000_000} megapixels"


def _unidentified(data: bytes) -> str:
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        return f"SVG is not accepted (it can carry scripts): upload a {_ACCEPTED} image"
    return f"the file must be a {_ACCEPTED} image"
