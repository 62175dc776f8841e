"""Reactions and replies in a real JupyterLab, two users in two views, through Chromium.

Reuses test_browser.py's Lab, Chromium and notebook fixtures: one notebook,
Ada's widget in the first cell and Grace's in the second, one kernel. Grace
reacts by click, Ada from a cell, both see the chips and who; Grace takes hers
back; Grace replies by click; a quote of a message far above the latest page
is clicked and brings it into view, loading older pages on the way; a deleted
parent shows as such in both views.
"""

from __future__ import annotations

import re
import uuid

import pytest
from labdriver import LabPage
from test_browser import ARTIFACTS, chromium, lab, notebook, two_chats

from directus_chat_widget.local import DemoUser, LocalDirectus

pytestmark = pytest.mark.browser

__all__ = ["chromium", "lab", "notebook"]  # fixtures, shared with test_browser

FILLER = 30  # messages after the parent: more than the 20 a room reads when it opens


@pytest.mark.integration
async def test_reactions_and_replies_live_in_two_users_views(
    notebook: LabPage, directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import expect

    ada, grace = demo_users
    page = notebook.page
    mine, theirs = await two_chats(notebook, directus.url, "reactions.ipynb")
    room = f"reactions-{uuid.uuid4().hex[:8]}"
    tag = uuid.uuid4().hex[:6]
    await notebook.execute(
        f"await chat.login({ada.email!r}, {ada.password!r})\n"
        f"await other.login({grace.email!r}, {grace.password!r})\n"
        f"await chat.create_room({room!r})\n"
        f"await other.switch_room({room!r})\n"
        f"a = await chat.send_message('react to me {tag}')"
    )

    # Grace reacts by click, from the palette in the message's tools.
    hers = theirs.locator(".dcw-msg", has_text=f"react to me {tag}")
    await hers.hover()
    await hers.locator("button.dcw-react").click()
    await hers.get_by_role("button", name="React with 👍").click()
    chip = hers.locator("button.dcw-reaction", has_text="👍")
    await expect(chip).to_have_attribute("aria-pressed", "true")
    adas_chip = mine.locator(".dcw-msg", has_text=f"react to me {tag}").locator(
        "button.dcw-reaction", has_text="👍"
    )
    await expect(adas_chip).to_have_attribute("aria-pressed", "false")
    await expect(adas_chip.locator(".dcw-reaction-count")).to_have_text("1")
    await expect(adas_chip).to_have_attribute("title", "Grace reacted with 👍")

    # Ada from a cell: both views count two, and say who.
    await notebook.execute("await chat.react(a, '👍')")
    for each in (chip, adas_chip):
        await expect(each.locator(".dcw-reaction-count")).to_have_text("2")
        await expect(each).to_have_attribute("title", "Grace, Ada reacted with 👍")
    await expect(adas_chip).to_have_attribute("aria-pressed", "true")
    # A reaction that is not one emoji, from a cell: a clear error, nothing changes.
    refused = await notebook.execute(
        "try:\n    await chat.react(a, 'ok')\nexcept ValueError as exc:\n    print(exc)"
    )
    assert "exactly one emoji" in refused
    # Grace takes hers back by clicking the chip.
    await chip.click()
    await expect(chip).to_have_attribute("aria-pressed", "false")
    for each in (chip, adas_chip):
        await expect(each.locator(".dcw-reaction-count")).to_have_text("1")
        await expect(each).to_have_attribute("title", "Ada reacted with 👍")

    # Grace replies by click: the bar says to what, Enter sends, both views quote it.
    await hers.hover()
    await hers.locator("button.dcw-reply").click()
    await expect(theirs.locator(".dcw-replying-text")).to_have_text(
        f"Replying to Ada: react to me {tag}"
    )
    box = theirs.locator("textarea.dcw-form-input")
    await box.fill(f"nice one {tag}")
    await box.press("Enter")
    await expect(theirs.locator(".dcw-replying")).to_be_hidden()
    for view in (mine, theirs):
        reply = view.locator(".dcw-msg", has_text=f"nice one {tag}")
        await expect(reply.locator(".dcw-quote-author")).to_have_text("Ada")
        await expect(reply.locator(".dcw-quote-text")).to_have_text(f"react to me {tag}")

    # A reply to a message far above what Grace's room read: clicking the quote
    # loads older pages until the parent shows, then brings it into view.
    await notebook.execute(
        f"p = await chat.send_message('the parent {tag}')\n"
        f"for n in range({FILLER}):\n"
        f"    await chat.send_message(f'filler {{n}} {tag}')\n"
        f"await chat.send_message('about that {tag}', reply_to=p)\n"
        "await other.switch_room('general')\n"
        f"await other.switch_room({room!r})\n"
        "print(any(m.content.startswith('the parent') for m in other.messages))"
    )
    parent_text = page.locator(".dcw-msg-text", has_text=f"the parent {tag}")
    parent = theirs.locator(".dcw-msg").filter(has=parent_text)  # not the quote of it
    await expect(parent).to_have_count(0)
    quote = theirs.locator(".dcw-msg", has_text=f"about that {tag}").locator("button.dcw-quote")
    await expect(quote.locator(".dcw-quote-text")).to_have_text(f"the parent {tag}")
    await quote.click()
    await expect(parent).to_have_class(re.compile(r"(^|\s)dcw-flash(\s|$)"))
    await expect(parent).to_be_in_viewport()

    # The parent is deleted: both views say so, and its quote is no link.
    await notebook.execute("await chat.delete_message(p)")
    for view in (mine, theirs):
        gone = view.locator(".dcw-msg", has_text=f"about that {tag}").locator("button.dcw-quote")
        await expect(gone).to_have_text("Original message deleted")
        await expect(gone).to_be_disabled()
    ARTIFACTS.mkdir(exist_ok=True)
    await theirs.screenshot(path=str(ARTIFACTS / "widget-reactions.png"))
