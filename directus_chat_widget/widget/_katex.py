"""KaTeX for the message list, from the copy shipped in ``widget/katex/`` (no CDN).

A message's math reaches the browser as TeX in a placeholder (see
``_markdown.py``); the first view that shows one asks for KaTeX, and gets
:func:`katex_assets`: the script as an ES module (KaTeX ships a UMD build,
which finds ``module`` in scope and exports there, touching no global) and
its style sheet with the woff2 fonts inlined, so an offline page typesets too.
Read once per process, on the first request: a chat with no math never pays.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path
from typing import NamedTuple

__all__ = ["KATEX_VERSION", "KatexAssets", "katex_assets"]

KATEX_VERSION = "0.19.1"
_FOLDER = Path(__file__).parent / "katex"
# One font's sources: its woff2, then the woff and ttf copies we do not ship.
_FONT_SRC = re.compile(r'src:url\(fonts/([\w-]+)\.woff2\) format\("woff2"\)[^;}]*')


class KatexAssets(NamedTuple):
    """What a page needs to typeset: an ES module's source and a style sheet."""

    module: str
    css: str


def _font(match: re.Match[str]) -> str:
    data = (_FOLDER / "fonts" / f"{match.group(1)}.woff2").read_bytes()
    encoded = base64.b64encode(data).decode("ascii")
    return f'src:url(data:font/woff2;base64,{encoded}) format("woff2")'


@functools.cache
def katex_assets() -> KatexAssets:
    """KaTeX's script as an ES module and its CSS with fonts inlined.

    Raises:
        FileNotFoundError: the package was installed without its KaTeX files.
    """
    script = (_FOLDER / "katex.min.js").read_text(encoding="utf-8")
    module = (
        "const module = { exports: {} };\nconst exports = module.exports;\n"
        f"{script}\nexport default module.exports;\n"
    )
    css = _FONT_SRC.sub(_font, (_FOLDER / "katex.min.css").read_text(encoding="utf-8"))
    return KatexAssets(module, css)
