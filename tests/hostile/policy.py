"""What may reach the browser from a message, written down independently of the package.

The renderer's allow-list lives in ``directus_chat_widget/widget/_sanitize.py``;
this is the policy the tests hold it to, spelled out again on purpose: widening
the package's list without changing this one fails the tests. :func:`violations`
parses HTML with ``html.parser`` and names everything outside the policy.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pygments.token import STANDARD_TYPES

TAGS = frozenset(
    {
        "a", "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td", "span", "div",
    }
)  # fmt: skip
# Per tag: attribute -> None (any value) or the set of values allowed.
ATTRIBUTES: dict[str, dict[str, frozenset[str] | None]] = {
    "a": {
        "href": None,  # checked by scheme below
        "title": None,
        "target": frozenset({"_blank"}),
        "rel": frozenset({"noopener noreferrer"}),
    },
    "ol": {"start": None},
}
HIGHLIGHT = frozenset(f"dcw-hl-{name}" for name in STANDARD_TYPES.values() if name)
CLASSES = {"span": HIGHLIGHT | {"dcw-math"}, "div": frozenset({"dcw-math", "dcw-math-display"})}
SCHEMES = frozenset({"http", "https", "mailto"})
# What a browser ignores in a URL before its scheme (WHATWG URL: C0 controls and
# space are stripped at the ends, tab and newlines anywhere).
_URL_NOISE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))

PAYLOADS_FILE = Path(__file__).with_name("payloads.json")


def payloads() -> list[dict[str, Any]]:
    """The hostile corpus: ``name``, ``payload`` and ``source`` of each."""
    data: list[dict[str, Any]] = json.loads(PAYLOADS_FILE.read_text(encoding="utf-8"))["payloads"]
    return data


def scheme_of(href: str) -> str:
    """The scheme a browser would see in ``href`` ("" for a relative URL)."""
    cleaned = _URL_NOISE.sub("", href).strip(_C0_AND_SPACE)
    return urlsplit(cleaned).scheme.lower()


# Characters that may not appear in a link's text: they make it read as another.
DECEPTIVE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links = 0  # how many <a> we are inside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}>")
        if tag == "a":
            self.links += 1
        allowed = ATTRIBUTES.get(tag, {})
        for name, value in attrs:
            if name == "class" and tag in CLASSES:
                extra = set((value or "").split()) - CLASSES[tag]
                if extra:
                    self.problems.append(f"<{tag} class> {sorted(extra)}")
                continue
            if name not in allowed:
                self.problems.append(f"<{tag} {name}={value!r}>")
                continue
            values = allowed[name]
            if values is not None and value not in values:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "href" and scheme_of(value or "") not in SCHEMES:
                self.problems.append(f"<a href={value!r}>: scheme {scheme_of(value or '')!r}")
        if tag == "a" and "href" in dict(attrs):
            given = dict(attrs)
            if given.get("target") != "_blank" or given.get("rel") != "noopener noreferrer":
                self.problems.append(f"<a> without target/rel: {attrs}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            self.links -= 1

    def handle_data(self, data: str) -> None:
        if self.links and DECEPTIVE & set(data):
            self.problems.append(f"invisible characters in link text {data!r}")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")


def violations(html: str) -> list[str]:
    """Everything in ``html`` outside the policy (an empty list: it complies)."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems
