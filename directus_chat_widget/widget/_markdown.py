"""Messages as Markdown: rendered in the kernel, once, and sanitized before they leave it.

:func:`render_message` turns a message's text into HTML, or None when the text
has no Markdown in it (the browser then shows it as plain text, exactly as
before Markdown existed). The parser is markdown-it-py's CommonMark with
tables and strikethrough, raw HTML switched off (a ``<b>`` someone types is
text), a newline is a line break (as in any chat), and ``$...$`` / ``$$...$$``
math. Fenced code is highlighted by Pygments into class-based spans (the
colours are in ``message_list.rich.css``, from JupyterLab's theme variables); math
becomes a placeholder holding its TeX as text, for the browser to typeset with
KaTeX. Images are shown as links: an image would load from its author's
server the moment a reader sees the message. Link text loses the invisible
characters that can make it read as something else (bidi overrides,
zero-width spaces). Whatever comes out goes through
:func:`~._sanitize.sanitize`.

:class:`RenderCache` keeps each message's HTML, keyed by the message's key and
checked against its content, so a message is rendered once and an edit renders
again.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from ._sanitize import HIGHLIGHT_PREFIX, MATH_CLASS, MATH_DISPLAY_CLASS, sanitize

__all__ = ["MAX_MARKDOWN_CHARS", "RenderCache", "render_message"]

# Past this many characters a message is shown as plain text: markdown-it is
# linear, but some inputs ("[[[[...") cost about 12 us a character, and a
# longer text is a paste, not a chat message.
MAX_MARKDOWN_CHARS = 20_000
# Past this many characters a code block is shown unhighlighted: some lexers'
# regular expressions are far from linear, and a chat message is no place to find out.
MAX_HIGHLIGHT_CHARS = 20_000
# Block tokens a message with no Markdown in it is made of, and inline ones.
_PLAIN_BLOCKS = frozenset({"paragraph_open", "paragraph_close", "inline"})
_PLAIN_INLINE = frozenset({"text", "softbreak"})

_FORMATTER = HtmlFormatter(nowrap=True, classprefix=HIGHLIGHT_PREFIX)
# Invisible characters that make a link's text read other than it is: bidi
# embeddings, overrides and isolates ("Trojan Source", CVE-2021-42574) and
# zero-width joiners and spaces. Taken out of link text, nowhere else.
_DECEPTIVE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


@functools.lru_cache(maxsize=64)
def _lexer(name: str) -> Lexer | None:
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """A fenced block as ``<pre><code>``, its tokens in classed spans when the language is known."""
    lexer = _lexer(lang.lower()) if lang and len(code) <= MAX_HIGHLIGHT_CHARS else None
    body = (
        html.escape(code, quote=False)
        if lexer is None
        else pygments_highlight(code, lexer, _FORMATTER)
    )
    return f"<pre><code>{body}</code></pre>"


def _math(
    _renderer: Any, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    """A math placeholder: the TeX as escaped text in an element the browser typesets."""
    token = tokens[idx]
    tex = html.escape(token.content.strip(), quote=False)
    if token.type == "math_inline":
        return f'<span class="{MATH_CLASS}">{tex}</span>'
    return f'<div class="{MATH_CLASS} {MATH_DISPLAY_CLASS}">{tex}</div>\n'


def _image_as_link(
    _renderer: Any, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    """``![alt](src)`` as a link to ``src`` labelled with its alt text (never an <img>)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = _DECEPTIVE.sub("", "".join(child.content for child in token.children or ())) or src
    return f'<a href="{html.escape(src)}">{html.escape(alt, quote=False)}</a>'


def _plain_link_text(state: StateCore) -> None:
    """Core rule: drop the deceptive invisible characters from the text of every link."""
    for block in state.tokens:
        depth = 0
        for child in block.children or ():
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            elif depth and child.type in ("text", "code_inline"):
                child.content = _DECEPTIVE.sub("", child.content)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    # No space inside the dollars and no digit around them: "$5 and $10" stays money.
    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False)
    for rule in ("math_inline", "math_inline_double", "math_block", "math_block_label"):
        md.add_render_rule(rule, _math)
    md.add_render_rule("image", _image_as_link)
    md.core.ruler.push("dcw_plain_link_text", _plain_link_text)
    return md


_MD = _parser()


def _is_plain(tokens: Sequence[Token]) -> bool:
    """True when the text is paragraphs of text alone: nothing Markdown would change."""
    for token in tokens:
        if token.type not in _PLAIN_BLOCKS:
            return False
        if token.type == "inline" and any(
            child.type not in _PLAIN_INLINE for child in token.children or ()
        ):
            return False
    return True


def render_message(text: str) -> str | None:
    """The sanitized HTML for a message's text, or None to show it as plain text.

    None when the text has no Markdown in it, or is longer than ``MAX_MARKDOWN_CHARS``.
    """
    if len(text) > MAX_MARKDOWN_CHARS:
        return None
    env: dict[str, Any] = {}
    tokens = _MD.parse(text, env)
    if _is_plain(tokens):
        return None
    return sanitize(_MD.renderer.render(tokens, _MD.options, env))


class RenderCache:
    """Each message's rendered HTML, rendered once.

    Keyed by the message's key and held with the content it was rendered from:
    the same key with other content (an edit) renders again and replaces it.

    Args:
        render: text to HTML, or None for "show as plain text".
    """

    def __init__(self, render: Callable[[str], str | None] = render_message) -> None:
        self._render = render
        self._held: dict[str, tuple[str, str | None]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def html(self, key: str, content: str) -> str | None:
        """The HTML for message ``key`` whose text is ``content``."""
        held = self._held.get(key)
        if held is not None and held[0] == content:
            return held[1]
        rendered = self._render(content)
        self._held[key] = (content, rendered)
        return rendered

    def keys(self) -> frozenset[str]:
        """The keys of the messages held."""
        return frozenset(self._held)

    def forget(self, key: str) -> None:
        """Drop what is held for ``key`` (the message is gone)."""
        self._held.pop(key, None)

    def clear(self) -> None:
        """Drop everything."""
        self._held.clear()
