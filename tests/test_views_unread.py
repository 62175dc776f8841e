"""Unread and mentions in the views alone, in headless Chromium: the list, composer, switcher.

The harness is test_list_view.py's: a standalone page per view (no Jupyter),
and for the list a Relay playing the comm to a real MessageList; what the
view says back (``seen``) is recorded on the Python side.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import TIMEOUT, XSS
from test_list_view import (
    GRACE,
    Relay,
    at_bottom,
    chromium_page,
    hide,
    next_frame,
    open_list,
    row,
    top_of,
)

from directus_chat_widget.chat.members import Member
from directus_chat_widget.chat.mentions import Directory
from directus_chat_widget.store import ChatMessage, MessageStore
from directus_chat_widget.widget import MessageList
from directus_chat_widget.widget._standalone import standalone_page

pytestmark = pytest.mark.browser
__all__ = ["chromium_page"]  # a fixture, imported for these tests


class Seen:
    """Records the ``seen`` a view says, as MessageList's other listeners would."""

    def __init__(self, shown: MessageList, relay: Relay) -> None:
        self.keys: list[str] = []
        self.relay = relay
        shown.on_msg(self._on_msg)

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "seen":
            self.keys.append(content["key"])

    async def wait_for(self, count: int) -> None:
        """Relay until ``count`` have come (the view waits a moment before it says so)."""
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while len(self.keys) < count:
            assert asyncio.get_running_loop().time() < deadline, f"seen so far: {self.keys}"
            await self.relay.pump()
            await asyncio.sleep(0.05)

    async def quiet(self) -> None:
        """Relay for longer than the view waits, so a ``seen`` it would say has come."""
        for _ in range(10):
            await self.relay.pump()
            await asyncio.sleep(0.05)


async def fill(store: MessageStore, shown: MessageList, relay: Relay, numbers: range) -> None:
    shown.apply(store.add_rows([row(n, GRACE) for n in numbers]))
    await relay.pump()


async def test_the_unread_line_the_jump_and_what_the_reader_saw(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch)
    seen = Seen(shown, relay)
    await fill(store, shown, relay, range(1, 61))
    # At the bottom, but Python has not said where the unread ones start (a slow
    # read of older pages, say): nothing is seen yet, or all would be marked read.
    await seen.quiet()
    assert seen.keys == []
    # Opened with 20 unread: a line over the first, the view there, and a way down.
    shown.send({"type": "unread", "view": None, "first": "id:41", "count": 20, "fresh": True})
    await relay.pump()
    line = page.locator('.dcw-msg[data-key="id:41"] .dcw-unread-line')
    await expect(line).to_have_text("20 unread messages")
    await expect(page.locator(".dcw-unread-line:visible")).to_have_count(1)
    assert 0 <= await top_of(page, "id:41") < 40
    marker = page.locator(".dcw-list-new")
    await expect(marker).to_have_text("Jump to latest ↓")
    await seen.quiet()
    assert seen.keys == []  # not at the latest: nothing seen
    await marker.click()
    await seen.wait_for(1)
    assert seen.keys == ["id:60"] and await at_bottom(page)
    await expect(marker).to_be_hidden()
    # At the bottom, a new one is seen as it comes; the line stays where it was.
    await fill(store, shown, relay, range(61, 62))
    await seen.wait_for(2)
    assert seen.keys[-1] == "id:61"
    await expect(line).to_be_visible()
    # Nothing new: scrolling about says nothing again.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = s.scrollHeight; }")
    await seen.quiet()
    assert seen.keys == ["id:60", "id:61"]

    # Hidden (a background tab): arrivals are not seen, and get a line of their own.
    await hide(page, True)
    await fill(store, shown, relay, range(62, 65))
    await seen.quiet()
    assert seen.keys[-1] == "id:61"
    await hide(page, False)
    await seen.wait_for(3)
    assert seen.keys[-1] == "id:64"
    moved = page.locator('.dcw-msg[data-key="id:62"] .dcw-unread-line')
    await expect(moved).to_have_text("New messages")
    await expect(line).to_be_hidden()
    # Python asks every view to jump: a reader scrolled up goes down.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    await next_frame(page)
    shown.send({"type": "jump", "view": None})
    await relay.pump()
    await page.wait_for_function(
        "() => { const s = document.querySelector('.dcw-list-scroller');"
        " return s.scrollHeight - s.scrollTop - s.clientHeight < 2; }"
    )


