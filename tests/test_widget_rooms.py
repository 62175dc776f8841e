"""Rooms in the ChatWidget against a real Directus: create, switch, refuse, and say so."""

from __future__ import annotations

import pytest
from test_rooms import room_name
from test_session import SessionFactory, login, marker, wait_until

from directus_chat_widget.chat import find_room
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.widget import ChatWidget

pytestmark = pytest.mark.integration
__all__ = ["login"]  # a fixture, imported for these tests


async def test_the_widget_switches_and_creates_rooms_and_says_so(
    directus: LocalDirectus, demo_users: list[DemoUser], login: SessionFactory
) -> None:
    grace = await login(demo_users[1])
    chat = ChatWidget(directus.url)
    shown: list[str] = []
    chat.on_room_change(shown.append)
    try:
        await chat.login(demo_users[0].email, demo_users[0].password)
        await chat.settle()
        assert chat.room == "general" and "general" in chat.room_bar.rooms
        name = room_name()
        await chat.create_room(f" {name} ")
        assert (chat.room, chat.room_bar.current, shown) == (name, name, [name])
        assert name in chat.room_bar.rooms and chat.messages == ()
        room = await find_room(grace, name)
        assert room is not None
        tag = marker()
        await grace.create({"content": f"{tag}in the new room", "room": room.id})
        await wait_until(lambda: len(chat.messages) == 1, "the new room's message")
        # Refused: nothing changes, and the reason is there to read.
        for bad, error in ((name, ValueError), ("  ", ValueError), (room_name(), LookupError)):
            action = chat.create_room if bad == name else chat.switch_room
            with pytest.raises(error):
                await action(bad)
        assert chat.room == name and [m.content for m in chat.messages] == [f"{tag}in the new room"]
        chat.room_bar.ask("create", name)  # as the browser's New room button
        await chat.settle()
        assert "exists already" in chat.room_bar.error and chat.room == name
        await chat.switch_room("general")
        assert chat.room == "general" and shown == [name, "general"]
        assert all(m.content != f"{tag}in the new room" for m in chat.messages)
    finally:
        await chat.aclose()
