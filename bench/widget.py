"""How the chat widget's cost grows with the history: it should not.

    .venv/bin/python bench/widget.py [--count 10000] [--no-browser]

Python side (no kernel: ipywidgets' dummy comm, whose publish step here
serialises to JSON as a kernel would):

- widget: ``MessageList.apply`` for one appended message, timed alone;
- store + widget: ``MessageStore.add_rows`` + ``apply``, the path one incoming
  message takes below the ChatRoom; and the same over a mixed history (plain,
  Markdown, code, math, images and files, rendered as the list does);
- bytes on the wire per append, against what one synced list trait would send;
- bytes on the wire per edit (someone's, arriving as one update; one's own,
  shown at once as saving and then as stored: two updates) and per delete,
  made in the middle of the full history;
- bytes on the wire per reaction (one added, one taken back: only that
  message's reactions go) and per edit of a message that has a reply (the
  update, then the reply's new quote).

The list runs with the reactions and replies row parts wired as in a
ChatWidget (every tenth message replies to one five above it), so the append
costs include theirs.

Browser side (Debian's Chromium via Playwright, if present): the list view on
a standalone page fed the same custom messages; time for a new message to be
placed and laid out with 100 and with 10,000 messages in the history, and,
for contrast, with all 10,000 in the DOM (no node bound).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from directus_chat_widget.chat._reacting import RoomReactions
from directus_chat_widget.chat.reactions import reaction_key
from directus_chat_widget.chat.replies import RoomReplies
from directus_chat_widget.protocol import SubscriptionEvent
from directus_chat_widget.store import MessageStore, StoreChange
from directus_chat_widget.widget import MessageList
from directus_chat_widget.widget._reactions import Reactions
from directus_chat_widget.widget._replies import Replies
from directus_chat_widget.widget._standalone import standalone_page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
AUTHORS = [
    {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"},
    {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"},
]


def row(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "content": f"message number {n}: a line of ordinary chat text",
        "date_created": f"2026-11-29T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "user_created": AUTHORS[n % 2],
        "reply_to": n - 5 if n % 10 == 0 else None,
    }


def mixed_row(n: int) -> dict[str, Any]:
    """A message of one of six kinds, in turn: plain, Markdown, code, math, an image, a file."""
    kind = n % 6
    base = row(n)
    if kind == 1:
        base["content"] = f"**note {n}**: read [the docs](https://example.org/{n}) first"
    elif kind == 2:
        base["content"] = f"try:\n```python\nprint({n} * 2)\n```"
    elif kind == 3:
        base["content"] = f"so $e^{{i\\pi}} + {n} = {n - 1}$ as you said"
    elif kind in (4, 5):
        image = kind == 4
        base["content"] = f"{'plot' if image else 'data'}-{n}.{'png' if image else 'csv'}"
        base["attachment"] = {
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "filename_download": base["content"],
            "type": "image/png" if image else "text/csv",
            "filesize": 48_213,
            "width": 640 if image else None,
            "height": 480 if image else None,
        }
    return base


class _Session:
    """All the room's parts ask of a session here: who is logged in."""

    user = AUTHORS[0]


class _Room:
    """The open room as the widget's row parts see it: a store, its reactions and quotes."""

    def __init__(self, store: MessageStore) -> None:
        self.reactions = RoomReactions(_Session(), store)  # type: ignore[arg-type]
        self.reactions.available = True
        self.replies = RoomReplies(_Session(), "messages", store)  # type: ignore[arg-type]
        self.get = store.get


class _Login:
    """The LoginFlow the row parts hang on: the room shown, and who watches it."""

    def __init__(self, room: _Room) -> None:
        self.room = room
        self.room_watchers: list[Callable[[Any], Callable[[], None]]] = []


def with_parts(widget: MessageList, store: MessageStore) -> _Room:
    """Wire the reactions and replies row parts to ``widget``, as a ChatWidget does."""
    room = _Room(store)
    login = _Login(room)
    Reactions(login, None, None, widget, print)  # type: ignore[arg-type]
    Replies(login, widget)  # type: ignore[arg-type]
    for watch in login.room_watchers:
        watch(room)
    return room