MEMBERS = Directory(
    [
        Member("u-ada", "Ada", "Lovelace"),
        Member("u-grace", "Grace", "Hopper"),
        Member("u-x", "Mallory", "<img src=x onerror=alert(1)>"),
    ]
)


def mentions_of(message: ChatMessage) -> dict[str, Any]:
    found = MEMBERS.find(message.content)
    return {"mentions": [{"name": m.name, "me": m.of("u-ada")} for m in found.mentions]}


async def test_mentions_are_highlighted_as_text_and_never_in_code(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch)
    shown.add_row_fields(mentions_of)
    texts = [
        "hi @Ada Lovelace, and @grace too",
        "**bold** `@Grace` in code, then @Grace Hopper and ada@example.com",
        "@Mallory <img src=x onerror=alert(1)> is a name",
        f"@Nobody is nobody {XSS}",
    ]
    shown.apply(store.add_rows([row(n, GRACE, text) for n, text in enumerate(texts, 1)]))
    await relay.pump()
    first = page.locator('.dcw-msg[data-key="id:1"]')
    await expect(first.locator(".dcw-mention")).to_have_text(["@Ada Lovelace", "@grace"])
    await expect(first.locator(".dcw-mention-me")).to_have_text("@Ada Lovelace")
    await expect(first.locator(".dcw-bubble.dcw-mentions-me")).to_have_count(1)
    second = page.locator('.dcw-msg[data-key="id:2"]')
    await expect(second.locator("strong")).to_have_text("bold")  # Markdown still drawn
    await expect(second.locator(".dcw-mention")).to_have_text(["@Grace Hopper"])
    await expect(second.locator("code .dcw-mention")).to_have_count(0)
    hostile = page.locator('.dcw-msg[data-key="id:3"]')
    await expect(hostile.locator(".dcw-mention")).to_have_text(
        ["@Mallory <img src=x onerror=alert(1)>"]
    )
    await expect(page.locator('.dcw-msg[data-key="id:4"] .dcw-mention')).to_have_count(0)
    assert await page.locator(".dcw-list img").count() == 0
    # Each highlight is a span of the view's own, with a class and nothing else.
    made = await page.eval_on_selector_all(
        ".dcw-mention", "(all) => all.map((s) => [s.tagName, s.getAttributeNames()])"
    )
    assert made and all(entry == ["SPAN", ["class"]] for entry in made), made
    # An edit that drops the mention drops the highlight; one that adds it, adds it.
    shown.apply(store.add_rows([row(1, GRACE, "no one now"), row(4, GRACE, "now @ada")]))
    await relay.pump()
    await expect(first.locator(".dcw-mention")).to_have_count(0)
    await expect(first.locator(".dcw-bubble.dcw-mentions-me")).to_have_count(0)
    await expect(page.locator('.dcw-msg[data-key="id:4"] .dcw-mention-me')).to_have_text("@ada")


