"""Constants and types the tests share (import as ``from support import TIMEOUT``).

Kept out of conftest.py: ``notebooks/`` has a conftest.py too, so ``import
conftest`` would be ambiguous when both folders are collected in one run.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from directus_chat_widget.local import LocalDirectus

# The one base timeout every wait in the tests scales from; slow machines set DCW_TIMEOUT_SCALE.
TIMEOUT = 10.0 * float(os.environ.get("DCW_TIMEOUT_SCALE", "1"))
# Settings every test server gets. Directus's pressure limiter answers 503 "Under
# pressure" when its event loop is slow, which a loaded 2-core CI machine makes it;
# it protects production servers, and the tests are about the chat, not it.
TEST_SERVER_ENV = {"PRESSURE_LIMITER_ENABLED": "false"}

MakeDirectus = Callable[..., LocalDirectus]
T = TypeVar("T")


class LoopThread:
    """An event loop running forever on a thread of its own, like a kernel subshell's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="subshell-test")
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on this thread's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()


# Debian's Chromium, driven by Playwright; never a browser Playwright downloads.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
# Markup that would run script if it were ever rendered as HTML.
XSS = "<img src=x onerror=alert(1)>"

# WCAG contrast of text against what is painted behind it, measured in the page:
# ``await page.evaluate(CONTRAST_JS, ".dcw-own .dcw-msg-text")`` gives one entry
# per element the selector matches, {"ratio", "color", "background", "text"}.
# The background is found by walking up from the element and painting every
# ancestor's background colour over the one below (white under the root), so
# transparent and half-transparent layers count; so does `opacity` on the way
# (a faded bubble fades its text and its background alike). Any colour syntax
# the browser computes (rgb, color(srgb ...), color-mix results) is read back
# through a 1x1 canvas. Elements with no box (display: none) are left out:
# there is nothing to read. Not seen: background images and gradients, elements
# that overlap without being ancestors, blend modes, text shadows.
CONTRAST_JS = """(selector) => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    const pen = canvas.getContext("2d", { willReadFrequently: true });
    const rgba = (css) => {
        pen.clearRect(0, 0, 1, 1);
        pen.fillStyle = "rgba(0, 0, 0, 0)";
        pen.fillStyle = css;
        pen.fillRect(0, 0, 1, 1);
        const [r, g, b, a] = pen.getImageData(0, 0, 1, 1).data;
        return [r, g, b, a / 255];
    };
    const over = ([r, g, b, a], below) => [r, g, b].map((c, i) => c * a + below[i] * (1 - a));
    const blend = (top, below, alpha) => top.map((c, i) => c * alpha + below[i] * (1 - alpha));
    const luminance = (rgb) => {
        const [r, g, b] = rgb.map((c) => {
            const s = c / 255;
            return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const css = (rgb) => `rgb(${rgb.map((c) => Math.round(c)).join(", ")})`;
    const drawn = [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length);
    return drawn.map((element) => {
        const chain = [];
        for (let node = element; node; node = node.parentElement) chain.unshift(node);
        let paint = [255, 255, 255];
        const faded = [];  // [what was painted before the group, its opacity]
        for (const node of chain) {
            const style = getComputedStyle(node);
            const opacity = Number(style.opacity);
            if (opacity < 1) faded.push([paint, opacity]);
            paint = over(rgba(style.backgroundColor), paint);
        }
        let text = over(rgba(getComputedStyle(element).color), paint);
        let back = paint;
        for (let i = faded.length - 1; i >= 0; i--) {
            const [below, opacity] = faded[i];
            text = blend(text, below, opacity);
            back = blend(back, below, opacity);
        }
        const [light, dark] = [luminance(text), luminance(back)].sort((x, y) => y - x);
        return {
            // Rounded down: 4.499 must not pass as 4.5.
            ratio: Math.floor(((light + 0.05) / (dark + 0.05)) * 100) / 100,
            color: css(text),
            background: css(back),
            text: (element.textContent || "").trim().slice(0, 40),
        };
    });
}"""


FAKE_ROOM = {"id": 1, "name": "general"}


def fake_filter(query: dict[str, Any] | None) -> dict[str, Any]:
    """A query's filter with its ``_and`` parts merged (the fakes' rows all sit in one room)."""
    found = (query or {}).get("filter") or {}
    return {key: value for part in found.get("_and", [found]) for key, value in part.items()}
