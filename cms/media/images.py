"""What an uploaded image is, read from its bytes by Pillow (in a worker thread).

Accepted: JPEG, PNG, GIF and WebP, as Pillow detects them from the bytes; the client's
filename and content type are never trusted. SVG is refused: it is XML that can carry
scripts and external references, and Pillow cannot check it. Everything else Pillow could
open is refused too (Image.open only tries the four accepted decoders, so no other
parser, such as EPS's Ghostscript, ever sees an upload).

Decompression bombs: a few kilobytes can claim billions of pixels. An image may have at
most MAX_PIXELS pixels: 50 megapixels, so a full-resolution photo from a 45-megapixel
camera (8256 x 5504) passes and a 61-megapixel one or a 10000 x 10000 scan does not. The
size in the header is checked before any pixel is decoded, and Pillow's own guard,
Image.MAX_IMAGE_PIXELS, is set to the same constant, so Pillow itself refuses more than
twice it (DecompressionBombError) and warns above it (DecompressionBombWarning); both
become Invalid(field="file"). Decoding a 50-megapixel PNG needs up to 200 MB; a JPEG is
decoded at 1/8 scale (enough to find a truncated file).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from cms.errors import Invalid

__all__ = ["FORMATS", "MAX_PIXELS", "ImageInfo", "inspect"]

MAX_PIXELS: Final = 50_000_000
"""The most pixels (width x height) an upload may have."""


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
            _check_size(width, height)
            image.verify()  # checksums and structure, without decoding
        with Image.open(io.BytesIO(data), formats=_DECODERS) as image:
            image.draft(image.mode, (1, 1))  # JPEG only: decode at 1/8 scale
            image.load()  # a truncated file fails here
            orientation = image.getexif().get(_ORIENTATION)
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid(_too_many_pixels(), field="file") from None
    except UnidentifiedImageError:
        raise Invalid(_unidentified(data), field="file") from None
    except Exception:  # Pillow's parsers raise many types on damaged input
        raise Invalid("the image is damaged or incomplete", field="file") from None
    if kind is None:  # the decoders above only produce FORMATS; kept for mypy and safety
        raise Invalid(f"the file must be a {_ACCEPTED} image", field="file")
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(kind.mime_type, kind.extension, width, height)


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise Invalid("the image has no pixels", field="file")
    if width * height > MAX_PIXELS:
        raise Invalid(_too_many_pixels(), field="file")


def _too_many_pixels() -> str:
    return f"the image has too many pixels: at most {MAX_PIXELS // 1_000_000} megapixels"


def _unidentified(data: bytes) -> str:
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        return f"SVG is not accepted (it can carry scripts): upload a {_ACCEPTED} image"
    return f"the file must be a {_ACCEPTED} image"
