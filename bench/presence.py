"""Presence writes per minute: a typing user, a user who types and sends, an idle one.

    .venv/bin/python bench/presence.py [--seconds 60] [--keys-per-second 5]

A local Directus (the kit's, in a temporary folder). Three chat users are in
one room with the default :class:`PresenceTiming`, for ``--seconds``:

- Ada types all the time (``--keys-per-second``, every key reported to her
  RoomPresence, as if there were no throttle in the browser);
- Alan types for 8 s, sends, reads for 12 s, again and again;
- Grace is online and idle.

A fourth socket (Grace again, writing nothing) counts the presence rows the
server stores while the clock runs, create and update events by user: those
are the database writes (joining and leaving are left out). Printed per
minute, beside the keys typed and the ceiling the timing allows. Never
asserted in a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from directus_chat_widget.chat import ChatRoom, PresenceTiming, RoomPresence
from directus_chat_widget.local import DEMO_USERS, DemoUser, LocalDirectus
from directus_chat_widget.local.schema import add_chat_user
from directus_chat_widget.rest import DirectusRest
from directus_chat_widget.session import RealtimeSession

ALAN = DemoUser("alan@example.com", "alan-bench-only", "Alan", "Turing")


async def typing_all_along(presence: RoomPresence, stop: asyncio.Event, rate: float) -> int:
    keys = 0
    while not stop.is_set():
        presence.keystroke()
        keys += 1
        await asyncio.sleep(1 / rate)
    return keys


async def typing_and_sending(
    presence: RoomPresence, room: ChatRoom, stop: asyncio.Event, rate: float
) -> int:
    keys = 0
    while not stop.is_set():
        for _ in range(int(8 * rate)):
            if stop.is_set():
                return keys
            presence.keystroke()
            keys += 1
            await asyncio.sleep(1 / rate)
        presence.stop_typing()  # what the widget does on a send
        await room.send(f"message after {keys} keys")
        with contextlib.suppress(TimeoutError):  # reading, unless the time is up
            await asyncio.wait_for(stop.wait(), 12.0)
    return keys


async def measure(server: LocalDirectus, seconds: float, rate: float) -> list[tuple[Any, ...]]:
    sessions = []
    for user in (DEMO_USERS[0], ALAN, DEMO_USERS[1], DEMO_USERS[1]):
        session = RealtimeSession(server.url)
        await session.login(user.email, user.password)
        sessions.append(session)
    ada, alan, grace, watcher = sessions
    writes: Counter[str] = Counter()
    counting = False

    def count(event: Any) -> None:
        if counting and event.event in ("create", "update"):
            for row in event.data:
                writes[str((row.get("user_created") or {}).get("first_name"))] += 1

    subscription = await watcher.subscribe(
        "presence", query={"fields": ["id", "date_updated", "user_created.first_name"]}
    )
    subscription.add_listener(count)
    timing = PresenceTiming()
    async with (
        ChatRoom(alan) as alans_room,
        RoomPresence(ada, "general", timing) as ada_here,
        RoomPresence(alan, "general", timing) as alan_here,
        RoomPresence(grace, "general", timing),
    ):
        counting = True  # from now on: the writes of joining are left out
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        ada_keys, alan_keys = await asyncio.gather(
            typing_all_along(ada_here, stop, rate),
            typing_and_sending(alan_here, alans_room, stop, rate),
        )
        counting = False  # what leaving writes is left out too
    for session in sessions:
        await session.close()
    minutes = seconds / 60
    return [
        ("Ada: types all the time", ada_keys / minutes, writes["Ada"] / minutes),
        ("Alan: types 8 s, sends, reads 12 s", alan_keys / minutes, writes["Alan"] / minutes),
        ("Grace: online, idle", 0.0, writes["Grace"] / minutes),
    ]


async def add_alan(server: LocalDirectus) -> None:
    async with DirectusRest(server.url) as rest:
        tokens = await rest.login(server.admin_email, server.admin_password)
        await add_chat_user(
            server.url, tokens.access_token, ALAN.email, ALAN.password, "Alan", "Turing"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--keys-per-second", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = LocalDirectus(Path(folder), port=0)
        server.start()
        try:
            server.setup_chat()
            asyncio.run(add_alan(server))
            rows = asyncio.run(measure(server, args.seconds, args.keys_per_second))
        finally:
            server.stop()
    timing = PresenceTiming()
    typing_ceiling, idle_ceiling = timing.most_writes_per_minute
    print(f"Presence writes per minute, measured over {args.seconds:g} s on a real server")
    print(f"{'user':40}{'keys/min':>10}{'writes/min':>12}{'writes/key':>12}")
    for name, keys, writes in rows:
        per_key = f"{writes / keys:12.3f}" if keys else f"{'-':>12}"
        print(f"{name:40}{keys:10.0f}{writes:12.1f}{per_key}")
    print(
        f"{'ceiling of the timing (typing / idle)':40}{'':10}"
        f"{typing_ceiling:7.0f} / {idle_ceiling:.0f}"
    )
    print(
        f"(heartbeat {timing.heartbeat:g} s, a typing mark at most every "
        f"{timing.typing_every:g} s, cleared {timing.idle_after:g} s after the last key)"
    )


if __name__ == "__main__":
    main()
