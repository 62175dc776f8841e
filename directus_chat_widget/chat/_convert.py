"""What ``post(obj)`` sends for an object: text, or a file with a line of text. No I/O but a path's.

In this order:

- ``str``: the text itself (Markdown, as typed in the composer);
- ``bytes``: a file (an image when its bytes are one), named by ``name``;
- a path (``pathlib.Path``, any ``os.PathLike``): that file; a plain ``str``
  is always text, never a path;
- a matplotlib ``Figure`` (or ``Axes``): a PNG of it;
- a pandas ``DataFrame`` (or ``Series``): a Markdown table of its first rows,
  with a note of its size;
- anything with ``_repr_png_``, ``_repr_svg_`` (sanitized, see :mod:`._svg`)
  or ``_repr_markdown_``, the way Jupyter would show it.

matplotlib and pandas are never imported here: an object is recognised by
the module its type comes from, so neither is needed unless used.
"""

from __future__ import annotations

import base64
import io
import os
import re
from dataclasses import dataclass
from typing import Any

from .attachments import DEFAULT_MAX_ATTACHMENT_BYTES, Upload, prepare_upload, read_upload

__all__ = ["Post", "table_markdown", "to_post"]

TABLE_ROWS = 10
TABLE_COLUMNS = 8
_CELL = 40
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|$~#])")


@dataclass(frozen=True)
class Post:
    """What to send: ``text`` (Markdown), and ``upload``, the file going with it, if any."""

    text: str
    upload: Upload | None = None


def _from(obj: Any, package: str) -> bool:
    return any(k.__module__.split(".")[0] == package for k in type(obj).__mro__)


def _figure(obj: Any) -> Any | None:
    """The matplotlib Figure ``obj`` is or draws in (an Axes), else None."""
    if not _from(obj, "matplotlib"):
        return None
    if callable(getattr(obj, "savefig", None)):
        return obj
    figure = getattr(obj, "figure", None)
    return figure if callable(getattr(figure, "savefig", None)) else None


def _repr(obj: Any, method: str) -> Any:
    """What ``obj._repr_<kind>_()`` returns, without its metadata; None if nothing."""
    found = getattr(obj, method, None)
    if not callable(found):
        return None
    value = found()
    if isinstance(value, tuple) and value:  # (data, metadata), as IPython allows
        value = value[0]
    return value


def _cell(value: Any) -> str:
    text = re.sub(r"\s+", " ", str(value)).strip()
    if len(text) > _CELL:
        text = text[: _CELL - 1] + "…"
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def table_markdown(
    frame: Any, *, rows: int = TABLE_ROWS, columns: int = TABLE_COLUMNS, max_chars: int = 5_000
) -> str:
    """A pandas DataFrame's first ``rows`` rows and ``columns`` columns as a Markdown table.

    Under it, a note of the whole size ("showing 10 of 1,000 rows, 8 of 12
    columns"). Fewer rows are shown if the table would be over ``max_chars``.
    """
    if not hasattr(frame, "columns"):  # a Series
        frame = frame.to_frame()
    total_rows, total_columns = frame.shape
    for count in range(min(rows, total_rows), -1, -1):
        shown = frame.iloc[:count, :columns]
        header = ["", *(_cell(name) for name in shown.columns)]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for index, row in zip(shown.index, shown.itertuples(index=False, name=None), strict=True):
            lines.append("| " + " | ".join([f"**{_cell(index)}**", *map(_cell, row)]) + " |")
        note = f"{total_rows:,} row{'s' if total_rows != 1 else ''} by {total_columns:,} columns"
        if total_rows > count or total_columns > columns:
            note += (
                f" (showing {count:,} of {total_rows:,} rows,"
                f" {min(columns, total_columns):,} of {total_columns:,} columns)"
            )
        text = "\n".join([*lines, "", f"*{note}*"])
        if len(text) <= max_chars:
            break
    return text


def to_post(
    obj: Any,
    *,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    dpi: int = 100,
) -> Post:
    """What ``obj`` is sent as (see the module docstring).

    Raises:
        TypeError: nothing here knows how to send ``obj``.
        AttachmentRefused: its file is too large, or an image that is not one.
        OSError: a path that cannot be read.
        ValueError: an SVG that does not survive the sanitizer.
    """
    if isinstance(obj, str):
        return Post(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        upload = prepare_upload(bytes(obj), name or "attachment", max_bytes=max_bytes)
        return Post(upload.name, upload)
    if isinstance(obj, os.PathLike):
        upload = read_upload(obj, max_bytes=max_bytes)
        if name:
            upload = prepare_upload(upload.data, name, max_bytes=max_bytes)
        return Post(upload.name, upload)
    figure = _figure(obj)
    if figure is not None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        upload = prepare_upload(buffer.getvalue(), name or "figure.png", max_bytes=max_bytes)
        return Post(upload.name, upload)
    if _from(obj, "pandas") and hasattr(obj, "iloc"):
        return Post(table_markdown(obj))
    for method, default, kind in (
        ("_repr_png_", "image.png", "image/png"),
        ("_repr_svg_", "image.svg", "image/svg+xml"),
    ):
        value = _repr(obj, method)
        if isinstance(value, str) and kind == "image/png":
            value = base64.b64decode(value)  # some return the PNG base64-encoded
        if isinstance(value, str):
            value = value.encode("utf-8")
        if isinstance(value, (bytes, bytearray)) and value:
            upload = prepare_upload(bytes(value), name or default, max_bytes=max_bytes, mime=kind)
            return Post(upload.name, upload)
    markdown = _repr(obj, "_repr_markdown_")
    if isinstance(markdown, str) and markdown.strip():
        return Post(markdown)
    raise TypeError(
        f"cannot post a {type(obj).__name__}: post text, a file path (pathlib.Path), bytes, "
        "a matplotlib figure, a pandas DataFrame, or an object with _repr_png_, "
        "_repr_svg_ or _repr_markdown_"
    )
