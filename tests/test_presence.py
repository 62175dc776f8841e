"""Typing and presence: the throttle and the judging by server time (pure), then real servers.

Pure first: the write plan never writes per keystroke, the book judges rows
by the server's clock alone. Then the shared server (``directus``): two users
see each other, typing shows and clears, leaving is seen at once, rooms are
kept apart, and the server refuses every write to someone else's row. Last, a
kernel killed with SIGKILL (a process of its own) is seen to expire by
timestamp, while its row is still on the server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import TIMEOUT, MakeDirectus
from test_rooms import room_name
from test_session import SessionFactory, login, wait_until
from test_session_faults import FAST, admin_request

from directus_chat_widget.chat import (
    Presence,
    PresenceTiming,
    PresentUser,
    RoomPresence,
    create_room,
)
from directus_chat_widget.chat._presence_book import PresenceBook, ServerClock
from directus_chat_widget.chat._typing import WritePlan
from directus_chat_widget.errors import Forbidden
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession, SessionState

__all__ = ["login"]  # a fixture, imported for these tests

REPO = Path(__file__).resolve().parents[1]
ADA = {"id": "ada-id", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"id": "grace-id", "first_name": "Grace", "last_name": "Hopper"}
# Typing that lasts until it is stopped, and no refresh meanwhile: a slow machine
# never clears it first, and every write can be counted.
STEADY = PresenceTiming(
    heartbeat=60.0, online_for=120.0, typing_every=30.0, typing_for=90.0, idle_after=60.0
)
# Rows believed for 2 s, refreshed every 0.5 s: a killed writer is gone quickly.
QUICK = PresenceTiming(heartbeat=0.5, online_for=2.0, typing_every=0.3, typing_for=1.0)


# -- pure: the timing and the write plan ---------------------------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"heartbeat": 0}, "heartbeat must be a number of seconds above 0"),
        ({"heartbeat": 10, "online_for": 10}, "blink offline"),
        ({"typing_every": 5, "typing_for": 4}, "flicker"),
        ({"heartbeat": 4, "online_for": 10, "typing_every": 5}, "may not exceed heartbeat"),
    ],
)
def test_a_timing_that_would_mislead_readers_is_refused(
    options: dict[str, float], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        PresenceTiming(**options)


def writes_of(
    plan: WritePlan,
    keys: list[float],
    until: float,
    *,
    stop_at: float | None = None,
    start: float = 0.0,
) -> list[tuple[float, bool]]:
    """Run ``plan`` through keystrokes at the times ``keys``, from ``start`` to ``until``
    in steps of 50 ms; the writes it made, as (time, typing)."""
    writes: list[tuple[float, bool]] = []
    pending = sorted(keys)
    now = start
    while now <= until:
        while pending and pending[0] <= now:
            plan.keystroke(pending.pop(0))
        if stop_at is not None and now >= stop_at:
            plan.stop()
            stop_at = None
        due = plan.due(now)
        if due is not None:
            plan.wrote(now, due)
            writes.append((round(now, 2), due))
        now = round(now + 0.05, 2)
    return writes


def test_a_minute_of_typing_is_a_dozen_writes_not_three_hundred_keys() -> None:
    timing = PresenceTiming()  # marks at most every 5 s, a clear 6 s after the last key
    keys = [n / 5 for n in range(300)]  # 5 keys a second for 60 s
    writes = writes_of(WritePlan(timing), keys, until=70.0)
    marks = [at for at, typing in writes if typing]
    clears = [at for at, typing in writes if not typing]
    # The first key shows at once; then a mark every 5 s while keys come (the
    # one at 60 s is for the keys after 55 s), and one clear 6 s after the last key.
    assert marks == [5.0 * n for n in range(13)]
    assert clears == [65.8]
    assert len(writes) == 14 < 300 / 20


def test_an_idle_minute_is_three_refreshes_and_a_stop_clears_at_once() -> None:
    timing = PresenceTiming()
    idle = writes_of(WritePlan(timing), [], until=60.0)
    assert idle == [(0.0, False), (20.0, False), (40.0, False), (60.0, False)]
    plan = WritePlan(timing)
    stopped = writes_of(plan, [1.0, 1.2], until=3.0, stop_at=2.0)
    assert stopped == [(0.0, False), (1.0, True), (2.0, False)]
    # Typing again right after the clear: the next mark waits for its turn (5 s after the last).
    again = writes_of(plan, [2.1], until=7.0, start=2.05)
    assert [write for write in again if write[1]] == [(6.0, True)]


def test_a_failed_write_waits_before_the_next_try() -> None:
    plan = WritePlan(PresenceTiming())
    plan.failed(0.0)
    assert plan.due(1.0) is None and plan.due(2.0) is False
    assert plan.next_check(0.5) == 2.0


# -- pure: judging rows by the server's clock ------------------------------------------------


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


SERVER_NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def row(
    key: int, user: dict[str, Any], seconds_ago: float, *, typing: bool = False
) -> dict[str, Any]:
    stamp = (SERVER_NOW - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")
    return {"id": key, "user_created": user, "typing": int(typing), "date_updated": stamp}


def test_rows_are_judged_by_the_servers_clock_never_the_kernels() -> None:
    # The kernel's wall clock is not asked at all: the server's stamp on our own
    # write, plus the time counted since on a monotonic clock, is "now". Whatever
    # the kernel's clock says (an hour off, a year off), nobody looks online
    # forever or never.
    ticks = Ticks()
    clock = ServerClock(ticks)
    book = PresenceBook(PresenceTiming(), own_id="ada-id")
    assert book.judge(clock.now()) == Presence()  # no stamp yet: nothing can be judged
    clock.note(SERVER_NOW)
    book.apply([row(1, ADA, 0), row(2, GRACE, 40, typing=True), row(3, {"id": "x"}, 51)])
    present = book.judge(clock.now())
    assert [(u.name, u.own, u.typing) for u in present.online] == [
        ("Ada Lovelace", True, False),
        ("Grace Hopper", False, False),  # typing, but the mark is 40 s old: stopped
    ]
    assert book.next_change(clock.now()) == pytest.approx(10.0)  # Grace at 50 s
    ticks.now += 10.0
    assert [u.name for u in book.judge(clock.now()).online] == ["Ada Lovelace"]
    ticks.now += 40.0
    assert book.judge(clock.now()) == Presence()
    assert book.next_change(clock.now()) is None


def test_a_refresh_without_names_keeps_them_and_an_older_copy_changes_nothing() -> None:
    clock = ServerClock(Ticks())
    clock.note(SERVER_NOW)
    book = PresenceBook(PresenceTiming(), own_id=None)
    book.apply([row(1, GRACE, 5)])
    book.apply([{**row(1, {"id": "grace-id"}, 1, typing=True)}])
    assert book.judge(clock.now()).typing_text() == "Grace is typing…"
    book.apply([row(1, GRACE, 30)])  # a replay from before the refresh
    assert book.judge(clock.now()).typing[0].name == "Grace Hopper"
    book.remove([1])
    assert book.judge(clock.now()) == Presence()


def person(name: str, *, typing: bool = True, own: bool = False) -> PresentUser:
    return PresentUser(name.lower(), f"{name} X", name, typing, own)


def test_who_is_typing_is_said_in_words_without_oneself() -> None:
    said = [
        Presence(tuple(person(n) for n in names)).typing_text()
        for names in ([], ["Ada"], ["Ada", "Grace"], ["Ada", "Grace", "Alan"])
    ]
    assert said == [
        "",
        "Ada is typing…",
        "Ada and Grace are typing…",
        "Ada, Grace and Alan are typing…",
    ]
    many = Presence(tuple(person(n) for n in ("A", "B", "C", "D", "E")))
    assert many.typing_text() == "A, B and 3 others are typing…"
    assert Presence((person("Me", own=True),)).typing_text() == ""


def test_the_presence_line_marks_the_reader_and_hides_without_presence() -> None:
    from directus_chat_widget.widget.presence_bar import PresenceBar

    bar = PresenceBar()
    try:
        assert not bar.active
        hostile = PresentUser("x", "<b>X</b>", "<b>X</b>", True, False)
        bar.show(Presence((person("Ada", typing=False, own=True), hostile)))
        assert (bar.active, bar.online, bar.typing) == (
            True,
            ["Ada (you)", "<b>X</b>"],  # text: the view sets it as textContent
            "<b>X</b> is typing…",
        )
        bar.show(None)
        assert (bar.active, bar.online, bar.typing) == (False, [], "")
    finally:
        bar.close()


# -- a real server -------------------------------------------------------------------------


def names(presence: RoomPresence) -> list[str]:
    return [user.short_name for user in presence.current.online]


async def new_room(login: SessionFactory, user: DemoUser) -> str:
    """A room of the test's own, made by ``user``: nobody else's presence is in it."""
    return (await create_room(await login(user), room_name())).name


async def in_room(
    login: SessionFactory, user: DemoUser, room: str, timing: PresenceTiming = STEADY
) -> RoomPresence:
    presence = RoomPresence(await login(user), room, timing)
    await presence.open()
    return presence


@pytest.mark.integration
async def test_two_users_see_each_other_and_typing_shows_and_clears(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada_user, grace_user = demo_users
    room = await new_room(login, ada_user)
    ada = await in_room(login, ada_user, room)
    grace = await in_room(login, grace_user, room)
    seen: list[Presence] = []
    grace.on_change(seen.append)
    try:
        await wait_until(lambda: names(ada) == ["Ada", "Grace"], "Ada sees Grace")
        assert names(grace) == ["Ada", "Grace"]  # Ada was there before: read on open
        assert [u.own for u in grace.current.online] == [False, True]
        before = ada.writes
        for _ in range(20):  # a burst of keys is one write
            ada.keystroke()
        await wait_until(lambda: grace.current.typing_text() == "Ada is typing…", "typing")
        assert ada.current.typing_text() == ""  # one's own typing is not shown to oneself
        ada.stop_typing()
        await wait_until(lambda: not grace.current.typing, "the typing cleared")
        # The event may come before the writer's reply: wait for the count, then check it.
        await wait_until(lambda: ada.writes >= before + 2, "Ada's writes counted")
        assert ada.writes == before + 2  # one mark for twenty keys, and the one clear
        assert names(grace) == ["Ada", "Grace"] and seen[-1] == grace.current
    finally:
        await ada.close()
        await grace.close()


@pytest.mark.integration
async def test_leaving_is_seen_at_once_and_the_row_is_gone(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    room = await new_room(login, demo_users[0])
    ada = await in_room(login, demo_users[0], room)
    grace = await in_room(login, demo_users[1], room)
    try:
        await wait_until(lambda: names(grace) == ["Ada", "Grace"], "Grace sees Ada")
        await ada.close()
        # Gone long before a row could expire (50 s): the delete said so.
        await wait_until(lambda: names(grace) == ["Grace"], "Ada leaves", timeout=TIMEOUT)
        assert ada.current == Presence() and not ada.is_open
        rows = await admin_request(
            directus, "GET", f"/items/presence?filter[room][name][_eq]={room}"
        )
        assert [r["user_created"] for r in rows] == [grace._own_id]
    finally:
        await grace.close()


@pytest.mark.integration
async def test_presence_in_one_room_is_not_shown_in_another(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    first, second = await new_room(login, demo_users[0]), await new_room(login, demo_users[0])
    ada = await in_room(login, demo_users[0], first)
    grace = await in_room(login, demo_users[1], second)
    ada_there = await in_room(login, demo_users[0], second)  # after Grace: its event comes last
    try:
        await wait_until(lambda: names(grace) == ["Ada", "Grace"], "Ada in the second room")
        ada.keystroke()
        await wait_until(lambda: ada.writes >= 2, "Ada's typing in the first room")
        await asyncio.sleep(0.3)  # had it leaked, it would be here by now
        assert grace.current.typing == () and names(ada) == ["Ada"]
    finally:
        for presence in (ada, grace, ada_there):
            await presence.close()


@pytest.mark.integration
async def test_the_server_refuses_writes_to_someone_elses_row(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada_user, grace_user = demo_users
    room = await new_room(login, ada_user)
    ada = await in_room(login, ada_user, room)
    grace = await login(grace_user)
    try:
        assert ada._row_id is not None
        with pytest.raises(Forbidden):
            await grace.update(ada._row_id, {"typing": True}, collection="presence")
        with pytest.raises(Forbidden):
            await grace.delete(ada._row_id, collection="presence")
        with pytest.raises(Forbidden):  # nor may Ada move her row to another key or room
            await ada._session.update(ada._row_id, {"key": "x", "room": 1}, collection="presence")
        # Grace may not take the key of Ada's row in a room Ada has not joined yet.
        # Over the socket 11.17.4 answers a failed validation with nothing at all,
        # so this goes over REST, as Grace.
        ada_id = ada._own_id
        general = await admin_request(directus, "GET", "/items/rooms?filter[name][_eq]=general")
        token = await _token(directus, grace_user)
        async with httpx.AsyncClient(base_url=directus.url, timeout=TIMEOUT) as http:
            answer = await http.post(
                "/items/presence",
                json={"key": f"{ada_id}@{general[0]['id']}", "room": general[0]["id"]},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["extensions"]["code"] == "FAILED_VALIDATION"
        stored = await admin_request(
            directus,
            "GET",
            f"/items/presence?filter[key][_starts_with]={ada_id}&fields=key,user_created",
        )
        assert all(r["user_created"] == ada_id for r in stored)
        assert f"{ada_id}@{ada.room.id}" in [r["key"] for r in stored]
    finally:
        await ada.close()


async def _token(server: LocalDirectus, user: DemoUser) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
        answer = await http.post(
            "/auth/login", json={"email": user.email, "password": user.password}
        )
        return str(answer.json()["data"]["access_token"])


# A kernel of its own: Ada online in a room until it is killed.
KERNEL = """
import asyncio, sys
from directus_chat_widget.chat import PresenceTiming, RoomPresence
from directus_chat_widget.session import RealtimeSession, SessionState