def reaction_row(row_id: int, message: int, emoji: str, user: dict[str, Any]) -> dict[str, Any]:
    key = reaction_key(message, emoji, user["id"])
    return {"id": row_id, "message": message, "emoji": emoji, "reaction_key": key,
            "user_created": user}  # fmt: skip


def metered_list(**kwargs: Any) -> tuple[MessageList, list[int], list[dict[str, Any]]]:
    """A MessageList whose comm serialises each message (as a kernel does) and keeps it."""
    widget = MessageList(**kwargs)
    widget.own_id = "u-ada"
    sizes: list[int] = []
    sent: list[dict[str, Any]] = []

    def publish(
        msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
    ) -> None:
        raw = json.dumps(data)
        sizes.append(len(raw.encode()))
        sent.append(data.get("content"))  # (closing a comm sends none)

    widget.comm.publish_msg = publish
    return widget, sizes, sent


def per_append_us(count: int, step: Callable[[int], None]) -> list[float]:
    times = []
    for n in range(1, count + 1):
        start = time.perf_counter()
        step(n)
        times.append((time.perf_counter() - start) * 1e6)
    return times


def python_side(count: int) -> dict[str, Any]:
    # Widget alone: the store's changes are made first, untimed.
    store = MessageStore(own_id="u-ada")  # the list's reader: her messages are hers to edit
    widget, sizes, _ = metered_list()
    room = with_parts(widget, store)
    changes: list[StoreChange] = []
    for n in range(1, count + 1):
        changes.append(store.add_rows([row(n)]))
        room.replies.seen(changes[-1])  # as the room does before the list hears of it
    widget_us = per_append_us(count, lambda n: widget.apply(changes[n - 1]))
    append_bytes = sizes[:]

    # Store + widget: one incoming message's path below the room.
    store2 = MessageStore()
    widget2, _, _ = metered_list()
    room2 = with_parts(widget2, store2)

    def incoming(n: int) -> None:
        change = store2.add_rows([row(n)])
        room2.replies.seen(change)
        widget2.apply(change)

    both_us = per_append_us(count, incoming)

    # The same path over a history of every kind, each rendered (Markdown, code, math).
    store3 = MessageStore()
    widget3, mixed_sizes, _ = metered_list()
    mixed_us = per_append_us(count, lambda n: widget3.apply(store3.add_rows([mixed_row(n)])))

    full_trait = len(json.dumps(widget.wire()).encode())
    return {
        "widget": widget_us,
        "both": both_us,
        "mixed": mixed_us,
        "mixed_bytes": mixed_sizes,
        "bytes": append_bytes,
        "full_trait": full_trait,
        **reaction_bytes(room, store, widget, sizes, count),
        **edit_and_delete_bytes(store, widget, sizes, count),
    }


