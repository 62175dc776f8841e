"""The message list view on its own, in headless Chromium, with no Jupyter.

The page renders ``message_list.js`` over a stand-in model (see
``widget/_standalone.py``); a :class:`Relay` plays the comm between that page
and a real :class:`MessageList`, so the Python side under test is the real one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support import CHROMIUM, CHROMIUM_ARGS, XSS

from directus_chat_widget.store import MessageStore
from directus_chat_widget.widget import MessageList
from directus_chat_widget.widget._standalone import standalone_page

pytestmark = pytest.mark.browser


class Relay:
    """Plays the comm between a real MessageList and its view in a standalone page."""

    def __init__(self, page: Any, message_list: MessageList, monkeypatch: pytest.MonkeyPatch):
        self.page = page
        self.list = message_list
        self.outbox: list[dict[str, Any]] = []
        monkeypatch.setattr(message_list, "send", self._record)

    def _record(self, content: dict[str, Any], buffers: Any = None) -> None:
        self.outbox.append(json.loads(json.dumps(content)))

    async def pump(self) -> None:
        """Deliver until both sides are quiet: view requests to Python, answers to the view."""
        while True:
            requests = await self.page.evaluate("() => window.dcw.drain()")
            for request in requests:
                self.list._handle_custom_msg(request, [])
            if not requests and not self.outbox:
                return
            out, self.outbox = self.outbox, []
            await self.page.evaluate("(all) => all.forEach((m) => window.dcw.deliver(m))", out)

    async def keys(self) -> list[str]:
        keys: list[str] = await self.page.eval_on_selector_all(
            ".dcw-msg", "(nodes) => nodes.map((n) => n.dataset.key)"
        )
        return keys


@pytest.fixture
async def chromium_page() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`; CI installs it)")
    async_api = pytest.importorskip("playwright.async_api")
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield await browser.new_page(viewport={"width": 900, "height": 700})
        finally:
            await browser.close()


def row(n: int, author: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    return {
        "id": n,
        "content": text if text is not None else f"message {n}",
        "date_created": "2026-11-29T03:04:05.000Z",
        "user_created": author,
    }


async def test_the_list_view_is_bounded_pages_back_and_marks_new_messages(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    ada = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
    grace = {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"}
    state = {"max_nodes": 500, "empty_text": "No messages yet.", "height": "300px"}
    await page.set_content(standalone_page("message_list", state))
    await page.wait_for_function("() => window.dcw && window.dcw.ready")
    store, shown = MessageStore(), MessageList(page_size=50, snapshot_size=100)
    shown.own_id = "u-ada"
    relay = Relay(page, shown, monkeypatch)
    retried: list[str] = []
    shown.on_retry(retried.append)
    await relay.pump()  # the view's first request: a snapshot (empty)
    await expect(page.locator(".dcw-list-empty")).to_have_text("No messages yet.")

    async def at_bottom() -> bool:
        return bool(
            await page.eval_on_selector(
                ".dcw-list-scroller",
                "(s) => s.scrollHeight - s.scrollTop - s.clientHeight < 2",
            )
        )

    # 600 appends, one message each: the view keeps the newest 500.
    for n in range(1001, 1601):
        shown.apply(store.add_rows([row(n, grace)]))
    await relay.pump()
    keys = await relay.keys()
    assert len(keys) == 500 and keys[0] == "id:1101" and keys[-1] == "id:1600"
    assert await at_bottom()
    older = page.locator(".dcw-list-older")
    await expect(older).to_be_visible()
    await expect(page.locator(".dcw-list-new")).to_be_hidden()
    last = page.locator(".dcw-msg").last
    await expect(last.locator(".dcw-msg-author")).to_have_text("Grace")
    await expect(last.locator(".dcw-msg-time")).not_to_be_empty()

    # Load older: the page goes in above, the reader's place holds, the newest go.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    anchor = page.locator('.dcw-msg[data-key="id:1101"]')
    top_before = (await anchor.bounding_box())["y"]
    await older.click()
    await relay.pump()
    keys = await relay.keys()
    assert len(keys) == 500 and keys[0] == "id:1051" and keys[-1] == "id:1550"
    assert abs((await anchor.bounding_box())["y"] - top_before) <= 1
    marker = page.locator(".dcw-list-new")
    await expect(marker).to_have_text("Jump to latest ↓")

    # Detached from the latest: a new message is counted, not drawn; the marker jumps.
    shown.apply(store.add_rows([row(1601, grace)]))
    await relay.pump()
    assert "id:1601" not in await relay.keys()
    await expect(marker).to_have_text("New messages (1) ↓")
    await marker.click()
    await relay.pump()
    keys = await relay.keys()
    assert len(keys) == 100 and keys[-1] == "id:1601"
    await expect(marker).to_be_hidden()
    assert await at_bottom()

    # Scrolled up: no jump, a marker instead; back at the bottom it goes away.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    shown.apply(store.add_rows([row(1602, grace)]))
    await relay.pump()
    await expect(marker).to_have_text("New messages ↓")
    assert not await at_bottom()
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = s.scrollHeight; }")
    await expect(marker).to_be_hidden()

    # At the bottom: a new message scrolls into view; markup stays text.
    shown.apply(store.add_rows([row(1603, grace, XSS)]))
    await relay.pump()
    assert await at_bottom()
    await expect(page.locator(".dcw-msg-text").last).to_have_text(XSS)
    assert await page.locator(".dcw-list img").count() == 0

    # Our own send: pending, then failed with Retry, which reaches Python.
    pending = store.add_pending("mine", ada)
    shown.apply(pending)
    await relay.pump()
    mine = page.locator(".dcw-msg.dcw-own")
    await expect(mine).to_have_class("dcw-msg dcw-status-pending dcw-own")
    await expect(mine.locator(".dcw-msg-state-text")).to_have_text("Sending…")
    shown.apply(store.fail(pending.messages[0].key, "Forbidden"))
    await relay.pump()
    await expect(mine.locator(".dcw-msg-state-text")).to_have_text("Not sent: Forbidden")
    await mine.locator(".dcw-msg-retry").click()
    await relay.pump()
    assert retried == [pending.messages[0].key]
    # Confirmed: it moves to its id's place, before nothing (it is the newest).
    shown.apply(store.confirm(pending.messages[0].key, row(1604, ada, "mine")))
    await relay.pump()
    keys = await relay.keys()
    assert keys[-1] == pending.messages[0].key and len(keys) == 103
    await expect(mine).to_have_class("dcw-msg dcw-status-sent dcw-own")
