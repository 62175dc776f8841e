"""Voila serves the chat notebook as a standalone page, widgets and attachments and all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from labdriver import MS, REPO, notebook_json, voila
from support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT

from directus_chat_widget.local import DemoUser, LocalDirectus

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "08_chat_widget.ipynb"


@pytest.mark.integration
def test_voila_renders_the_chat_notebook(directus: LocalDirectus, tmp_path: Path) -> None:
    log = tmp_path / "voila.log"
    with voila(NOTEBOOK, log, {"DIRECTUS_URL": directus.url}) as url:
        # Voila runs every cell before it answers, so the read may take a while.
        page = httpx.get(url, timeout=12 * TIMEOUT)
        assert page.status_code == 200, log.read_text()[-2000:]
        assert "application/vnd.jupyter.widget-view+json" in page.text  # the widgets render
        assert "Grace heard: Hello **Grace**!" in page.text  # the notebook ran to its check
        assert "Traceback" not in page.text


ATTACHMENT_NOTEBOOK = """\
import os
from pictures import png
from directus_chat_widget.widget import ChatWidget
chat = ChatWidget(os.environ["DIRECTUS_URL"])
await chat.login(os.environ["DCW_EMAIL"], os.environ["DCW_PASSWORD"])
sent = await chat.post(png(240, 160), name="from-voila.png", text="a picture, served by Voila")
print(sent.status.value)
chat
"""


@pytest.mark.integration
@pytest.mark.browser
async def test_an_image_reaches_a_voila_page_through_the_kernel(
    directus: LocalDirectus, demo_users: list[DemoUser], tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`; CI installs it)")
    from playwright.async_api import async_playwright, expect

    book = tmp_path / "attachment.ipynb"
    book.write_text(json.dumps(notebook_json(ATTACHMENT_NOTEBOOK)))
    ada = demo_users[0]
    env = {
        "DIRECTUS_URL": directus.url,
        "DCW_EMAIL": ada.email,
        "DCW_PASSWORD": ada.password,
        # The kernel imports this checkout, and the tests' picture maker.
        "PYTHONPATH": os.pathsep.join(
            [str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    log = tmp_path / "voila.log"
    with voila(book, log, env) as url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(viewport={"width": 900, "height": 900})
                asked: list[str] = []
                page.on("request", lambda r: directus.url in r.url and asked.append(r.url))
                await page.goto(url, timeout=12 * MS)
                row = page.locator(".dcw-msg", has_text="a picture, served by Voila").last
                thumb = row.locator("img.dcw-att-img")
                await expect(thumb).to_be_visible(timeout=6 * MS)
                await page.wait_for_function(
                    "(img) => img.complete && img.naturalWidth === 240",
                    arg=await thumb.element_handle(),
                )
                await row.locator("button.dcw-att-thumb").click()
                full = page.locator(".dcw-att-lightbox img.dcw-att-full")
                await expect(full).to_be_visible()
                assert asked == []  # the page never asked Directus for anything
            finally:
                await browser.close()