def reaction_bytes(
    room: _Room, store: MessageStore, widget: MessageList, sizes: list[int], count: int
) -> dict[str, list[int]]:
    """Bytes sent to the browser per reaction added and taken back, a quarter of the way
    into the history; and per edit of a message that has a reply."""

    def sent_by(step: Callable[[], None]) -> int:
        before = len(sizes)
        step()
        return sum(sizes[before:])

    def event(kind: str, rows: list[dict[str, Any]], keys: tuple[int, ...]) -> None:
        room.reactions._on_event(SubscriptionEvent("uid", kind, tuple(rows), keys))  # type: ignore[arg-type]

    # A quarter of the way in: the edits and deletes below take the middle.
    middle = range(count // 4, count // 4 + max(2, min(200, count // 8)))
    added, removed, next_id = [], [], 1
    for n in middle:
        for user in AUTHORS:  # two reactions on each: the second one's delta names both
            reaction = reaction_row(next_id, n, "👍", user)
            added.append(sent_by(lambda r=reaction: event("create", [r], (r["id"],))))
            next_id += 1
    for row_id in range(1, next_id, 2):
        removed.append(sent_by(lambda i=row_id: event("delete", [], (i,))))
    parents = [n - 5 for n in middle if n % 10 == 0]
    edited = {"date_updated": "2026-11-30T00:00:00.000Z"}

    def edit_parent(n: int) -> None:
        change = store.add_rows([{**row(n), **edited, "content": f"{row(n)['content']}!"}])
        room.replies.seen(change)
        widget.apply(change)

    return {
        "reaction_bytes": added,
        "unreaction_bytes": removed,
        "parent_edit_bytes": [sent_by(lambda n=n: edit_parent(n)) for n in parents],
    }


def edit_and_delete_bytes(
    store: MessageStore, widget: MessageList, sizes: list[int], count: int
) -> dict[str, list[int]]:
    """Bytes sent to the browser per edit and per delete, in the middle of ``count`` messages.

    The edited text is as long as the original plus " (edited)"; deletes go last.
    """

    def sent_by(step: Callable[[], None]) -> int:
        before = len(sizes)
        step()
        return sum(sizes[before:])

    middle = range(count // 2, count // 2 + max(2, min(200, count // 4)))
    theirs = [n for n in middle if AUTHORS[n % 2]["id"] != widget.own_id]
    mine = [n for n in middle if AUTHORS[n % 2]["id"] == widget.own_id]
    edited = {"content": "", "date_updated": "2026-11-30T00:00:00.000Z"}

    def server_edit(n: int) -> None:
        widget.apply(
            store.add_rows([{**row(n), **edited, "content": f"{row(n)['content']} (edited)"}])
        )

    def own_edit(n: int) -> None:
        message = store.by_id(n)
        assert message is not None and message.own
        text = f"{message.content} (edited)"
        widget.apply(store.start_saving(message.key, "edit", text))
        widget.apply(store.end_saving(message.key, {**row(n), **edited, "content": text}))

    return {
        "edit_bytes": [sent_by(lambda n=n: server_edit(n)) for n in theirs],
        "own_edit_bytes": [sent_by(lambda n=n: own_edit(n)) for n in mine],
        "delete_bytes": [sent_by(lambda n=n: widget.apply(store.remove_ids([n]))) for n in middle],
    }


# -- browser ---------------------------------------------------------------------

DELIVER_TIMED = """(message) => {
    const scroller = document.querySelector(".dcw-list-scroller");
    const start = performance.now();
    window.dcw.deliver(message);
    void scroller.scrollHeight;  // layout: the message is placed and measured
    return performance.now() - start;
}"""


async def browser_side(count: int, samples: int) -> dict[str, Any] | None:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    # The payloads a real MessageList sends for count + samples appends.
    widget, _, sent = metered_list()
    store = MessageStore()
    for n in range(1, count + samples + 1):
        widget.apply(store.add_rows([row(n)]))
    appends = sent[:]
    snapshot_all = {
        "type": "snapshot",
        "view": None,
        "messages": widget.wire(0, count),
        "first": widget.held_keys[0],
        "older": False,
    }

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:

            async def fresh(max_nodes: int) -> Any:
                page = await browser.new_page(viewport={"width": 900, "height": 700})
                state = {"max_nodes": max_nodes, "empty_text": "", "height": "500px"}
                await page.set_content(standalone_page("message_list", state))
                await page.wait_for_function("() => window.dcw && window.dcw.ready")
                return page

            async def feed(page: Any, messages: list[dict[str, Any]]) -> float:
                start = time.perf_counter()
                for at in range(0, len(messages), 500):
                    await page.evaluate(
                        "(all) => all.forEach((m) => window.dcw.deliver(m))",
                        messages[at : at + 500],
                    )
                return time.perf_counter() - start

            async def timed(page: Any, messages: list[dict[str, Any]]) -> list[float]:
                return [await page.evaluate(DELIVER_TIMED, m) for m in messages]

            # Early: 100 in the history, then `samples` new ones; then just past the bound.
            page = await fresh(500)
            await feed(page, appends[:100])
            early = await timed(page, appends[100 : 100 + samples])
            await page.close()
            past = min(count, 600)
            page = await fresh(500)
            await feed(page, appends[:past])
            bound = await timed(page, appends[past : past + samples])
            await page.close()

            # Late: all `count` delivered one by one (the DOM keeps 500), then new ones.
            page = await fresh(500)
            fed = await feed(page, appends[:count])
            nodes = await page.locator(".dcw-msg").count()
            late = await timed(page, appends[count : count + samples])
            await page.close()

            # Contrast: no bound, all `count` nodes in the DOM.
            page = await fresh(count + samples + 1)
            await page.evaluate("(m) => window.dcw.deliver(m)", snapshot_all)
            unbounded_nodes = await page.locator(".dcw-msg").count()
            unbounded = await timed(page, appends[count : count + samples])
            await page.close()
        finally:
            await browser.close()
    return {
        "early": early,
        "bound": bound,
        "past": past,
        "late": late,
        "unbounded": unbounded,
        "fed_seconds": fed,
        "nodes": nodes,
        "unbounded_nodes": unbounded_nodes,
    }


# -- report ------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    count, samples = args.count, args.samples
    window = max(1, min(1000, count // 10))

    py = python_side(count)
    print(
        f"Appending {count:,} messages, one per change "
        f"(first vs last {window:,}; medians, microseconds)"
    )
    print(f"{'':34}{'first':>10}{'last':>10}{'last/first':>12}")
    for label, key in (
        ("widget: MessageList.apply", "widget"),
        ("store + widget", "both"),
        ("store + widget, 6 kinds mixed", "mixed"),
    ):
        first, last = median(py[key][:window]), median(py[key][-window:])
        print(f"{label:34}{first:10.1f}{last:10.1f}{last / first:12.2f}")
    first_b, last_b = median(py["bytes"][:window]), median(py["bytes"][-window:])
    print(f"{'bytes sent per append':34}{first_b:10.0f}{last_b:10.0f}{last_b / first_b:12.2f}")
    mixed_b = [float(b) for b in py["mixed_bytes"]]
    first_m, last_m = median(mixed_b[:window]), median(mixed_b[-window:])
    print(f"{'bytes per append, mixed':34}{first_m:10.0f}{last_m:10.0f}{last_m / first_m:12.2f}")
    print(
        f"{'one synced list trait at the end':34}{'':10}{py['full_trait']:10,}"
        f"{py['full_trait'] / last_b:11.0f}x"
    )
    print(
        f"\nEdits, deletes and reactions in the middle of {count:,} messages: "
        "bytes to the browser (median)"
    )
    print(f"{'':34}{'bytes':>10}{'vs append':>12}")
    for label, key in (
        ("an edit arriving (one update)", "edit_bytes"),
        ("own edit (saving + stored: 2)", "own_edit_bytes"),
        ("a delete (one remove)", "delete_bytes"),
        ("a reaction added", "reaction_bytes"),
        ("a reaction taken back", "unreaction_bytes"),
        ("edit of a message with a reply (+q)", "parent_edit_bytes"),
    ):
        size = median([float(b) for b in py[key]])
        print(f"{label:34}{size:10.0f}{size / last_b:12.2f}")

    if args.no_browser:
        return
    web = asyncio.run(browser_side(count, samples))
    if web is None:
        print("\nBrowser: skipped (no /usr/bin/chromium or no playwright)")
        return
    print(
        f"\nBrowser (Chromium, list view alone): a new message placed and laid out, ms "
        f"({samples} samples)"
    )
    print(f"{'':34}{'median':>10}{'p95':>10}{'DOM nodes':>12}")
    rows = (
        ("100 in history", web["early"], min(100 + samples, 500)),
        (f"{web['past']:,} in history (bounded)", web["bound"], 500),
        (f"{count:,} in history (bounded)", web["late"], web["nodes"]),
        (f"{count:,} in the DOM (no bound)", web["unbounded"], web["unbounded_nodes"]),
    )
    for label, values, nodes in rows:
        print(f"{label:34}{median(values):10.2f}{p95(values):10.2f}{nodes:12,}")
    ratio = median(web["late"]) / median(web["bound"])
    label = f"{count:,} vs {web['past']:,} in history"
    print(f"{label:34}{ratio:10.2f}  (late/early)")
    per = web["fed_seconds"] / count * 1000
    print(f"taking in {count:,} appends: {web['fed_seconds']:.1f} s ({per:.2f} ms each)")


if __name__ == "__main__":
    main()
