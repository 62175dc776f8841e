"""Typing and presence in a real JupyterLab, in Chromium: two users, two notebooks, two kernels.

Ada's notebook and Grace's notebook are two pages of one JupyterLab, each with
a kernel of its own (as two people would have). Both log in by the form and
open one room from a cell; then Ada types in her composer and Grace's view
says "Ada is typing…", Ada presses Enter and it clears, and each view lists
both as online until Ada logs out by click. The JupyterLab, Chromium and the
notebook page are test_browser.py's fixtures.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from labdriver import MS, Lab, LabPage
from support import CONTRAST_JS
from test_browser import ARTIFACTS, chat_cell, chromium, lab, log_in_by_form, notebook

from directus_chat_widget.chat import create_room
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["chromium", "lab", "notebook"]  # fixtures, imported for this test


async def open_chat(view: LabPage, name: str, url: str, user: DemoUser, room: str) -> None:
    """Open notebook ``name`` with a chat in ``view``, log ``user`` in by form, open ``room``."""
    from playwright.async_api import expect

    await view.open(view.lab.write_notebook(name, chat_cell(url)))
    await view.run_cell(0)
    await log_in_by_form(view.page, user)
    await expect(view.page.locator(".dcw-form-input")).to_be_focused()
    await view.execute(f"await chat.switch_room({room!r})")
    await expect(view.page.locator(".dcw-rooms-input")).to_have_value(room)


@pytest.mark.integration
async def test_two_users_see_each_other_online_and_typing(
    notebook: LabPage,
    chromium: Any,
    lab: Lab,
    directus: LocalDirectus,
    grace: RealtimeSession,
    demo_users: list[DemoUser],
) -> None:
    from playwright.async_api import expect

    ada_user, grace_user = demo_users
    room = f"presence-{uuid.uuid4().hex[:8]}"
    await create_room(grace, room)
    other = LabPage(await chromium.new_page(viewport={"width": 1100, "height": 900}), lab)
    try:
        await open_chat(notebook, "ada.ipynb", directus.url, ada_user, room)
        await open_chat(other, "grace.ipynb", directus.url, grace_user, room)
        ada, grace_view = notebook.page, other.page

        # Both online, in both views; each marks its own reader.
        for page, names in ((ada, "Ada (you), Grace"), (grace_view, "Ada, Grace (you)")):
            await expect(page.locator(".dcw-presence-online")).to_have_text(f"2 online: {names}")

        # Ada types: Grace's view says so (and Ada's own does not); Enter sends and clears it.
        text = f"typed while watched {uuid.uuid4().hex[:6]}"
        box = ada.locator(".dcw-form-input")
        await box.press_sequentially(text, delay=40)
        typing = grace_view.locator(".dcw-presence-typing")
        await expect(typing).to_have_text("Ada is typing…")
        await expect(typing).to_have_attribute("aria-live", "polite")
        await expect(ada.locator(".dcw-presence-typing")).to_have_text("")
        await box.press("Enter")
        await expect(grace_view.locator(".dcw-msg", has_text=text)).to_be_visible()
        await expect(typing).to_have_text("")

        # And the other way round.
        await grace_view.locator(".dcw-form-input").press_sequentially("hi Ada")
        await expect(ada.locator(".dcw-presence-typing")).to_have_text("Grace is typing…")
        for part in (".dcw-presence-typing", ".dcw-presence-online"):  # small text: 4.5:1
            measured = await ada.evaluate(CONTRAST_JS, part)
            assert measured and min(entry["ratio"] for entry in measured) >= 4.5, measured
        ARTIFACTS.mkdir(exist_ok=True)
        await ada.locator(".dcw-chat").screenshot(path=str(ARTIFACTS / "widget-presence.png"))
        said = await other.execute("print([u.short_name for u in chat.presence.online])")
        assert said.strip() == "['Ada', 'Grace']"

        # Ada logs out by click: Grace's view shows her gone at once (no 50 s expiry).
        await ada.locator(".dcw-status-logout").click()
        await expect(grace_view.locator(".dcw-presence-online")).to_have_text(
            "1 online: Grace (you)", timeout=3 * MS
        )
        await expect(ada.locator(".dcw-presence")).to_be_hidden()  # the chat is gone
        assert other.dialogs == []
    finally:
        with contextlib.suppress(Exception):
            await other.command("kernelmenu:shutdown")
        await other.page.close()
