"""The allow-list every rendered message passes through before it reaches a browser.

Markdown is rendered with raw HTML switched off, so a message's own markup is
already text by the time it gets here; this is the second wall, and the one
the tests hold to. It is nh3 (the Rust sanitizer ammonia) with an explicit
list of what may pass: the tags CommonMark and tables produce, the ``class``
values this package's own renderer writes (code highlighting and math
placeholders, nothing a message can choose), ``href``/``title`` on links and
``start`` on ordered lists. There is no ``style`` and no ``id`` at all, so
nothing a message says can position itself over the page; no ``img`` (an
image would fetch from wherever its author likes the moment it is shown), no
forms, frames, media, SVG or MathML.

Links: absolute ``http``, ``https`` and ``mailto`` only (relative URLs are
dropped: they would resolve against the notebook server), each opened in a
new tab with ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

from typing import Final

import nh3
from pygments.token import STANDARD_TYPES

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_CLASSES",
    "ALLOWED_TAGS",
    "HIGHLIGHT_PREFIX",
    "LINK_REL",
    "MATH_CLASS",
    "URL_SCHEMES",
    "sanitize",
]

# Pygments writes its token classes with this prefix: short names like "k" or
# "s" would otherwise meet whatever else the page styles.
HIGHLIGHT_PREFIX: Final = "dcw-hl-"
# A placeholder holding TeX as text; the browser typesets it with KaTeX.
MATH_CLASS: Final = "dcw-math"
MATH_DISPLAY_CLASS: Final = "dcw-math-display"
LINK_REL: Final = "noopener noreferrer"

ALLOWED_TAGS: Final = frozenset(
    {
        "a", "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td", "span", "div",
    }
)  # fmt: skip

# Per tag, besides class (see ALLOWED_CLASSES) and what the cleaner sets itself.
ALLOWED_ATTRIBUTES: Final[dict[str, frozenset[str]]] = {
    "a": frozenset({"href", "title"}),
    "ol": frozenset({"start"}),
}

_HIGHLIGHT_CLASSES = frozenset(
    f"{HIGHLIGHT_PREFIX}{name}" for name in STANDARD_TYPES.values() if name
)
ALLOWED_CLASSES: Final[dict[str, frozenset[str]]] = {
    "span": _HIGHLIGHT_CLASSES | {MATH_CLASS},
    "div": frozenset({MATH_CLASS, MATH_DISPLAY_CLASS}),
}

URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})

# Attributes the cleaner adds to every link (rel comes from link_rel).
_SET_ON_LINKS: Final = {"a": {"target": "_blank"}}

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # Their content is code or layout, never something to show as text.
    clean_content_tags={"script", "style", "template", "noscript", "textarea", "title"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
    set_tag_attribute_values=_SET_ON_LINKS,
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)


def sanitize(html: str) -> str:
    """``html`` with everything outside the allow-list removed (see the module docstring)."""
    return _CLEANER.clean(html)