async def main(url, email, password, room):
    session = RealtimeSession(url)
    await session.login(email, password)
    presence = RoomPresence(session, room, PresenceTiming(heartbeat=0.5, online_for=2.0,
                            typing_every=0.3, typing_for=1.0))
    await presence.open()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.integration
async def test_a_killed_kernel_expires_by_timestamp_while_its_row_stays(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada_user, grace_user = demo_users
    room = await new_room(login, grace_user)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL, directus.url, ada_user.email, ada_user.password, room],
        stdout=subprocess.PIPE,
        env=env,
    )
    grace = await in_room(login, grace_user, room, QUICK)
    try:
        assert kernel.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(kernel.stdout.readline), 3 * TIMEOUT)
        assert line.strip() == b"ready"
        await wait_until(lambda: names(grace) == ["Ada", "Grace"], "Grace sees Ada's kernel")
        kernel.send_signal(signal.SIGKILL)  # no goodbye: no delete, no last write
        kernel.wait(TIMEOUT)
        await wait_until(lambda: names(grace) == ["Grace"], "Ada's row to expire")
        rows = await admin_request(
            directus, "GET", f"/items/presence?filter[room][name][_eq]={room}&fields=user_created"
        )
        assert len(rows) == 2  # her row is still there: it expired on Grace's side, by age
        # Someone who comes now is not fooled by the stale row either.
        late = await in_room(login, grace_user, room, QUICK)
        try:
            assert names(late) == ["Grace"]
        finally:
            await late.close()
    finally:
        if kernel.poll() is None:
            kernel.kill()
        await grace.close()


