"""What an image message costs: bytes to the browser, and whether a 5 MB one freezes anything.

    .venv/bin/python bench/attachments.py [--no-server] [--no-browser]

1. Bytes per image message, next to the image's size: the list's wire message
   for it plus the thumbnail a view is sent (with Pillow; without it an image
   is its own thumbnail up to 256 KB). Photos (noise, JPEG) and plots (PNG).
2. Kernel: the event loop's longest stall while ``ChatRoom.post`` sends a 5 MB
   image to a local Directus (a 1 ms ticker runs beside it), next to the same
   ticker with nothing else going on and while posting a 50 KB image. The
   upload and the checks run off the loop; this shows whether they really do.
3. Page (Chromium, the list view alone): a view receives the whole image in a
   buffer and shows it; the longest main-thread task (PerformanceObserver
   "longtask", 50 ms and up) and the time until it is decoded, 5 MB next to 100 KB.

Numbers are printed, never asserted: this is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from directus_chat_widget.chat import ChatRoom, MessageStore
from directus_chat_widget.local import DEMO_USERS, LocalDirectus
from directus_chat_widget.session import RealtimeSession
from directus_chat_widget.widget import MessageList
from directus_chat_widget.widget._standalone import standalone_page
from directus_chat_widget.widget._thumbs import look_at, thumbnail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def photo(size: int) -> bytes:
    """A JPEG of about ``size`` bytes (noise does not compress); PNG noise without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from pictures import noisy_png

        side = int((size / 3) ** 0.5)
        return noisy_png(side, side)
    side = int((size / 0.9) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "JPEG", quality=90)
    return out.getvalue()


def plot_png() -> bytes | None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    figure = Figure(figsize=(6, 4), dpi=100)
    figure.add_subplot().plot([i / 10 for i in range(100)], [(i % 17) / 3 for i in range(100)])
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def wire_bytes(name: str, data: bytes) -> int:
    """Bytes of the list's message announcing one image message (no image in it)."""
    looked = look_at(data, "image/png")
    shown = MessageList()
    sent: list[int] = []
    shown.comm.publish_msg = lambda _t, data=None, **_k: sent.append(len(json.dumps(data)))
    row = {
        "id": 1,
        "content": name,
        "user_created": {"id": "u", "first_name": "Ada"},
        "attachment": {
            "id": "f",
            "filename_download": name,
            "type": looked.mime,
            "filesize": len(data),
            "width": 640,
            "height": 480,
        },
    }
    shown.apply(MessageStore().add_rows([row]))
    return sent[-1]


def bytes_per_image() -> None:
    print("1. Bytes to the browser per image message (the list's message + the thumbnail)\n")
    print(f"{'image':28}{'image bytes':>14}{'wire':>8}{'thumbnail':>12}{'sent/image':>12}")
    images = [("photo, 100 KB", photo(100_000)), ("photo, 1 MB", photo(1_000_000)),
              ("photo, 5 MB", photo(5_000_000))]  # fmt: skip
    plot = plot_png()
    if plot is not None:
        images.insert(0, ("matplotlib plot (PNG)", plot))
    for label, data in images:
        small = thumbnail(look_at(data, "image/jpeg"))
        thumb = len(small.data) if small is not None else 0
        wire = wire_bytes(label, data)
        print(f"{label:28}{len(data):14,}{wire:8,}{thumb:12,}{(wire + thumb) / len(data):12.3f}")
    print("(a click on the thumbnail sends the whole image, once per view)\n")


