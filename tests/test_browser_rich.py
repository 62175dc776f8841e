"""Rich messages in a real JupyterLab in Chromium: two users, two views, one conversation.

Ada and Grace each have a ChatWidget in one notebook. In a room of their own
they talk the way people beside notebooks do: Markdown with code and math, a
figure posted from matplotlib, a data file. Both views show all of it; the
image arrives as a thumbnail and opens whole on a click; the file downloads
with its exact bytes; and the page never makes a request to Directus itself
(every byte came through the kernel). The conversation is saved as
``docs/screenshot.png``, the README's picture: this test makes it.

The Lab, Chromium and the notebook page are test_browser.py's fixtures.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import test_browser
from labdriver import MS, LabPage
from test_browser import chat_cell

from directus_chat_widget.local import DemoUser, LocalDirectus

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# test_browser.py's fixtures, as they are: a Lab for this module, Chromium, a fresh page.
lab, chromium, notebook = test_browser.lab, test_browser.chromium, test_browser.notebook

SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshot.png"
ROOM = "reef-survey"
CSV = "hour,temp_c\n" + "".join(
    f"{h},{26.3 + 0.8 * math.sin(2 * math.pi * (h - 9.7) / 24):.2f}\n" for h in range(24)
)


def setup_code(ada: DemoUser, grace: DemoUser) -> str:
    """Log both in, open the room, and define the figure and the file they share."""
    return f"""
import asyncio, math, pathlib, random
from matplotlib.figure import Figure
chat.message_list.height = "780px"
other.message_list.height = "780px"
await chat.login({ada.email!r}, {ada.password!r})
await other.login({grace.email!r}, {grace.password!r})
try:
    await other.create_room({ROOM!r})
except ValueError:
    await other.switch_room({ROOM!r})
await chat.switch_room({ROOM!r})

def figure():
    random.seed(7)
    hours = [h / 4 for h in range(96)]
    temps = [26.3 + 0.8 * math.sin(2 * math.pi * (t - 9.7) / 24) + random.gauss(0, 0.12)
             for t in hours]
    fit = [26.3 + 0.8 * math.sin(2 * math.pi * (t - 9.7) / 24) for t in hours]
    fig = Figure(figsize=(5.0, 2.6), dpi=110)
    ax = fig.add_subplot()
    ax.scatter(hours, temps, s=8, color="#4c72b0", alpha=0.7, label="logger")
    ax.plot(hours, fit, color="#dd8452", linewidth=2, label="fit")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("water temperature (°C)")
    ax.set_xlim(0, 24)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig

csv = pathlib.Path("reef-2026-11-28.csv")
csv.write_text({CSV!r})
"""


CONVERSATION = [
    ("other", "send", "Morning! The reef logger finished overnight: **96 readings**."),
    ("chat", "send", "Great. Does it follow a daily cycle? I'd expect roughly\n\n"
                     "$$T(t) = \\bar{T} + A \\sin\\left(\\frac{2\\pi (t - t_0)}{24}\\right)$$"),
    ("other", "send", "Fitted it like this:\n```python\nfrom scipy.optimize import curve_fit\n"
                      "params, _ = curve_fit(daily, hours, temps, p0=[26, 1, 9])\n```"),
    ("other", "post", "figure()|Amplitude $A = 0.8$ °C, warmest at about 15:40"),
    ("chat", "send", "Lovely, that's tidy. Could you send me the raw file?"),
    ("other", "post", "csv|"),
    ("chat", "send", "Got it, thanks! $\\bar{T} = 26.3$ °C, same as last November."),
]  # fmt: skip


def conversation_code() -> str:
    lines = []
    for who, how, text in CONVERSATION:
        if how == "send":
            lines.append(f"await {who}.send_message({text!r})")
        else:
            obj, caption = text.split("|", 1)
            lines.append(f"await {who}.post({obj}, text={caption or None!r})")
    return "\n".join(lines)


@pytest.mark.integration
async def test_markdown_math_a_figure_and_a_file_in_two_users_views(
    notebook: LabPage, directus: LocalDirectus, demo_users: list[DemoUser], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib (the plots extra) makes the figure")
    from playwright.async_api import expect

    ada, grace = demo_users
    page = notebook.page
    server = urlsplit(directus.url).netloc
    to_directus: list[str] = []
    page.on("request", lambda r: server in r.url and to_directus.append(r.url))
    name = notebook.lab.write_notebook(
        "rich.ipynb", chat_cell(directus.url), chat_cell(directus.url, "other")
    )
    await notebook.open(name)
    await notebook.run_cell(0)
    await notebook.run_cell(1)
    await notebook.execute(setup_code(ada, grace))
    await notebook.execute(conversation_code())
    views = page.locator(".dcw-chat")
    mine, theirs = views.nth(0), views.nth(1)
    for view in (mine, theirs):
        rows = view.locator(".dcw-msg.dcw-status-sent")
        await expect(rows).to_have_count(len(CONVERSATION), timeout=3 * MS)
        # Markdown with code: highlighted, with its copy button; math typeset by KaTeX.
        code = view.locator(".dcw-msg", has_text="curve_fit")
        await expect(code.locator(".dcw-code pre")).to_have_count(1)
        await expect(code.locator("button.dcw-copy")).to_have_count(1)
        await expect(view.locator(".dcw-msg .katex").first).to_be_visible()
        assert await view.locator(".katex-display").count() == 1
        # The figure as a thumbnail, decoded; its caption's math typeset too.
        figure = view.locator(".dcw-msg", has_text="Amplitude")
        thumb = figure.locator("img.dcw-att-img")
        await expect(thumb).to_be_visible()
        await page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=await thumb.element_handle()
        )
        assert await thumb.evaluate("(img) => img.src.startsWith('blob:')")
        assert await figure.locator(".katex").count() == 1
        # The file as a download chip named for it, with no text repeating the name.
        chip = view.locator("button.dcw-att-file", has_text="reef-2026-11-28.csv")
        await expect(chip).to_be_visible()
        await expect(
            view.locator(".dcw-msg-text:visible", has_text="reef-2026-11-28.csv")
        ).to_have_count(0)

    # Ada downloads the file: the same bytes Grace posted, from the kernel.
    async with page.expect_download(timeout=3 * MS) as waiting:
        await mine.locator("button.dcw-att-file").click()
    download = await waiting.value
    saved = tmp_path / "got.csv"
    await download.save_as(saved)
    assert download.suggested_filename == "reef-2026-11-28.csv"
    assert saved.read_text() == CSV

    # Grace opens the full figure over the page, and Escape closes it.
    await theirs.locator("button.dcw-att-thumb").click()
    full = page.locator(".dcw-att-lightbox img.dcw-att-full")
    await expect(full).to_be_visible()
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 400", arg=await full.element_handle()
    )
    await expect(page.locator(".dcw-att-close")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.locator(".dcw-att-lightbox")).to_have_count(0)
    await expect(theirs.locator("button.dcw-att-thumb")).to_be_focused()

    assert to_directus == []  # not one request from the page to Directus: all via the kernel

    # The README's picture: Ada's view of the conversation, whole in a tall window.
    await page.set_viewport_size({"width": 1100, "height": 1400})
    await mine.scroll_into_view_if_needed()
    scroller = mine.locator(".dcw-list-scroller")
    await scroller.evaluate("(s) => { s.scrollTop = s.scrollHeight; }")
    await page.evaluate("() => document.fonts.ready")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    await mine.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000
    assert notebook.dialogs == []