@pytest.mark.integration
async def test_presence_needs_a_room_that_exists_and_a_login(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    presence = RoomPresence(await login(demo_users[0]), room_name())
    with pytest.raises(LookupError, match="no room called"):
        await presence.open()
    async with RealtimeSession(directus.url) as logged_out:
        with pytest.raises(RuntimeError, match="log the session in first"):
            await RoomPresence(logged_out, "general").open()
    with pytest.raises(TypeError):
        RoomPresence(await login(demo_users[0]), 3)  # type: ignore[arg-type]


@pytest.mark.integration
async def test_after_a_server_crash_presence_and_held_typing_come_back(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    # Rows refreshed twice a second and believed for 2 s; typing held until stopped.
    timing = PresenceTiming(
        heartbeat=0.5, online_for=2.0, typing_every=0.3, typing_for=60.0, idle_after=60.0
    )
    sessions = [RealtimeSession(server.url, reconnect_delays=FAST) for _ in demo_users]
    try:
        for session, user in zip(sessions, demo_users, strict=True):
            await session.login(user.email, user.password)
        async with (
            RoomPresence(sessions[0], "general", timing) as ada,
            RoomPresence(sessions[1], "general", timing) as grace,
        ):
            await wait_until(lambda: names(grace) == ["Ada", "Grace"], "Grace sees Ada")
            await asyncio.to_thread(server.kill)
            await sessions[0].wait_for_state(SessionState.RECONNECTING, timeout=TIMEOUT)
            ada.keystroke()  # held by the session while the server is down
            await wait_until(lambda: names(grace) == [], "everyone expires in the outage")
            await asyncio.to_thread(server.start)
            await wait_until(
                lambda: grace.current.typing_text() == "Ada is typing…",
                "Ada back, typing",
                timeout=3 * TIMEOUT,
            )
            await wait_until(lambda: names(ada) == names(grace) == ["Ada", "Grace"], "both back")
    finally:
        for session in sessions:
            await session.close()
