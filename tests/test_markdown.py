"""Markdown in the kernel: what it renders, what it refuses, what it caches (no browser).

The hostile corpus (``tests/hostile/payloads.json``) goes through the renderer
and through the sanitizer alone, and every output is parsed and held to the
policy written in ``tests/hostile/policy.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hostile.policy import payloads, scheme_of, violations

from directus_chat_widget.store import MessageStore
from directus_chat_widget.widget import ChatWidget, MessageList
from directus_chat_widget.widget._katex import katex_assets
from directus_chat_widget.widget._markdown import MAX_MARKDOWN_CHARS, RenderCache, render_message
from directus_chat_widget.widget._sanitize import sanitize

HOSTILE = payloads()
ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}


def row(n: int, text: str) -> dict[str, Any]:
    return {
        "id": n,
        "content": text,
        "date_created": "2026-11-29T03:04:05.000Z",
        "user_created": ADA,
    }


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> tuple[MessageList, list[dict[str, Any]]]:
    shown = MessageList()
    out: list[dict[str, Any]] = []
    monkeypatch.setattr(shown, "send", lambda content, buffers=None: out.append(content))
    return shown, out


# -- the policy checker can fail -------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "<script>x</script>",
        "<img src=x>",
        '<a href="javascript:alert(1)" target="_blank" rel="noopener noreferrer">x</a>',
        '<a href="java\tscript:alert(1)" target="_blank" rel="noopener noreferrer">x</a>',
        '<a href="https://example.org">no target or rel</a>',
        '<a href="/relative" target="_blank" rel="noopener noreferrer">x</a>',
        '<p onclick="x">x</p>',
        '<span class="dcw-hl-k jp-Dialog">x</span>',
        '<div style="position:fixed">x</div>',
        "<!-- a comment -->",
        '<a href="https://e.org" target="_blank" rel="noopener noreferrer">\u202egnp.exe</a>',
    ],
)
def test_the_policy_checker_catches_what_it_must(bad: str) -> None:
    assert violations(bad)


def test_the_policy_checker_passes_what_the_renderer_writes() -> None:
    html = render_message("**a** [b](https://example.org) `c`\n\n```python\nx = 1\n```\n\n$x$")
    assert html is not None and violations(html) == []
    assert scheme_of(" \x01JAVA\tscript:x") == "javascript"


# -- the hostile corpus ------------------------------------------------------------------


def test_the_corpus_has_sixty_payloads_or_more_each_with_a_source() -> None:
    assert len(HOSTILE) >= 60
    assert all(p["payload"] and p["source"].strip() for p in HOSTILE)
    assert len({p["name"] for p in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("case", HOSTILE, ids=[p["name"] for p in HOSTILE])
def test_a_hostile_message_renders_inside_the_policy(case: dict[str, str]) -> None:
    html = render_message(case["payload"])
    if html is not None:
        assert violations(html) == [], html
    # The sanitizer on its own is a wall too: raw HTML straight into it.
    assert violations(sanitize(case["payload"])) == []


# -- what Markdown renders --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["hello world", "two\nlines", "snake_case and 2 * 3", "$5 and $10", "<b>not bold</b>", "a\\*b"],
)
def test_text_without_markdown_stays_plain(text: str) -> None:
    assert render_message(text) is None


def test_markdown_renders_emphasis_lists_quotes_and_tables() -> None:
    html = render_message(
        "**bold** *it* ~~gone~~\n\n- one\n- two\n\n> quoted\n\n| a |\n|---|\n| 1 |"
    )
    assert html is not None
    for part in ("<strong>bold</strong>", "<em>it</em>", "<s>gone</s>", "<li>one</li>"):
        assert part in html
    assert "<blockquote>" in html and "<td>1</td>" in html


def test_a_newline_is_a_line_break_inside_markdown() -> None:
    assert render_message("**a**\nb") == "<p><strong>a</strong><br>\nb</p>\n"


def test_code_is_highlighted_with_prefixed_classes_and_unknown_languages_are_escaped() -> None:
    html = render_message("```python\ndef f():\n    return '<x>'\n```")
    assert html is not None
    assert '<span class="dcw-hl-k">def</span>' in html and "&lt;x&gt;" in html
    plain = render_message("```nosuchlanguage\n<b>x</b>\n```")
    assert plain == "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>\n"


def test_links_open_in_a_new_tab_without_opener_or_referrer() -> None:
    html = render_message("[docs](https://example.org/a?b=1&c=2) and <https://example.org>")
    assert html is not None
    assert html.count('target="_blank" rel="noopener noreferrer"') == 2
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html


def test_an_image_becomes_a_link_labelled_with_its_alt_text() -> None:
    html = render_message("![a cat](https://example.org/cat.png)")
    assert html is not None and "<img" not in html
    assert '<a href="https://example.org/cat.png"' in html and ">a cat</a>" in html


def test_math_becomes_a_placeholder_holding_its_tex_as_text() -> None:
    assert (
        render_message("so $a<b$ then") == '<p>so <span class="dcw-math">a&lt;b</span> then</p>\n'
    )
    block = render_message("$$\n\\frac{1}{2}\n$$")
    assert block == '<div class="dcw-math dcw-math-display">\\frac{1}{2}</div>\n'


@pytest.mark.parametrize(
    "bomb",
    [">" * 10_000, "[" * 10_000, "*a" * 10_000, "x" * 100_000, "[a](" * 4_000, "- " * 10_000],
    ids=["quotes", "brackets", "emphasis", "long-line", "open-links", "lists"],
)
def test_a_markdown_bomb_completes_and_comes_out_sanitized(bomb: str) -> None:
    html = render_message(bomb)  # cost: see bench/render.py; no timing asserted here
    assert html is None or violations(html) == []


def test_a_message_over_the_markdown_limit_is_plain_text() -> None:
    assert render_message("**x** " + "a" * MAX_MARKDOWN_CHARS) is None


# -- the cache ------------------------------------------------------------------------------


def test_each_message_renders_once_and_again_when_its_content_changes() -> None:
    calls: list[str] = []

    def render(text: str) -> str | None:
        calls.append(text)
        return f"<p>{text}</p>"

    cache = RenderCache(render)
    assert cache.html("id:1", "a") == cache.html("id:1", "a") == "<p>a</p>"
    assert calls == ["a"]
    assert cache.html("id:1", "b") == "<p>b</p>"  # edited
    assert calls == ["a", "b"] and len(cache) == 1
    cache.forget("id:1")
    cache.html("id:1", "b")
    assert calls == ["a", "b", "b"]


def test_status_changes_do_not_render_again(
    sent: tuple[MessageList, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown, out = sent
    rendered: list[str] = []
    cache = RenderCache(lambda text: rendered.append(text) or render_message(text))
    monkeypatch.setattr(shown, "_rendered", cache)
    store = MessageStore()
    pending = store.add_pending("**mine**", ADA)
    shown.apply(pending)
    key = pending.messages[0].key
    shown.apply(store.confirm(key, row(7, "**mine**")))
    shown._handle_custom_msg({"type": "snapshot", "view": "v1"}, [])
    assert rendered == ["**mine**"]
    assert [m["messages"][0]["html"] for m in out] == ["<p><strong>mine</strong></p>\n"] * 3
    shown.apply(store.remove(key))
    assert len(cache) == 0


# -- the list and the widget ----------------------------------------------------------------


def test_the_wire_carries_html_for_markdown_and_null_for_plain_text(
    sent: tuple[MessageList, list[dict[str, Any]]],
) -> None:
    shown, out = sent
    shown.apply(MessageStore().add_rows([row(1, "plain"), row(2, "*rich*")]))
    plain, rich = out[-1]["messages"]
    assert (plain["text"], plain["html"]) == ("plain", None)
    assert (rich["text"], rich["html"]) == ("*rich*", "<p><em>rich</em></p>\n")
    json.dumps(out)


def test_switching_markdown_off_shows_raw_text_and_restarts_every_view(
    sent: tuple[MessageList, list[dict[str, Any]]],
) -> None:
    shown, out = sent
    shown.apply(MessageStore().add_rows([row(1, "*rich*")]))
    shown.markdown = False
    assert out[-1]["type"] == "snapshot" and out[-1]["view"] is None
    assert out[-1]["messages"][0]["html"] is None
    shown.markdown = True
    assert out[-1]["messages"][0]["html"] == "<p><em>rich</em></p>\n"


def test_chat_widget_passes_its_markdown_switch_to_the_list() -> None:
    chat = ChatWidget(session_factory=lambda: None, markdown=False)  # type: ignore[arg-type, return-value]
    assert chat.markdown is False and chat.message_list.markdown is False
    chat.markdown = True
    assert chat.message_list.markdown is True
    assert ChatWidget(session_factory=lambda: None).message_list.markdown is True  # type: ignore[arg-type, return-value]


def test_a_view_that_asks_for_katex_gets_it_from_the_package(
    sent: tuple[MessageList, list[dict[str, Any]]],
) -> None:
    shown, out = sent
    shown._handle_custom_msg({"type": "katex", "view": "v1"}, [])
    [answer] = out
    assert answer["type"] == "katex" and answer["view"] == "v1"
    assert "export default module.exports" in answer["module"]
    assert answer["css"] == katex_assets().css
    assert "url(fonts/" not in answer["css"] and answer["css"].count("data:font/woff2") == 20
