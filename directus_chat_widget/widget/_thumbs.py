"""What a view is sent for an attachment: a checked image, a small thumbnail, or a file.

Made in the kernel, never in the browser: the bytes came from a server that
anyone in the chat can upload to, whatever they declared. So:

- :func:`look_at` decides what the bytes are: an image (PNG, JPEG, GIF or
  WebP whose bytes say so, or SVG after the sanitizer) or a plain file; a
  view shows only the first kind as a picture, and the second only as a
  download, as ``application/octet-stream``.
- :func:`thumbnail` makes the list's small picture: with Pillow (the optional
  ``images`` extra), at most :data:`THUMB_PX` on its longest side (PNG for
  images with transparency, else JPEG); without Pillow, the image itself
  when it is small enough (:data:`FALLBACK_THUMB_BYTES`, drawn small by the
  view), else none: the view then offers the full image on a click.

Both are CPU work on a worker thread (``asyncio.to_thread``), off the loop.
"""

from __future__ import annotations

import io
from typing import NamedTuple

from ..chat._images import inspect_image
from ..chat._svg import is_svg, sanitize_svg

__all__ = ["FALLBACK_THUMB_BYTES", "THUMB_PX", "Looked", "look_at", "thumbnail"]

THUMB_PX = 320
FALLBACK_THUMB_BYTES = 256 * 1024
FILE_TYPE = "application/octet-stream"


class Looked(NamedTuple):
    """Bytes as a view may receive them: ``image`` and its type, or a file (octet-stream)."""

    data: bytes
    mime: str
    image: bool


def look_at(data: bytes, declared: str) -> Looked:
    """What ``data`` is, whatever the uploader ``declared``: a checked image, or a file."""
    info = inspect_image(data)
    if info is not None:
        return Looked(data, info.mime, True)
    if declared == "image/svg+xml" and is_svg(data):
        try:
            return Looked(sanitize_svg(data), "image/svg+xml", True)
        except ValueError:
            pass
    return Looked(data, FILE_TYPE, False)


def thumbnail(looked: Looked) -> Looked | None:
    """A small picture of the image ``looked`` (None: no thumbnail, show it on a click)."""
    if not looked.image:
        return None
    if looked.mime == "image/svg+xml":  # a vector scales itself
        return looked if len(looked.data) <= FALLBACK_THUMB_BYTES else None
    try:
        from PIL import Image
    except ImportError:
        return looked if len(looked.data) <= FALLBACK_THUMB_BYTES else None
    try:
        with Image.open(io.BytesIO(looked.data)) as image:
            small_already = max(image.size) <= THUMB_PX
            image.draft("RGB", (THUMB_PX, THUMB_PX))  # JPEG: decode at a fraction of the size
            image.thumbnail((THUMB_PX, THUMB_PX))
            clear = image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info
            small = image.convert("RGBA" if clear else "RGB")
            out = io.BytesIO()
            if clear:
                small.save(out, format="PNG", optimize=True)
            else:
                small.save(out, format="JPEG", quality=82)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    made = Looked(out.getvalue(), "image/png" if clear else "image/jpeg", True)
    # An image no larger than a thumbnail may weigh less than one: then it is its own.
    return looked if small_already and len(looked.data) <= len(made.data) else made
