"""Unread and @mentions for two users in a real JupyterLab, driven through headless Chromium.

Ada and Grace each log in to a chat widget of one notebook. Ada reads a
room, steps into another; Grace writes on, one message typed with the
composer's @ completion. Ada's switcher counts what she missed, a badge
says she was mentioned, and a notification goes out (the page has the
permission). Opening the room shows a line over the first unread message
and a jump to the latest; her position is kept on the server, so after a
page reload a fresh widget starts where she stopped. The views alone are in
test_views_unread.py; the same paths without a browser in test_widget_unread.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from labdriver import LabPage, chat_cell, chromium, lab, log_in_by_form, notebook
from test_rooms import room_name

from directus_chat_widget.chat import create_room
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession

pytestmark = pytest.mark.browser
__all__ = ["chromium", "lab", "notebook"]  # fixtures, shared in labdriver.py

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# The page may show notifications (as if the reader had allowed them): each is recorded.
GRANTED = """
window.shown = [];
window.Notification = class {
    constructor(title, options) { window.shown.push({ title, ...options }); }
    static requestPermission() { return Promise.resolve("granted"); }
};
window.Notification.permission = "granted";
"""


@pytest.mark.integration
async def test_unread_line_counts_jump_reload_and_mentions_for_two_users(
    notebook: LabPage,
    directus: LocalDirectus,
    grace: RealtimeSession,
    demo_users: list[DemoUser],
) -> None:
    from playwright.async_api import expect

    ada, grace_user = demo_users
    page: Any = notebook.page
    await page.set_viewport_size({"width": 1100, "height": 1700})  # both chats in sight
    await page.add_init_script(GRANTED)
    here, there = await create_room(grace, room_name()), await create_room(grace, room_name())
    tag = uuid.uuid4().hex[:6]
    for n in range(3):
        await grace.create({"content": f"{tag} before {n}", "room": here.id})
    url = directus.url
    name = notebook.lab.write_notebook(
        "unread.ipynb",
        chat_cell(url, "chat", here.name),
        chat_cell(url, "other", here.name),
        chat_cell(url, "again", here.name),  # run after the reload
    )
    await notebook.open(name)
    await notebook.run_cell(0)
    await notebook.run_cell(1)
    mine, theirs = page.locator(".dcw-chat").nth(0), page.locator(".dcw-chat").nth(1)
    await log_in_by_form(mine, ada)
    await log_in_by_form(theirs, grace_user)
    await expect(mine.locator(".dcw-msg", has_text=f"{tag} before 2")).to_be_visible()
    # A room never read has no line; Ada has it in sight at the bottom: read.
    await expect(mine.locator(".dcw-unread-line:visible")).to_have_count(0)
    await notebook.execute(
        "import asyncio\n"
        f"while chat.unread.get({here.name!r}) or chat.read_position is None:\n"
        "    await asyncio.sleep(0.05)"
    )

    # Ada steps into the other room; Grace writes on in the first.
    picker = mine.locator(".dcw-rooms-input")
    await picker.fill(there.name)
    await mine.locator("button.dcw-rooms-open").click()
    await expect(mine.locator(".dcw-list-empty")).to_be_visible()
    await notebook.execute(
        f"for n in range(30):\n    await other.send_message(f'{tag} while away {{n:02d}}')"
    )
    # Other tests on this server may have left Ada mentions elsewhere: count from here.
    before = int(await notebook.execute("print(sum(chat.mentions.values()))"))
    # Grace mentions Ada by the composer's completion: "@Ad", Enter picks, Enter sends.
    box = theirs.locator(".dcw-form-input")
    await box.press_sequentially("@Ad")
    await expect(theirs.locator(".dcw-mention-option")).to_have_text(["Ada Lovelace"])
    await box.press("Enter")
    await expect(box).to_have_value("@Ada Lovelace ")
    await box.press_sequentially(f"have a look {tag}")
    await box.press("Enter")
    await expect(
        theirs.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text="have a look")
    ).to_be_visible()
    await expect(theirs.locator(".dcw-mention")).to_have_text(["@Ada Lovelace"])
    await expect(theirs.locator(".dcw-mention-me")).to_have_count(0)

    # Ada's switcher: the room she left, with what she missed; a badge; a notification.
    chip = mine.locator(".dcw-rooms-chip", has_text=here.name)
    await expect(chip).to_contain_text("31 @")
    badge = mine.locator(".dcw-rooms-mentions")
    await expect(badge).to_have_text(f"@ {before + 1}")
    await expect(theirs.locator(".dcw-rooms-chip", has_text=here.name)).to_have_count(0)
    shown = await page.evaluate("() => window.shown")
    assert [(n["title"], n["body"]) for n in shown] == [
        (f"Grace Hopper mentioned you in {here.name}", f"@Ada Lovelace have a look {tag}")
    ]

    # Back in the room: a line over the first unread, the view there, a jump to the latest.
    await chip.click()
    line = mine.locator(".dcw-unread-line:visible")
    await expect(line).to_have_text("31 unread messages")
    above = page.locator(".dcw-unread-line:visible")  # inside a row: relative to it
    await expect(mine.locator(".dcw-msg", has=above)).to_contain_text(f"{tag} while away 00")
    await expect(mine.locator(".dcw-mention-me")).to_have_text("@Ada Lovelace")
    marker = mine.locator(".dcw-list-new")
    await expect(marker).to_have_text("Jump to latest ↓")
    ARTIFACTS.mkdir(exist_ok=True)
    await mine.screenshot(path=str(ARTIFACTS / "widget-unread.png"))
    await marker.click()
    await expect(marker).to_be_hidden()
    if before:  # seen: no longer unread
        await expect(badge).to_have_text(f"@ {before}")
    else:
        await expect(badge).to_be_hidden()
    await notebook.execute(
        f"while chat.unread.get({here.name!r}):\n    await asyncio.sleep(0.05)\n"
        "await chat.logout()  # what waits to be written goes first"
    )

    # Three more; then a reload, and a fresh widget of Ada's starts where she stopped.
    for n in range(3):
        await grace.create({"content": f"{tag} after {n}", "room": here.id})
    await notebook.command("docmanager:save")  # no "leave the page?" on the reload
    await notebook.open(name)
    await notebook.run_cell(2)
    fresh = page.locator(".dcw-chat").last
    await log_in_by_form(fresh, ada)
    line = fresh.locator(".dcw-unread-line:visible")
    await expect(line).to_have_text("3 unread messages")
    await expect(fresh.locator(".dcw-msg", has=above)).to_contain_text(f"{tag} after 0")
    # All three are in sight at the bottom: read, in the kernel at once.
    await notebook.execute(
        f"while again.unread.get({here.name!r}):\n    await asyncio.sleep(0.05)\n"
        "print(again.read_position)"
    )
