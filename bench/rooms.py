"""Switching rooms with 10,000 messages in each: how long until the latest page shows.

    .venv/bin/python bench/rooms.py [--count 10000] [--switches 30]

A local Directus (the kit's, in a temporary folder) holds two rooms with
``--count`` messages each, interleaved. Measured, as medians:

- server + Python: ``ChatWidget.switch_room`` logged in as a demo user (find
  the room, subscribe with its filter, read its latest page, swap the list),
  with what it sends the browser captured;
- browser: Chromium (the list view on a standalone page, as bench/widget.py)
  showing the snapshot a switch sends, placed and laid out, over a view that
  held the other room's 10,000 messages (500 in the DOM).

The sum is the switch a reader sees, short of JupyterLab's own comm hop.
Never asserted in a test: the target (under 100 ms) is read off this output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from widget import CHROMIUM, CHROMIUM_ARGS, DELIVER_TIMED, metered_list, row

from directus_chat_widget.local import DEMO_USERS, LocalDirectus
from directus_chat_widget.store import MessageStore
from directus_chat_widget.widget import ChatWidget
from directus_chat_widget.widget._standalone import standalone_page


async def seed(server: LocalDirectus, count: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        login = {"email": server.admin_email, "password": server.admin_password}
        token = (await http.post("/auth/login", json=login)).json()["data"]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for name in ("a", "b"):
            (await http.post("/items/rooms", json={"name": name}, headers=auth)).raise_for_status()
        rooms = (await http.get("/items/rooms", headers=auth)).json()["data"]
        ids = {room["name"]: room["id"] for room in rooms}
        for start in range(0, 2 * count, 1000):
            batch = [
                {"content": f"message {n}", "room": ids["a" if n % 2 else "b"]}
                for n in range(start, min(start + 1000, 2 * count))
            ]
            (await http.post("/items/messages", json=batch, headers=auth)).raise_for_status()


async def python_side(server: LocalDirectus, switches: int) -> tuple[list[float], Any]:
    chat = ChatWidget(server.url)
    sent: list[dict[str, Any]] = []
    chat.message_list.send = lambda content, buffers=None: sent.append(content)
    try:
        await chat.login(DEMO_USERS[0].email, DEMO_USERS[0].password)
        await chat.settle()
        times = []
        for n in range(switches):
            start = time.perf_counter()
            await chat.switch_room("a" if n % 2 == 0 else "b")
            times.append((time.perf_counter() - start) * 1000)
        snapshots = [content for content in sent if content.get("type") == "snapshot"]
        snapshot = json.loads(json.dumps(snapshots[-1]))
    finally:
        await chat.aclose()
    return times, snapshot


async def browser_side(count: int, snapshot: dict[str, Any], samples: int) -> list[float]:
    from playwright.async_api import async_playwright

    widget, _, appends = metered_list()
    store = MessageStore()
    for n in range(1, count + 1):
        widget.apply(store.add_rows([row(n)]))
    widget.comm.publish_msg = lambda *args, **keys: None  # its close, at exit, is not metered
    times = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for _ in range(samples):
                page = await browser.new_page(viewport={"width": 900, "height": 700})
                state = {"max_nodes": 500, "empty_text": "", "height": "500px"}
                await page.set_content(standalone_page("message_list", state))
                await page.wait_for_function("() => window.dcw && window.dcw.ready")
                for at in range(0, count, 1000):
                    await page.evaluate(
                        "(all) => all.forEach((m) => window.dcw.deliver(m))",
                        appends[at : at + 1000],
                    )
                times.append(await page.evaluate(DELIVER_TIMED, snapshot))
                await page.close()
        finally:
            await browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--switches", type=int, default=30)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = LocalDirectus(Path(folder), port=0)
        server.start()
        try:
            server.setup_chat()
            asyncio.run(seed(server, args.count))
            py, snapshot = asyncio.run(python_side(server, args.switches))
        finally:
            server.stop()
    shown = len(snapshot.get("messages", []))
    print(f"Switching between two rooms of {args.count:,} messages each (medians, ms)")
    print(
        f"{'server + Python: switch_room':40}{statistics.median(py):10.1f}  ({args.switches} runs)"
    )
    if not CHROMIUM.exists():
        print("Browser: skipped (no /usr/bin/chromium)")
        return
    web = asyncio.run(browser_side(args.count, snapshot, args.samples))
    print(f"{'browser: show the new page':40}{statistics.median(web):10.1f}  ({shown} messages)")
    total = statistics.median(py) + statistics.median(web)
    print(f"{'sum (target: under 100)':40}{total:10.1f}")


if __name__ == "__main__":
    main()
