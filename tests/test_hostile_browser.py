"""Every hostile payload in the real widget, in a real JupyterLab, in headless Chromium.

One Lab start, one notebook: its cell feeds a :class:`MessageList` straight
from a :class:`MessageStore` (no Directus: what is under test is the path from
a message's text to the page), with every payload of ``tests/hostile`` plus a
code block and some math. Then, with Chromium watching: no dialog opened, the
page never navigated, no request left for another origin, and every element
in the list is one the policy allows (what KaTeX put in a math placeholder
is checked apart: KaTeX made it from TeX held as text, with trust off).
Last, the code block's Copy button copies, and says "Copy failed" when there
is no clipboard.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hostile.policy import ATTRIBUTES, CLASSES, PAYLOADS_FILE, SCHEMES, TAGS, payloads
from labdriver import MS, Lab, LabPage, start_lab, stop_lab
from support import CHROMIUM, CHROMIUM_ARGS

import directus_chat_widget

pytestmark = pytest.mark.browser

CODE = "print('copied')"
EXTRA = [f"```python\n{CODE}\n```", "Euler: $e^{i\\pi} + 1 = 0$", "$$\n\\sum_{k=1}^n k\n$$"]

CELL = """\
import json, directus_chat_widget
from directus_chat_widget.store import MessageStore
from directus_chat_widget.widget import MessageList
texts = [p["payload"] for p in json.load(open({payloads!r}))["payloads"]] + {extra!r}
author = {{"id": "u-eve", "first_name": "Eve"}}
rows = [
    {{"id": n, "content": text, "date_created": "2026-11-29T03:04:05Z", "user_created": author}}
    for n, text in enumerate(texts, 1)
]
shown = MessageList(snapshot_size=len(rows), height="600px")
shown.apply(MessageStore().add_rows(rows))
print(directus_chat_widget.__file__)
shown
"""

# Everything in the list that is not KaTeX's: what the policy allows, plus the
# view's own chrome. Returns a description of each element that is not.
OUTSIDE_POLICY = """([tags, attributes, classes, schemes]) => {
    const bad = [];
    const chrome = (e) =>
        (e.tagName === "BUTTON" && e.className === "dcw-copy") ||
        (e.tagName === "DIV" && e.className === "dcw-code");
    for (const text of document.querySelectorAll(".dcw-msg-text")) {
        for (const e of text.querySelectorAll("*")) {
            const math = e.closest(".dcw-math[data-tex]");
            if (math && math !== e) continue;  // typeset by KaTeX: checked below
            const tag = e.tagName.toLowerCase();
            if (chrome(e)) {
                if (e.tagName === "BUTTON" && e.attributes.length > 3) bad.push(e.outerHTML);
                continue;
            }
            if (!tags.includes(tag)) { bad.push(`<${tag}>`); continue; }
            for (const { name, value } of e.attributes) {
                if (name === "class") {
                    const allowed = classes[tag] || [];
                    if (value.split(/\\s+/).some((c) => c && !allowed.includes(c)))
                        bad.push(`<${tag} class="${value}">`);
                    continue;
                }
                if (name === "data-tex" && e.matches(".dcw-math")) continue;  // the view's
                const rule = (attributes[tag] || {})[name];
                if (rule === undefined || (rule !== null && !rule.includes(value)))
                    bad.push(`<${tag} ${name}="${value}">`);
            }
            if (tag === "a" && e.hasAttribute("href")) {
                const scheme = e.protocol.replace(":", "");
                if (!schemes.includes(scheme)) bad.push(`<a href="${e.href}">`);
            }
        }
    }
    return bad;
}"""

# KaTeX's output: made by KaTeX, but still no link, image, frame or handler.
KATEX_ESCAPES = """() => {
    const bad = [];
    for (const e of document.querySelectorAll(".dcw-list .dcw-math[data-tex] *")) {
        const tag = e.tagName.toLowerCase();
        if (["a", "img", "iframe", "object", "embed", "script", "foreignobject", "image", "use"]
                .includes(tag)) bad.push(`<${tag}>`);
        for (const { name } of e.attributes) {
            const loads = ["href", "src", "xlink:href"].includes(name);
            if (name.startsWith("on") || loads) bad.push(`<${tag} ${name}>`);
        }
    }
    return bad;
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`; CI installs it)")
    pytest.importorskip("playwright.async_api")
    server = start_lab(tmp_path_factory.mktemp("hostile-lab"))
    server.write_notebook("hostile.ipynb", CELL.format(payloads=str(PAYLOADS_FILE), extra=EXTRA))
    try:
        yield server
    finally:
        stop_lab(server)


def _policy() -> list[Any]:
    attributes = {
        tag: {name: (None if values is None else sorted(values)) for name, values in rules.items()}
        for tag, rules in ATTRIBUTES.items()
    }
    classes = {tag: sorted(names) for tag, names in CLASSES.items()}
    return [sorted(TAGS), attributes, classes, sorted(SCHEMES)]


async def test_every_hostile_payload_is_inert_in_the_real_widget(lab: Lab) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=3 * MS)
    count = len(payloads()) + len(EXTRA)
    origin = urlsplit(lab.url)
    elsewhere: list[str] = []
    navigations: list[str] = []

    def on_request(request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme in {"data", "blob"}:
            return  # no request leaves the page
        if (url.scheme, url.netloc) != (origin.scheme, origin.netloc):
            elsewhere.append(request.url)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport={"width": 1100, "height": 1000})
            page = await context.new_page()
            page.on("request", on_request)
            notebook = LabPage(page, lab)
            await notebook.open("hostile.ipynb")
            page.on("framenavigated", lambda frame: navigations.append(frame.url))
            await notebook.run_cell(0)

            messages = page.locator(".dcw-msg")
            await expect(messages).to_have_count(count, timeout=6 * MS)
            # The kernel imported the tree under test, not another checkout.
            printed = page.locator(".jp-OutputArea-output", has_text="directus_chat_widget")
            await expect(printed.first).to_contain_text(directus_chat_widget.__file__)
            # Math typeset: KaTeX came over the comm and ran (the page may be offline).
            await expect(page.locator(".dcw-math .katex").first).to_be_attached()
            await expect(page.locator(".dcw-math-display .katex-display")).to_have_count(1)
            # Any image error, refresh or late handler has had its chance by now.
            await page.wait_for_load_state("networkidle")
            await page.evaluate("() => new Promise((done) => requestAnimationFrame(done))")

            assert await page.evaluate(OUTSIDE_POLICY, _policy()) == []
            assert await page.evaluate(KATEX_ESCAPES) == []
            on_handlers = await page.evaluate(
                """() => [...document.querySelectorAll(".dcw-list *")]
                    .flatMap((e) => [...e.attributes].map((a) => a.name))
                    .filter((name) => name.startsWith("on"))"""
            )
            assert on_handlers == []
            assert await page.locator("base, meta[http-equiv]").count() == 0
            assert notebook.dialogs == []
            assert navigations == []
            assert elsewhere == []

            # Copy: the code's text reaches the clipboard; with no clipboard, "Copy failed".
            await context.grant_permissions(["clipboard-read", "clipboard-write"])
            copy = page.locator(".dcw-code", has_text=CODE).locator("button.dcw-copy")
            await copy.click()
            await expect(copy).to_have_text("Copied")
            assert await page.evaluate("() => navigator.clipboard.readText()") == CODE
            await page.evaluate(
                "() => Object.defineProperty(navigator, 'clipboard', { value: undefined })"
            )
            await copy.click()
            await expect(copy).to_have_text("Copy failed")
        except BaseException:
            print("console errors:", *notebook.errors, sep="\n  ")
            raise
        finally:
            await browser.close()
