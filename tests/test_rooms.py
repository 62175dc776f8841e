"""Rooms: the schema and its migration, names refused, and rooms kept apart on a real Directus.

Pure parts (names, filters) first; then the shared server (``directus``) and
servers of their own (``make_directus``) for the migration and a kill gap.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from support import TIMEOUT, MakeDirectus
from test_session import SessionFactory, login, marker, wait_until
from test_session_edges import Relay, relayed
from test_session_faults import FAST, admin_request

from directus_chat_widget.chat import ChatRoom, check_room_name, create_room, find_room, list_rooms
from directus_chat_widget.chat.rooms import in_room
from directus_chat_widget.config import ChatConfig
from directus_chat_widget.errors import Forbidden
from directus_chat_widget.local import DemoUser
from directus_chat_widget.session import RealtimeSession, SessionState

__all__ = ["login"]  # a fixture, imported for these tests


def test_a_room_name_is_stripped_and_must_hold_something() -> None:
    assert check_room_name("  ops  ") == "ops"
    for bad in ("", "   ", "\n"):
        with pytest.raises(ValueError, match="needs a name"):
            check_room_name(bad)
    with pytest.raises(ValueError, match="too long"):
        check_room_name("x" * 81)


def test_the_room_narrows_every_filter() -> None:
    assert in_room(3) == {"room": {"_eq": 3}}
    older = {"id": {"_lt": 9}}
    assert in_room(3, older) == {"_and": [{"room": {"_eq": 3}}, older]}
    assert in_room(None, older) == older and in_room(None) == {}


def room_name() -> str:
    return f"room-{uuid.uuid4().hex[:10]}"


@pytest.mark.integration
async def test_chat_users_read_and_create_rooms_but_never_rename_or_delete_them(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    general = await find_room(ada, "general")
    assert general is not None
    made = await create_room(ada, f"  {(name := room_name())} ")
    assert made.name == name and made in await list_rooms(ada)
    with pytest.raises(Forbidden):
        await ada.update(made.id, {"name": room_name()}, collection="rooms")
    with pytest.raises(Forbidden):
        await ada.delete(made.id, collection="rooms")
    assert await find_room(ada, name) == made


@pytest.mark.integration
async def test_an_empty_or_taken_room_name_is_refused_and_nothing_is_made(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    grace = await login(demo_users[1])
    before = await list_rooms(ada)
    with pytest.raises(ValueError, match="needs a name"):
        await create_room(ada, "  ")
    name = room_name()
    first = await create_room(ada, name)
    with pytest.raises(ValueError, match="exists already"):
        await asyncio.wait_for(create_room(grace, name), TIMEOUT)
    assert await list_rooms(ada) == sorted([*before, first], key=lambda room: room.name)


@pytest.mark.integration
async def test_a_message_in_one_room_never_reaches_another(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    grace = await login(demo_users[1])
    a, b = await create_room(ada, room_name()), await create_room(ada, room_name())
    seen_in_a: list[Any] = []
    async with ChatRoom(ada, room=a.name) as in_a, ChatRoom(grace, room=b.name) as in_b:
        assert in_a._subscription is not None
        in_a._subscription.add_listener(lambda event: seen_in_a.append(event.data))
        tag = marker()
        sent = await in_b.send(f"{tag}for b")
        assert sent.id is not None
        await in_a.send(f"{tag}for a")  # after b's: once a sees this, b's would have come
        await wait_until(lambda: len(seen_in_a) == 1, "room a's own message")
        await asyncio.sleep(0.3)
        assert [m.content for m in in_a.messages] == [f"{tag}for a"]
        assert all(row.get("content") != f"{tag}for b" for rows in seen_in_a for row in rows)
        assert [m.content for m in in_b.messages] == [f"{tag}for b"]
    stored = await ada.read("messages", {"filter": {"id": {"_eq": sent.id}}, "fields": ["room"]})
    assert stored == [{"room": b.id}]


@pytest.mark.integration
async def test_history_pages_hold_only_the_rooms_messages(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    a, b = await create_room(ada, room_name()), await create_room(ada, room_name())
    tag = marker()
    for n in range(5):  # interleaved, so a page of one room spans the other's ids
        await ada.create({"content": f"{tag}a{n}", "room": a.id})
        await ada.create({"content": f"{tag}b{n}", "room": b.id})
    async with ChatRoom(ada, room=a.name, page_size=2) as room:
        while room.has_older:
            await room.load_older()
        assert [m.content for m in room.messages] == [f"{tag}a{n}" for n in range(5)]


@pytest.mark.integration
async def test_a_room_that_does_not_exist_is_not_opened(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    room = ChatRoom(ada, room=room_name())
    with pytest.raises(LookupError, match="no room called"):
        await room.open()
    assert not room.is_open


@pytest.mark.integration
async def test_a_create_without_a_room_lands_in_general(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada = await login(demo_users[0])
    general = await find_room(ada, "general")
    row = await ada.create({"content": f"{marker()}no room"})
    assert general is not None and row["room"] == general.id


@pytest.mark.integration
async def test_an_old_data_folder_is_moved_into_general_once(
    make_directus: MakeDirectus,
) -> None:
    server = make_directus()
    # Back to the schema before rooms: no messages.room (its relation goes with it).
    await admin_request(server, "DELETE", "/fields/messages/room")
    tag = marker()
    old = [
        await admin_request(server, "POST", "/items/messages", {"content": f"{tag}{n}"})
        for n in range(3)
    ]
    assert all("room" not in row for row in old)
    report = await asyncio.to_thread(server.setup_chat)
    assert any("messages.room" in line for line in report.created)
    rows = await admin_request(
        server,
        "GET",
        "/items/messages?fields=id,room,date_updated&filter[content][_starts_with]=" + tag,
    )
    general = await admin_request(server, "GET", "/items/rooms?filter[name][_eq]=general")
    assert len(general) == 1
    # In general, and not stamped as edited (no update went through the API).
    assert rows == [{"id": r["id"], "room": general[0]["id"], "date_updated": None} for r in old]
    again = await asyncio.to_thread(server.setup_chat)
    assert not again.changed, again


@pytest.mark.integration
async def test_a_kill_gap_is_backfilled_per_room(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    ada, grace = demo_users
    async with Relay(ChatConfig(server.url).websocket_url) as relay:
        session = relayed(relay, server, reconnect_delays=FAST)
        other = RealtimeSession(server.url)
        try:
            await session.login(ada.email, ada.password)
            await other.login(grace.email, grace.password)
            a, b = await create_room(other, "a"), await create_room(other, "b")
            tag = marker()
            await other.create({"content": f"{tag}a0", "room": a.id})
            async with ChatRoom(session, room="a") as room:
                await wait_until(lambda: len(room.messages) == 1, "a's first message")
                relay.refuse = True
                await asyncio.to_thread(server.kill)
                await session.wait_for_state(SessionState.RECONNECTING, timeout=TIMEOUT)
                await asyncio.to_thread(server.start)
                for body in ({"room": b.id, "content": f"{tag}b1"}, {"room": a.id}):
                    body.setdefault("content", f"{tag}a1")
                    await admin_request(server, "POST", "/items/messages", body)
                relay.refuse = False
                await session.wait_for_state(SessionState.READY, timeout=3 * TIMEOUT)
                await wait_until(lambda: len(room.messages) == 2, "the gap's message in a")
                await asyncio.sleep(0.5)  # b's message, if it leaked, would have come by now
                assert [m.content for m in room.messages] == [f"{tag}a0", f"{tag}a1"]
        finally:
            await session.close()
            await other.close()