async def loop_stall(work: Any) -> tuple[float, float]:
    """The longest gap between 1 ms ticks while ``work`` runs, and how long it ran (ms)."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    began = time.perf_counter()
    await work()
    took = time.perf_counter() - began
    done.set()
    await ticker
    return max(gaps) * 1000, took * 1000


async def kernel_side(url: str) -> None:
    session = RealtimeSession(url)
    await session.login(DEMO_USERS[0].email, DEMO_USERS[0].password)
    big, small = photo(5_000_000), photo(50_000)
    try:
        async with ChatRoom(session) as room:
            rows = []
            for _ in range(3):
                rows.append(("idle, 300 ms", await loop_stall(lambda: asyncio.sleep(0.3))))
                rows.append(
                    ("post a 50 KB image", await loop_stall(lambda: room.post(small, name="s.jpg")))
                )
                rows.append(
                    ("post a 5 MB image", await loop_stall(lambda: room.post(big, name="b.jpg")))
                )
    finally:
        await session.close()
    print(f"2. Kernel event loop while posting (3 rounds, {len(big):,}-byte image; ms)\n")
    print(f"{'':24}{'longest stall':>14}{'post took':>12}")
    for label in ("idle, 300 ms", "post a 50 KB image", "post a 5 MB image"):
        stalls = [value[0] for name, value in rows if name == label]
        took = [value[1] for name, value in rows if name == label]
        print(f"{label:24}{statistics.median(stalls):14.1f}{statistics.median(took):12.0f}")
    print()


SHOW_FULL = """async ([bytes64, mime]) => {
    const raw = Uint8Array.from(atob(bytes64), (c) => c.charCodeAt(0));
    const tasks = [];
    const watch = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
    watch.observe({ type: "longtask", buffered: false });
    const start = performance.now();
    const view = window.dcw.sent[0].view;
    const reply = { type: "attachment", view, key: "id:1", want: "full", image: true, mime };
    window.dcw.deliver({ ...reply, error: null }, [new DataView(raw.buffer)]);
    const img = document.querySelector(".dcw-att-lightbox img");
    await img.decode();
    const shown = performance.now() - start;
    await new Promise((done) => setTimeout(done, 100));
    watch.disconnect();
    document.querySelector(".dcw-att-close").click();
    return { shown, longest: Math.max(0, ...tasks.map((t) => t.duration)) };
}"""


async def page_side() -> None:
    from playwright.async_api import async_playwright

    results: dict[str, list[dict[str, float]]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for label, data in (("100 KB image", photo(100_000)), ("5 MB image", photo(5_000_000))):
                page = await browser.new_page(viewport={"width": 900, "height": 700})
                state = {"max_nodes": 500, "empty_text": "", "height": "500px"}
                await page.set_content(standalone_page("message_list", state))
                await page.wait_for_function("() => window.dcw && window.dcw.ready")
                shown = MessageList()
                row = {
                    "id": 1,
                    "content": "p.jpg",
                    "user_created": {"id": "u"},
                    "attachment": {"id": "f", "filename_download": "p.jpg", "type": "image/jpeg"},
                }
                shown.apply(MessageStore().add_rows([row]))
                message = shown.wire()[0]
                snapshot = {"type": "snapshot", "view": None, "messages": [message]}
                await page.evaluate("(m) => window.dcw.deliver(m)", {**snapshot, "first": "id:1"})
                encoded = base64.b64encode(data).decode()
                mime = look_at(data, "image/jpeg").mime
                results[label] = [await page.evaluate(SHOW_FULL, [encoded, mime]) for _ in range(3)]
                await page.close()
        finally:
            await browser.close()
    print("3. Page: the whole image arrives in a buffer and is shown (3 rounds, medians; ms)\n")
    print(f"{'':20}{'until decoded':>15}{'longest task':>14}")
    for label, runs in results.items():
        shown = statistics.median(run["shown"] for run in runs)
        longest = statistics.median(run["longest"] for run in runs)
        print(f"{label:20}{shown:15.1f}{longest:14.1f}")
    print("(a long task is one of 50 ms or more; 0 means none)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-server", action="store_true", help="skip the kernel's upload")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    bytes_per_image()
    if not args.no_server:
        # A busy shared machine makes Directus answer 503 "under pressure": not here.
        server = LocalDirectus(
            tempfile.mkdtemp(prefix="dcw-bench-"),
            port=0,
            env={"PRESSURE_LIMITER_ENABLED": "false"},
        )
        server.start()
        try:
            server.setup_chat()
            asyncio.run(kernel_side(server.url))
        finally:
            server.stop()
    if not args.no_browser and CHROMIUM.exists():
        asyncio.run(page_side())


if __name__ == "__main__":
    main()
