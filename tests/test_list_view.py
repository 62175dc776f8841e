"""The message list view on its own, in headless Chromium, with no Jupyter.

The page renders ``message_list.js`` over a stand-in model (see
``widget/_standalone.py``); a :class:`Relay` plays the comm between that page
and a real :class:`MessageList`, so the Python side under test is the real one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import CHROMIUM, CHROMIUM_ARGS, CONTRAST_JS, TIMEOUT, XSS

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


NEW_YORK = ZoneInfo("America/New_York")
ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
# Another Ada: the same first name, another person.
ADA_BYRON = {"id": "u-ada-byron", "first_name": "Ada", "last_name": "Byron"}
GRACE = {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"}
LONG_WORDS = "Thewholesentenceisonewordwithoutanyspacesinitatall " * 3

AT_BOTTOM = "(s) => s.scrollHeight - s.scrollTop - s.clientHeight < 2"


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
            # Dates are drawn in the reader's timezone: make it one with a known offset.
            yield await browser.new_page(
                viewport={"width": 900, "height": 700},
                locale="en-US",
                timezone_id="America/New_York",
            )
        finally:
            await browser.close()


def row(
    n: int, author: dict[str, Any], text: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    when = "2026-11-29T03:04:05.000Z" if at is None else at.astimezone(UTC).isoformat()
    return {
        "id": n,
        "content": text if text is not None else f"message {n}",
        "date_created": when,
        "user_created": author,
    }


async def open_list(
    page: Any,
    monkeypatch: pytest.MonkeyPatch,
    *,
    height: str = "300px",
    css: str = "",
    **sizes: int,
) -> tuple[MessageStore, MessageList, Relay]:
    """The standalone list view over a real MessageList (Ada logged in), past its first snapshot."""
    state = {"max_nodes": 500, "empty_text": "No messages yet.", "height": height}
    await page.set_content(standalone_page("message_list", state, css=css))
    await page.wait_for_function("() => window.dcw && window.dcw.ready")
    shown = MessageList(**sizes)
    shown.own_id = ADA["id"]
    relay = Relay(page, shown, monkeypatch)
    await relay.pump()
    return MessageStore(), shown, relay


async def at_bottom(page: Any) -> bool:
    return bool(await page.eval_on_selector(".dcw-list-scroller", AT_BOTTOM))


async def settles_at_bottom(page: Any) -> None:
    """The observers run on the next frame: wait for the view to get to the bottom."""
    scroller = await page.query_selector(".dcw-list-scroller")
    await page.wait_for_function(AT_BOTTOM, arg=scroller, timeout=TIMEOUT * 1000)


async def next_frame(page: Any) -> None:
    await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")


async def top_of(page: Any, key: str) -> float:
    """Where the message ``key`` is, from the top of the scrolling box."""
    top: float = await page.evaluate(
        """(key) => {
            const scroller = document.querySelector(".dcw-list-scroller");
            const node = document.querySelector(`.dcw-msg[data-key="${key}"]`);
            return node.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
        }""",
        key,
    )
    return top


async def first_in_sight(page: Any) -> str:
    key: str = await page.evaluate(
        """() => {
            const top = document.querySelector(".dcw-list-scroller").getBoundingClientRect().top;
            const nodes = [...document.querySelectorAll(".dcw-msg")];
            return nodes.find((n) => n.getBoundingClientRect().bottom > top).dataset.key;
        }"""
    )
    return key


async def test_the_list_view_is_bounded_pages_back_and_marks_new_messages(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    ada, grace = ADA, GRACE
    store, shown, relay = await open_list(page, monkeypatch, page_size=50, snapshot_size=100)
    retried: list[str] = []
    shown.on_retry(retried.append)
    await expect(page.locator(".dcw-list-empty")).to_have_text("No messages yet.")
    # In the middle of the empty box, not down at the bottom where messages go.
    off_centre = await page.evaluate(
        """() => {
            const box = document.querySelector(".dcw-list-scroller").getBoundingClientRect();
            const note = document.querySelector(".dcw-list-empty").getBoundingClientRect();
            return Math.abs((note.top + note.bottom) / 2 - (box.top + box.bottom) / 2);
        }"""
    )
    assert off_centre < 2

    # 600 appends, one message each: the view keeps the newest 500.
    for n in range(1001, 1601):
        shown.apply(store.add_rows([row(n, grace)]))
    await relay.pump()
    keys = await relay.keys()
    assert len(keys) == 500 and keys[0] == "id:1101" and keys[-1] == "id:1600"
    assert await at_bottom(page)
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
    await expect(marker).to_have_text("1 new message ↓")
    await marker.click()
    await relay.pump()
    keys = await relay.keys()
    assert len(keys) == 100 and keys[-1] == "id:1601"
    await expect(marker).to_be_hidden()
    assert await at_bottom(page)

    # Scrolled up: no jump, a marker instead; back at the bottom it goes away.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    shown.apply(store.add_rows([row(1602, grace)]))
    await relay.pump()
    await expect(marker).to_have_text("1 new message ↓")
    assert not await at_bottom(page)
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = s.scrollHeight; }")
    await expect(marker).to_be_hidden()

    # At the bottom: a new message scrolls into view; markup stays text.
    shown.apply(store.add_rows([row(1603, grace, XSS)]))
    await relay.pump()
    assert await at_bottom(page)
    await expect(page.locator(".dcw-msg-text").last).to_have_text(XSS)
    assert await page.locator(".dcw-list img").count() == 0

    # Our own send: pending, then failed with Retry, which reaches Python.
    pending = store.add_pending("mine", ada)
    shown.apply(pending)
    await relay.pump()
    mine = page.locator(".dcw-msg.dcw-own")
    await expect(mine).to_have_class(re.compile(r"\bdcw-status-pending\b"))
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
    await expect(mine).to_have_class(re.compile(r"\bdcw-status-sent\b"))


# -- keeping the reader's place --------------------------------------------------------


async def hide(page: Any, hidden: bool) -> None:
    """Hide or show the widget the way a background notebook tab does: display none."""
    await page.evaluate(
        "(hidden) => { document.getElementById('root').style.display = hidden ? 'none' : ''; }",
        hidden,
    )
    await next_frame(page)


async def test_messages_that_arrive_while_hidden_are_followed_when_shown(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch)
    shown.apply(store.add_rows([row(n, GRACE) for n in range(1, 41)]))
    await relay.pump()
    assert await at_bottom(page)
    await hide(page, True)
    for n in range(41, 71):  # 30 arrivals, one at a time, none of them seen
        shown.apply(store.add_rows([row(n, GRACE)]))
        await relay.pump()
    await hide(page, False)
    await settles_at_bottom(page)
    await expect(page.locator('.dcw-msg[data-key="id:70"]')).to_be_in_viewport()
    await expect(page.locator(".dcw-list-new")).to_be_hidden()


async def test_a_reader_scrolled_up_while_hidden_keeps_the_place_and_gets_a_count(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch)
    shown.apply(store.add_rows([row(n, GRACE) for n in range(1, 61)]))
    await relay.pump()
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 200; }")
    await next_frame(page)
    reading = await first_in_sight(page)
    top = await top_of(page, reading)
    await hide(page, True)
    for n in range(61, 91):
        shown.apply(store.add_rows([row(n, GRACE)]))
        await relay.pump()
    await hide(page, False)
    marker = page.get_by_role("button", name="Jump to 30 new messages")
    await expect(marker).to_be_visible()
    await expect(marker).to_have_text("30 new messages ↓")
    await next_frame(page)
    assert abs(await top_of(page, reading) - top) <= 1
    assert not await at_bottom(page)
    await marker.click()
    await settles_at_bottom(page)
    await expect(marker).to_be_hidden()


async def test_resizing_keeps_a_reader_at_the_bottom_there_and_one_above_in_place(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch)
    shown.apply(store.add_rows([row(n, GRACE, f"{n}: {'some words ' * 12}") for n in range(60)]))
    await relay.pump()
    assert await at_bottom(page)
    # The widget's own height shrinks: the newest message stays in sight.
    await page.evaluate("() => window.dcw.change('height', '180px')")
    await settles_at_bottom(page)
    # The window narrows: every message rewraps, taller; still the bottom.
    await page.evaluate("() => { document.getElementById('root').style.width = '100%'; }")
    await page.set_viewport_size({"width": 460, "height": 700})
    await settles_at_bottom(page)
    await page.evaluate("() => window.dcw.change('height', '400px')")
    await settles_at_bottom(page)

    # Scrolled up: the message at the top stays at the top through a rewrap.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 300; }")
    await next_frame(page)
    reading = await first_in_sight(page)
    top = await top_of(page, reading)
    await page.set_viewport_size({"width": 800, "height": 700})
    await page.wait_for_function(
        "(want) => Math.abs("
        "document.querySelector(`.dcw-msg[data-key='${want[0]}']`).getBoundingClientRect().top"
        " - document.querySelector('.dcw-list-scroller').getBoundingClientRect().top"
        " - want[1]) <= 1",
        arg=[reading, top],
        timeout=TIMEOUT * 1000,
    )
    assert not await at_bottom(page)


# -- grouping and date lines ----------------------------------------------------------

# Per node: its key, the name shown over it (None: a follow-up), its date line (None: none).
SEEN_GROUPS = """() => [...document.querySelectorAll(".dcw-msg")].map((node) => {
    const clipped = (e) => {
        for (let n = e; n !== node; n = n.parentElement) {
            if (getComputedStyle(n).clipPath !== "none") return true;
        }
        return false;
    };
    const seen = (e) => e.getClientRects().length > 0 && !clipped(e);
    const author = node.querySelector(".dcw-msg-author");
    const day = node.querySelector(".dcw-day");
    return [node.dataset.key, seen(author) ? author.textContent : null,
            seen(day) ? day.textContent : null];
})"""


def day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    label = f"{day:%A}, {day:%B} {day.day}"
    return label if day.year == today.year else f"{label}, {day.year}"


def expected_groups(shown: MessageList, keys: list[str]) -> list[list[str | None]]:
    """The grouping rule, written again independently: what each node should show."""
    today = datetime.now(NEW_YORK).date()
    out: list[list[str | None]] = []
    previous = None
    for key in keys:
        message = shown.get(key)
        assert message is not None
        when = message.created_at.astimezone(NEW_YORK) if message.created_at else None
        day = when.date() if when else today
        new_day = previous is None or previous[1] != day
        start = (
            new_day
            or message.author_id is None
            or previous[0].author_id != message.author_id
            or (
                when is not None
                and previous[2] is not None
                and when - previous[2] > timedelta(minutes=10)
            )
        )
        name = shown.wire(shown.held_keys.index(key), shown.held_keys.index(key) + 1)[0]["author"]
        out.append([key, name if start else None, day_label(day, today) if new_day else None])
        previous = (message, day, when)
    return out


async def test_runs_by_one_author_show_one_name_and_days_get_a_date_line(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch, page_size=2)
    today = datetime.now(NEW_YORK).date()
    base = today - timedelta(days=3)

    def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute, second), NEW_YORK)

    nxt = base + timedelta(days=1)
    shown.apply(
        store.add_rows(
            [
                row(10, ADA, "first", at(base, 10, 0)),
                row(20, ADA, "second", at(base, 10, 1)),
                row(30, ADA_BYRON, "another Ada", at(base, 10, 2)),
                # 23:59 and 00:01 in New York: the same day in UTC, two days here.
                row(40, GRACE, "late", at(base, 23, 59)),
                row(50, GRACE, "after midnight", at(nxt, 0, 1)),
                row(60, GRACE, "still up", at(nxt, 0, 2)),
                row(70, GRACE, "and again", at(nxt, 0, 5)),
                row(75, GRACE, "an hour on", at(nxt, 1, 5)),
                row(80, GRACE, "yesterday", at(today - timedelta(days=1), 12, 0)),
                row(90, ADA, "today", at(today, 12, 0)),
            ]
        )
    )
    await relay.pump()

    async def check() -> list[list[str | None]]:
        seen: list[list[str | None]] = await page.evaluate(SEEN_GROUPS)
        assert seen == expected_groups(shown, [key for key, _, _ in seen])
        return seen

    first_day, second_day = day_label(base, today), day_label(nxt, today)
    assert await check() == [
        ["id:10", "Ada", first_day],
        ["id:20", None, None],
        ["id:30", "Ada", None],  # the other Ada: a name again
        ["id:40", "Grace", None],
        ["id:50", "Grace", second_day],
        ["id:60", None, None],
        ["id:70", None, None],
        ["id:75", "Grace", None],  # an hour's pause
        ["id:80", "Grace", "Yesterday"],
        ["id:90", "Ada", "Today"],
    ]
    await shoot(page, "list-groups.png")

    # A late arrival between Ada's two splits her run; its removal joins it again.
    shown.apply(store.add_rows([row(15, GRACE, "in between", at(base, 10, 0, 30))]))
    await relay.pump()
    assert (await check())[1:3] == [["id:15", "Grace", None], ["id:20", "Ada", None]]
    shown.apply(store.remove("id:15"))
    await relay.pump()
    assert (await check())[1] == ["id:20", None, None]

    # The first of a day goes: the next one takes its date line and the name.
    shown.apply(store.remove("id:50"))
    await relay.pump()
    assert (await check())[4] == ["id:60", "Grace", second_day]

    # Our own send follows our own message; someone else's lands between;
    # confirmed with an earlier id, it moves back up and joins the run again.
    pending = store.add_pending("on its way", ADA)
    shown.apply(pending)
    await relay.pump()
    mine = pending.messages[0].key
    assert (await check())[-1] == [mine, None, None]
    shown.apply(store.add_rows([row(95, GRACE, "me first", at(today, 12, 5))]))
    await relay.pump()
    assert (await check())[-2:] == [["id:95", "Grace", None], [mine, "Ada", None]]
    shown.apply(store.confirm(mine, row(92, ADA, "on its way", at(today, 12, 1))))
    await relay.pump()
    assert (await check())[-3:] == [
        ["id:90", "Ada", "Today"],
        [mine, None, None],
        ["id:95", "Grace", None],
    ]

    # Fewer nodes: the oldest go, and the new first opens with its day and name.
    await page.evaluate("() => window.dcw.change('max_nodes', 6)")
    assert (await check())[0] == ["id:70", "Grace", second_day]
    # An older page goes in above it: it is a follow-up again.
    await page.locator(".dcw-list-older").click()
    await relay.pump()
    assert (await check())[:3] == [
        ["id:40", "Grace", first_day],
        ["id:60", "Grace", second_day],
        ["id:70", None, None],
    ]


# -- text direction, width, keyboard and screen readers ---------------------------------


async def test_each_text_takes_its_own_direction(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch)
    ali = {"id": "u-ali", "first_name": "علي", "last_name": "حسن"}
    arabic = "مرحبا بالعالم."
    shown.apply(store.add_rows([row(1, ali, arabic), row(2, GRACE, "Hello, world.")]))
    await relay.pump()
    found = await page.evaluate(
        """() => [...document.querySelectorAll(".dcw-msg")].map((node) => {
            const text = node.querySelector(".dcw-msg-text");
            const author = node.querySelector(".dcw-msg-author");
            const glyph = (i) => {
                const range = document.createRange();
                range.setStart(text.firstChild, i);
                range.setEnd(text.firstChild, i + 1);
                return range.getBoundingClientRect();
            };
            const last = text.textContent.length - 1;
            return {
                dirs: [text.getAttribute("dir"), author.getAttribute("dir")],
                rtl: [text.matches(":dir(rtl)"), author.matches(":dir(rtl)")],
                // Where the full stop is drawn against the first letter.
                stopLeftOfFirst: glyph(last).right <= glyph(0).left + 0.5,
            };
        })"""
    )
    assert [f["dirs"] for f in found] == [["auto", "auto"], ["auto", "auto"]]
    assert [f["rtl"] for f in found] == [[True, True], [False, False]]
    # Right to left, a sentence ends at its left edge; left to right, at its right.
    assert [f["stopLeftOfFirst"] for f in found] == [True, False]


OVERFLOWING = """() => {
    const scroller = document.querySelector(".dcw-list-scroller");
    const box = document.querySelector(".dcw-list").getBoundingClientRect();
    const bad = [];
    if (scroller.scrollWidth > scroller.clientWidth) bad.push(["scroller", scroller.scrollWidth]);
    for (const e of document.querySelectorAll(".dcw-list *")) {
        if (!e.getClientRects().length) continue;  // not drawn
        const r = e.getBoundingClientRect();
        const name = `${e.tagName}.${e.className}`;
        if (r.left < box.left - 0.5 || r.right > box.right + 0.5) bad.push([name, r.left, r.right]);
        else if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
            bad.push([name, e.scrollWidth, e.clientWidth]);
    }
    return bad;
}"""


async def test_nothing_in_the_list_overflows_at_420_px(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    await page.set_viewport_size({"width": 440, "height": 700})
    # JupyterLab's font stack (--jp-ui-font-family), not the browser's serif default.
    font = "body { font-family: system-ui, 'Segoe UI', helvetica, arial, sans-serif; }"
    store, shown, relay = await open_list(page, monkeypatch, snapshot_size=20, css=font)
    await page.evaluate("() => { document.getElementById('root').style.width = '420px'; }")
    long_name = {"id": "u-long", "first_name": "Wolfeschlegelsteinhausenbergerdorffvoralternwaren"}
    today = datetime.now(NEW_YORK).replace(hour=12, minute=0, second=0, microsecond=0)
    earlier = [row(n, GRACE, at=today - timedelta(days=400)) for n in range(30)]
    shown.apply(store.add_rows(earlier + [row(n, GRACE, at=today) for n in range(30, 60)]))
    failed = store.add_pending("z" * 200, ADA)
    shown.apply(failed)
    shown.apply(store.fail(failed.messages[0].key, "ECONNREFUSED" * 12))
    await relay.pump()
    # Scrolled up while long messages arrive below: the marker shows, with a count.
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    await next_frame(page)
    arrivals = [
        row(60, long_name, "x" * 400, today),
        row(61, GRACE, "https://example.org/" + "a/very/long/path/" * 20, today),
        row(62, ADA, LONG_WORDS, today),
        row(63, {"id": "u-ali", "first_name": "علي"}, "مرحبا " * 40, today),
    ]
    shown.apply(store.add_rows(arrivals + [row(n, GRACE, at=today) for n in range(64, 100)]))
    await relay.pump()
    await expect(page.locator(".dcw-list-new")).to_have_text("40 new messages ↓")
    await page.evaluate("() => window.dcw.change('max_nodes', 60)")  # older ones go: "load older"
    await expect(page.locator(".dcw-list-older")).to_be_visible()
    assert await page.locator('.dcw-msg[data-key="id:60"]').count() == 1
    assert await page.evaluate(OVERFLOWING) == []
    # In sight too (the long ones), not only laid out.
    await page.eval_on_selector('.dcw-msg[data-key="id:59"]', "(n) => n.scrollIntoView()")
    await next_frame(page)
    assert await page.evaluate(OVERFLOWING) == []
    await shoot(page, "list-420px.png")


async def test_buttons_are_labelled_and_the_marker_works_from_the_keyboard(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch, snapshot_size=20)
    shown.apply(store.add_rows([row(n, GRACE) for n in range(40)]))
    failed = store.add_pending("lost in transit", ADA)
    shown.apply(failed)
    shown.apply(store.fail(failed.messages[0].key, "offline"))
    await relay.pump()
    await page.evaluate("() => window.dcw.change('max_nodes', 30)")  # older ones go: "load older"
    log = page.get_by_role("log", name="Messages")
    await expect(log).to_have_count(1)
    await expect(page.get_by_role("button", name="Load older messages")).to_be_visible()
    await expect(page.get_by_role("button", name="Retry sending “lost in transit”")).to_be_visible()
    await expect(page.get_by_role("button", name="Discard “lost in transit”")).to_be_visible()
    unnamed = await page.evaluate(
        """() => [...document.querySelectorAll(".dcw-list button")]
            .filter((b) => !(b.getAttribute("aria-label") || b.textContent).trim()).length"""
    )
    assert unnamed == 0

    # The list scrolls from the keyboard; the marker is a button Enter presses.
    scroller = page.get_by_role("region", name="Chat messages")
    await scroller.focus()
    await page.keyboard.press("Home")
    await page.wait_for_function(
        "() => document.querySelector('.dcw-list-scroller').scrollTop === 0"
    )
    shown.apply(store.add_rows([row(n, GRACE) for n in range(40, 43)]))
    await relay.pump()
    marker = page.get_by_role("button", name="Jump to 3 new messages")
    await marker.focus()
    await page.keyboard.press("Enter")
    await settles_at_bottom(page)
    await expect(marker).to_be_hidden()
    assert await page.evaluate("() => document.activeElement.className") == "dcw-list-scroller"


async def shoot(page: Any, name: str) -> None:
    """Save a screenshot of the list when DCW_ARTIFACTS names a folder (for people, not asserts)."""
    folder = os.environ.get("DCW_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.locator(".dcw-list").screenshot(path=str(Path(folder) / name))


# -- colours -----------------------------------------------------------------------------


def lab_theme_css(theme: str) -> str:
    """One of JupyterLab's own themes, from the installed package, as the page's CSS.

    Some themes name the Material palette (``--md-blue-700``) with no fallback;
    JupyterLab defines it in its core bundle, so it is taken from there too.
    """
    spec = importlib.util.find_spec("jupyterlab")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("jupyterlab is not installed")
    lab = Path(next(iter(spec.submodule_search_locations)))
    sheet = lab / "themes" / "@jupyterlab" / f"theme-{theme}-extension" / "index.css"
    if not sheet.exists():
        pytest.skip(f"no {sheet}")
    palette: dict[str, str] = {}
    for bundle in sorted((lab / "static").glob("jlab_core.*.js")):
        found = re.findall(
            r"(--md-[a-z]+(?:-[a-z]+)*-(?:50|[1-9]00|A[1-7]00))\s*:\s*(#[0-9a-fA-F]{3,8})",
            bundle.read_text(encoding="utf-8", errors="replace"),
        )
        palette.update(found)
    variables = "".join(f"{name}: {value};" for name, value in palette.items())
    page = "body { background: var(--jp-layout-color0); font-family: var(--jp-ui-font-family); }"
    return f":root {{ {variables} }}\n{sheet.read_text(encoding='utf-8')}\n{page}"


# What each kind of text sits on; every one must read at 4.5:1 or better (WCAG AA).
READABLE = {
    "others' text": ".dcw-msg:not(.dcw-own) .dcw-msg-text",
    "own text": ".dcw-own .dcw-msg-text",
    "others' name and time": (
        ".dcw-group-start:not(.dcw-own) .dcw-msg-author, "
        ".dcw-group-start:not(.dcw-own) .dcw-msg-time"
    ),
    "own name and time": ".dcw-own.dcw-group-start .dcw-msg-author, "
    ".dcw-own.dcw-group-start .dcw-msg-time",
    "sending / not sent": ".dcw-msg-state-text",
    "date line": ".dcw-day-start > .dcw-day",
    "buttons": ".dcw-list-older, .dcw-list-new, .dcw-msg-retry, .dcw-msg-discard",
    "empty note": ".dcw-list-empty",
}


@pytest.mark.parametrize("theme", ["light", "dark", "dark-high-contrast"])
async def test_every_text_reads_at_4_5_to_1_in_jupyterlabs_themes(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    from playwright.async_api import expect

    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch, css=lab_theme_css(theme))
    layout = await page.evaluate(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color1')"
    )
    assert layout.strip(), "the theme's variables did not load"
    ratios = {"empty note": await page.evaluate(CONTRAST_JS, READABLE["empty note"])}

    today = datetime.now(NEW_YORK).replace(hour=9, minute=0, second=0, microsecond=0)
    rows = [row(n, GRACE, f"from Grace {n}", today) for n in range(1, 25)]
    rows += [row(n, ADA, f"from Ada {n}", today) for n in range(25, 28)]
    shown.apply(store.add_rows(rows))
    failed = store.add_pending("this one did not go", ADA)
    shown.apply(failed)
    shown.apply(store.fail(failed.messages[0].key, "Forbidden"))
    shown.apply(store.add_pending("this one is on its way", ADA))
    await relay.pump()
    await page.evaluate("() => window.dcw.change('max_nodes', 20)")  # shows "load older"
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = 0; }")
    await next_frame(page)
    shown.apply(store.add_rows([row(40, GRACE, "below the fold", today)]))
    await relay.pump()
    await expect(page.locator(".dcw-list-new")).to_be_visible()
    await expect(page.locator(".dcw-list-older")).to_be_visible()
    for kind, selector in READABLE.items():
        if kind != "empty note":
            ratios[kind] = await page.evaluate(CONTRAST_JS, selector)

    print(f"\n{theme}:")
    for kind, found in ratios.items():
        assert found, f"nothing matched for {kind}"
        worst = min(found, key=lambda f: f["ratio"])
        print(f"  {kind:24} {worst['ratio']:6.2f}  {worst['color']} on {worst['background']}")
    low = [(kind, f) for kind, found in ratios.items() for f in found if f["ratio"] < 4.5]
    assert low == [], low
    await page.eval_on_selector(".dcw-list-scroller", "(s) => { s.scrollTop = s.scrollHeight; }")
    await next_frame(page)
    await shoot(page, f"list-{theme}.png")


# -- rich messages ------------------------------------------------------------------------

RICH = (
    "**Read** [the docs](https://example.org) and run `pip install x`:\n\n"
    "```python\n@cache\ndef f(x: int) -> str:  # a comment\n"
    "    return f'{x!r}' + \"s\" * 2 if x is not None else len([1.5, 0x1F])\n```\n\n"
    "> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |"
)
# What rendered Markdown shows, each against what it sits on.
RICH_READABLE = {
    "text": ".dcw-msg-rich p, .dcw-msg-rich td, .dcw-msg-rich blockquote",
    "link": ".dcw-msg-rich a",
    "inline code": ".dcw-msg-rich :not(pre) > code",
    "code tokens": ".dcw-code pre span, .dcw-code pre code",
    "copy button": "button.dcw-copy",
}


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_rich_messages_read_in_jupyterlabs_themes(
    chromium_page: Any, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    page = chromium_page
    store, shown, relay = await open_list(page, monkeypatch, css=lab_theme_css(theme))
    shown.apply(store.add_rows([row(1, GRACE, RICH), row(2, ADA, RICH)]))
    await relay.pump()
    assert await page.locator(".dcw-msg-rich .dcw-code").count() == 2
    print(f"\n{theme}:")
    low = []
    for kind, selector in RICH_READABLE.items():
        found = await page.evaluate(CONTRAST_JS, selector)
        assert found, f"nothing matched for {kind}"
        worst = min(found, key=lambda f: f["ratio"])
        print(
            f"  {kind:14} {worst['ratio']:6.2f}  {worst['color']} on {worst['background']}"
            f"  {worst['text']!r}"
        )
        low += [(kind, f["text"], f["ratio"]) for f in found if f["ratio"] < 4.5]
    await shoot(page, f"list-rich-{theme}.png")
    assert low == [], low
