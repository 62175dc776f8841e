"""A file about to be sent with a message, checked before a single byte leaves the kernel.

:func:`prepare_upload` turns bytes and a name into an :class:`Upload`, or
refuses them with :class:`AttachmentRefused` (a ``ValueError``, with a message
a person can act on):

- larger than the limit (a setting: ``max_bytes``, by default
  :data:`DEFAULT_MAX_ATTACHMENT_BYTES`); :func:`read_upload` looks at a
  file's size on disk before reading it, so a 50 MB file is never even read;
- said to be an image (by its name or declared type) and not one: only PNG,
  JPEG, GIF and WebP whose bytes say so (see :mod:`._images`), and SVG that
  survives the sanitizer (see :mod:`._svg`) are images; whatever else is a
  plain file, shown as a download.

The type of an image is what its bytes are, whatever the name says. A name
is cut to its last path part, without control or direction-changing
characters.
"""

from __future__ import annotations

import mimetypes
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ._images import inspect_image
from ._svg import is_svg, sanitize_svg
from .message import IMAGE_TYPES, Attachment

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "AttachmentRefused",
    "Upload",
    "clean_name",
    "prepare_upload",
    "read_upload",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_MAX_NAME = 120
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}


class AttachmentRefused(ValueError):
    """A file that cannot be sent: too large, or an image that is not one. Nothing was sent."""


@dataclass(frozen=True)
class Upload:
    """A checked file, ready to go up: its name, bytes, type and (for an image) size."""

    name: str
    data: bytes = field(repr=False)
    mime: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def is_image(self) -> bool:
        return self.mime in IMAGE_TYPES

    def attachment(self, file_id: str | None = None) -> Attachment:
        """How the list shows this file (before the server has it: ``file_id`` None)."""
        return Attachment(file_id, self.name, self.mime, self.size, self.width, self.height)


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise AttachmentRefused(
            f"{name} is {_size_text(size)}; the largest file the chat sends is "
            f"{_size_text(max_bytes)} (max_attachment_bytes)"
        )
    if size == 0:
        raise AttachmentRefused(f"{name} is empty: there is nothing to send")


def clean_name(name: str, default: str = "attachment") -> str:
    """``name`` fit to show and save as: its last path part, printable, 120 characters at most."""
    base = re.split(r"[\\/]", str(name))[-1]
    kept = "".join(
        char if unicodedata.category(char)[0] != "C" else " "
        for char in unicodedata.normalize("NFC", base)
    )
    kept = re.sub(r"\s+", " ", kept).strip().strip(".")
    if not kept:
        return default
    if len(kept) > _MAX_NAME:
        stem, suffix = os.path.splitext(kept)
        suffix = suffix if len(suffix) <= 12 else ""
        kept = stem[: _MAX_NAME - len(suffix)].rstrip() + suffix
    return kept


def _declared_image(name: str, mime: str | None) -> bool:
    return Path(name).suffix.lower() in _IMAGE_SUFFIXES or bool(mime and mime.startswith("image/"))


def prepare_upload(
    data: bytes,
    name: str,
    *,
    max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    mime: str | None = None,
) -> Upload:
    """``data`` as a file to send, checked.

    Args:
        data: the file's bytes.
        name: its name (a path is cut to its last part).
        max_bytes: the largest file allowed.
        mime: the type, if the caller knows it; an image's is read from its bytes.

    Raises:
        AttachmentRefused: too large, empty, or declared an image and not one.
    """
    shown = clean_name(name)
    _check_size(shown, len(data), max_bytes)
    info = inspect_image(data)
    if info is not None:
        return Upload(shown, bytes(data), info.mime, info.width, info.height)
    if is_svg(data) and (shown.lower().endswith(".svg") or mime == "image/svg+xml"):
        try:
            return Upload(shown, sanitize_svg(data), "image/svg+xml")
        except ValueError as exc:
            raise AttachmentRefused(f"{shown} is not a usable SVG image: {exc}") from exc
    if _declared_image(shown, mime):
        raise AttachmentRefused(
            f"{shown} is not an image: its bytes are no PNG, JPEG, GIF, WebP or SVG "
            "(send it as a file under another name to share it anyway)"
        )
    guessed = mime or mimetypes.guess_type(shown)[0] or "application/octet-stream"
    return Upload(shown, bytes(data), guessed)


def read_upload(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> Upload:
    """The file at ``path``, checked as :func:`prepare_upload` (its size before reading it).

    Raises:
        AttachmentRefused: as prepare_upload.
        FileNotFoundError, IsADirectoryError, PermissionError: the path cannot be read.
    """
    where = Path(path)
    if where.is_dir():
        raise IsADirectoryError(f"{where} is a folder: post a file")
    _check_size(clean_name(where.name), where.stat().st_size, max_bytes)
    with where.open("rb") as source:
        data = source.read(max_bytes + 1)  # the file may grow meanwhile
    return prepare_upload(data, where.name, max_bytes=max_bytes)
