"""The JavaScript and CSS one widget view is made of, read from this folder.

A view's ES module is ``<stem>.js`` followed by its parts, ``<stem>.*.js`` in
name order: anywidget takes one module and there is no build step, so a feature
that adds nodes to every message row (reactions, replies, attachments) lives in
a file of its own and registers itself with the main module (see
``message_list.js``, "Row parts"). Style sheets follow the same rule:
``<stem>.css`` then ``<stem>.*.css``. The widgets and the standalone page both
read them here, so Jupyter and the browser tests run the same code.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["module_css", "module_source"]

_HERE = Path(__file__).parent


def _files(stem: str, suffix: str, folder: Path) -> list[Path]:
    return [folder / f"{stem}{suffix}", *sorted(folder.glob(f"{stem}.*{suffix}"))]


def module_source(stem: str, folder: Path = _HERE) -> str:
    """The view's ES module: ``<stem>.js``, then each ``<stem>.*.js`` part."""
    return "\n".join(f.read_text(encoding="utf-8") for f in _files(stem, ".js", folder))


def module_css(stem: str, folder: Path = _HERE) -> str:
    """The view's style: ``<stem>.css`` (if any), then each ``<stem>.*.css`` part."""
    files = _files(stem, ".css", folder)
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.exists())
