"""What an image really is, from its bytes: type and size in pixels. Pure.

The type an uploader declares, or a file's name, says nothing the bytes must
honour, so whatever is shown as an image is looked at first. The headers of
PNG, JPEG, GIF and WebP are read here without any library; with Pillow
installed (the ``images`` extra) the image is also opened and verified, which
catches a file that starts like an image and then is not one.

An image is refused beyond :data:`MAX_PIXELS`: a few kilobytes may claim a
canvas of billions of pixels, and decoding it (for a thumbnail, in a browser)
would take gigabytes.
"""

from __future__ import annotations

import io
import struct
from typing import NamedTuple

__all__ = ["MAX_PIXELS", "ImageInfo", "has_pillow", "inspect_image"]

MAX_PIXELS = 40_000_000
_PILLOW_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# JPEG start-of-frame markers (C4, C8 and CC are other segments).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageInfo(NamedTuple):
    """A raster image's type and size, read from its bytes."""

    mime: str
    width: int
    height: int


def has_pillow() -> bool:
    """Whether Pillow (the optional ``images`` extra) can be imported."""
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def inspect_image(data: bytes) -> ImageInfo | None:
    """The image ``data`` holds, or None if it is not a PNG, JPEG, GIF or WebP one.

    Also None for an image over :data:`MAX_PIXELS`, and (with Pillow) for one
    that does not open or verify.
    """
    info = _from_header(data)
    if info is None or info.width < 1 or info.height < 1:
        return None
    if info.width * info.height > MAX_PIXELS:
        return None
    return _verified(data, info)


def _verified(data: bytes, info: ImageInfo) -> ImageInfo | None:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return info  # the headers are all there is to go by
    try:
        with Image.open(io.BytesIO(data)) as image:
            mime = _PILLOW_FORMATS.get(image.format or "")
            size = image.size
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return None
    if mime is None or mime != info.mime:
        return None
    return ImageInfo(mime, size[0], size[1])


def _from_header(data: bytes) -> ImageInfo | None:
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return ImageInfo("image/png", width, height)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return ImageInfo("image/gif", width, height)
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except struct.error:  # cut short inside the header
        return None
    return None


def _jpeg(data: bytes) -> ImageInfo | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length follows
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return ImageInfo("image/jpeg", width, height)
        if length < 2:
            return None
        at += 2 + length
    return None


def _webp(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("image/webp", width, height)
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack("<I", data[21:25])
        return ImageInfo("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
    return None