async def test_typing_at_offers_the_members_and_enter_picks_without_sending(
    chromium_page: Any,
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    people = ["Grace Hopper", "Ada Byron", "Mallory <img src=x onerror=alert(1)>"]
    state = {"disabled": False, "placeholder": "", "max_length": 5000, "people": people}
    await page.set_content(standalone_page("message_form", state))
    await page.wait_for_function("() => window.dcw && window.dcw.ready")
    box, options = page.locator(".dcw-form-input"), page.locator(".dcw-mention-option")
    await box.press_sequentially("hi @gr")
    await expect(options).to_have_text(["Grace Hopper"])
    await expect(box).to_have_attribute("aria-expanded", "true")
    await box.press("Enter")  # picks, does not send
    await expect(box).to_have_value("hi @Grace Hopper ")
    await expect(options).to_have_count(0)
    await box.press_sequentially("and @")
    await expect(options).to_have_text(people)  # a hostile name is text
    assert await page.locator(".dcw-form img").count() == 0
    await box.press("ArrowDown")
    await expect(page.locator(".dcw-mention-active")).to_have_text("Ada Byron")
    await box.press("Escape")  # closed, and stays closed until the text changes
    await expect(options).to_have_count(0)
    await box.press("ArrowLeft")
    await box.press("ArrowRight")
    await expect(options).to_have_count(0)
    await box.press_sequentially("by")  # a word of the name: "Byron"
    await expect(options).to_have_text(["Ada Byron"])
    await box.press("Tab")
    await expect(box).to_have_value("hi @Grace Hopper and @Ada Byron ")
    await box.press_sequentially("or ada@ex")  # an address: nothing offered
    await expect(options).to_have_count(0)
    # Nothing sent but the typing news presence reports (see message_form.js).
    sent = await page.evaluate("() => window.dcw.drain()")
    assert {message["type"] for message in sent} <= {"typing"}, sent
    await box.press("Enter")  # the list is closed: this one sends
    sent = await page.evaluate("() => window.dcw.drain()")
    sent = [message for message in sent if message["type"] != "typing"]
    assert sent == [{"type": "submit", "text": "hi @Grace Hopper and @Ada Byron or ada@ex"}]


# A stand-in for the browser's Notification: what was shown, and every ask.
FAKE_NOTIFICATIONS = """() => {
    window.shown = [];
    window.asked = 0;
    class Fake {
        constructor(title, options) { window.shown.push({ title, ...options }); }
        static requestPermission() {
            window.asked += 1;
            Fake.permission = "granted";
            return Promise.resolve("granted");
        }
    }
    Fake.permission = "default";
    window.Notification = Fake;
}"""


async def test_the_switcher_shows_counts_a_badge_and_notifies_only_when_allowed(
    chromium_page: Any,
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    state = {
        "rooms": ["design", "general", "ops", "random"],
        "current": "general",
        "busy": False,
        "error": "",
        "unread": {"ops": 3, "general": 2, "design": 120, "random": 1},
        "mentions": {"ops": 1, "general": 1},
    }
    await page.set_content(standalone_page("room_bar", state))
    await page.wait_for_function("() => window.dcw && window.dcw.ready")
    await page.evaluate(FAKE_NOTIFICATIONS)
    await page.evaluate("() => window.dcw.change('mentions', {ops: 1, general: 1})")
    chips = page.locator(".dcw-rooms-chip")
    # The room shown is not listed; mentions first, then the most unread.
    await expect(chips).to_have_text(["ops3 @", "design99+", "random1"])
    said = "Open ops: 3 unread, 1 mentioning you"
    await expect(chips.first).to_have_attribute("aria-label", said)
    await expect(page.locator(".dcw-rooms-mentions")).to_have_text("@ 2")
    await expect(page.locator('option[value="design"]')).to_have_attribute("label", "99+ unread")
    await chips.first.click()
    assert await page.evaluate("() => window.dcw.drain()") == [{"type": "open", "name": "ops"}]
    # A mention before any permission: nothing shown, nothing asked.
    mention = {"type": "mention", "key": "id:7", "room": "ops", "author": "Grace Hopper"}
    mention |= {"text": "look @Ada", "current": False}
    await page.evaluate("(m) => window.dcw.deliver(m)", mention)
    assert await page.evaluate("() => [window.shown.length, window.asked]") == [0, 0]
    notify = page.locator(".dcw-rooms-notify")
    await notify.click()  # the reader asks
    await expect(notify).to_be_hidden()
    await page.evaluate("(m) => window.dcw.deliver(m)", mention)
    shown = await page.evaluate("() => window.shown")
    assert shown == [
        {"title": "Grace Hopper mentioned you in ops", "body": "look @Ada", "tag": "dcw-id:7"}
    ]
    assert await page.evaluate("() => window.asked") == 1
    await page.evaluate("() => window.dcw.change('mentions', {})")
    await expect(page.locator(".dcw-rooms-mentions")).to_be_hidden()


async def test_a_thousand_rooms_keep_the_switcher_usable(chromium_page: Any) -> None:
    """1,000 rooms, all unread: a few chips and "+N more", and any room opens by name."""
    from playwright.async_api import expect

    page = chromium_page
    rooms = [f"room-{n:04d}" for n in range(1000)]
    state = {
        "rooms": rooms,
        "current": rooms[0],
        "busy": False,
        "error": "",
        "unread": {name: 1 + n % 7 for n, name in enumerate(rooms)},
        "mentions": {},
    }
    await page.set_content(standalone_page("room_bar", state))
    await page.wait_for_function("() => window.dcw && window.dcw.ready")
    # Every room is offered to the box's suggestions; only a few take room as chips.
    assert await page.locator(".dcw-rooms datalist option").count() == 1000
    await expect(page.locator(".dcw-rooms-chip")).to_have_count(6)
    await expect(page.locator(".dcw-rooms-more")).to_have_text("+993 more")
    box = page.locator(".dcw-rooms-input")
    await box.fill("room-0999")
    await box.press("Enter")
    assert await page.evaluate("() => window.dcw.drain()") == [
        {"type": "open", "name": "room-0999"}
    ]
