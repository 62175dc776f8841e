"""Read positions: how many writes a reader costs the server, per minute.

    .venv/bin/python bench/unread.py [--seconds 60] [--rates 0,1,5]

A local Directus (the kit's, in a temporary folder). Ada's ChatWidget shows
``general``; a reader watching at the bottom is played by saying ``seen`` for
each new message as it arrives (what the list's unread part does once the
message has been in sight for 0.3 s). Grace posts ``rate`` messages a second
for ``--seconds``. Counted: the messages seen, and the writes of Ada's read
position (creates and updates of her ``read_positions`` row), per minute,
beside what one write per message seen would cost. Then the position the
server holds is checked against the newest message seen: a position that
lags when the reader leaves would be a lost position, not a saving.

Never asserted in a test: the numbers are read off this output.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from directus_chat_widget.chat import find_room
from directus_chat_widget.chat.reads import ReadPositions
from directus_chat_widget.local import DEMO_USERS, LocalDirectus
from directus_chat_widget.session import RealtimeSession
from directus_chat_widget.widget import ChatWidget


async def one_rate(url: str, rate: float, seconds: float) -> tuple[int, int, bool]:
    """Messages seen, writes made, and whether the server holds the last one seen."""
    ada, grace = DEMO_USERS
    chat = ChatWidget(url)
    sender = RealtimeSession(url)
    seen = 0
    try:
        await chat.login(ada.email, ada.password)
        await chat.settle()
        await sender.login(grace.email, grace.password)
        unread = chat._unread
        positions = unread.positions
        assert positions is not None, "no read positions on this server"
        start_writes = positions.writes
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if rate > 0:
                await sender.create({"content": f"at {rate}/s"})
                await asyncio.sleep(0.05)  # its event reaches Ada's room
                unread.seen(chat.messages[-1].key)  # the reader has it in sight
                seen += 1
                await asyncio.sleep(max(0.0, 1 / rate - 0.05))
            else:
                await asyncio.sleep(min(1.0, end - time.monotonic()))
        newest = chat.read_position
        await chat.logout()  # what waits is written now: counted too
        writes = positions.writes - start_writes
        check = RealtimeSession(url)
        await check.login(ada.email, ada.password)
        try:
            general = await find_room(check, "general")
            stored = await ReadPositions(check).load()
        finally:
            await check.close()
        kept = general is not None and stored.get(general.id) == newest
        return seen, writes, kept
    finally:
        await sender.close()
        await chat.aclose()


async def main(seconds: float, rates: list[float]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = LocalDirectus(Path(folder) / "data", port=0)
        server.start()
        try:
            server.setup_chat()
            print(f"{seconds:.0f} s per rate; writes per minute of one reader watching general")
            print(
                f"{'msgs/s':>7} {'seen':>6} {'writes':>7} {'writes/min':>11} "
                f"{'one per seen /min':>18} {'kept':>5}"
            )
            for rate in rates:
                seen, writes, kept = await one_rate(server.url, rate, seconds)
                per_minute = writes * 60 / seconds
                naive = seen * 60 / seconds
                print(
                    f"{rate:>7g} {seen:>6} {writes:>7} {per_minute:>11.1f} "
                    f"{naive:>18.1f} {'yes' if kept else 'NO':>5}"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rates", default="0,1,5", help="messages a second, comma separated")
    options = parser.parse_args()
    asyncio.run(main(options.seconds, [float(r) for r in options.rates.split(",")]))
