"""Unread and @mentions in the ChatWidget against a real Directus; the views are played.

What the list's views would receive is recorded and their ``seen`` is said
with ``Browser.say`` (test_widget.py); the same paths run in a real
JupyterLab in test_browser_unread.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rooms import room_name
from test_session import SessionFactory, login, marker, wait_until
from test_widget import Browser

from directus_chat_widget.chat import create_room
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.widget import ChatWidget
from directus_chat_widget.widget._unread import MentionNews

pytestmark = pytest.mark.integration
__all__ = ["login"]  # a fixture, imported for these tests


def unread_told(browser: Browser) -> dict[str, Any]:
    """The last ``unread`` message the list's views were sent."""
    told = browser.of_type("unread")
    assert told, "the views were never told where the unread messages start"
    return told[-1]


async def test_unread_counts_a_marker_seen_and_mentions_in_the_widget(
    directus: LocalDirectus,
    demo_users: list[DemoUser],
    login: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada, grace_user = demo_users
    grace = await login(grace_user)
    a, b = await create_room(grace, room_name()), await create_room(grace, room_name())
    tag = marker()
    for text in (f"{tag}a0", f"{tag}a1 for @Ada Lovelace", f"{tag}a2"):
        await grace.create({"content": text, "room": a.id})
    for n in range(2):
        await grace.create({"content": f"{tag}b{n}", "room": b.id})

    chat = ChatWidget(directus.url, room=a.name)
    views = Browser(chat.message_list, monkeypatch)
    bar_sent: list[dict[str, Any]] = []
    monkeypatch.setattr(chat.room_bar, "send", lambda content, *_: bar_sent.append(content))
    told: list[MentionNews] = []
    chat.on_mention(told.append)
    counts_seen: list[dict[str, int]] = []
    chat.on_unread_change(counts_seen.append)
    try:
        await chat.login(ada.email, ada.password)
        await chat.settle()
        # Never read: each room counts whole, and no line is drawn.
        assert (chat.unread[a.name], chat.unread[b.name]) == (3, 2)
        assert chat.mentions.get(a.name) == 1
        assert unread_told(views)["first"] is None and unread_told(views)["fresh"] is True
        assert chat.room_bar.unread[b.name] == 2
        # The composer completes the members, the reader left out; rows carry their mentions.
        assert "Grace Hopper" in chat.message_form.people
        assert "Ada Lovelace" not in chat.message_form.people
        assert "Ada Lovelace" in chat.members
        rows = {m["text"]: m for s in views.of_type("snapshot") for m in s["messages"]}
        assert rows[f"{tag}a1 for @Ada Lovelace"]["mentions"] == [
            {"name": "Ada Lovelace", "me": True}
        ]
        assert "mentions" not in rows[f"{tag}a0"]  # none: not a byte more on the wire

        # The view saw the latest: read here at once, on the server later.
        newest = chat.messages[-1]
        views.say({"type": "seen", "view": "v1", "key": newest.key})
        assert a.name not in chat.unread and a.name not in chat.mentions
        assert chat.read_position == newest.id
        assert chat._unread.positions is not None and chat._unread.positions.writes == 0
        views.say({"type": "seen", "view": "v1", "key": "id:999999999"})  # unknown: ignored
        assert chat.read_position == newest.id

        # Live: a mention in another room is counted, told once, and notified.
        await grace.create({"content": f"{tag}b2 @ada, look", "room": b.id})
        await wait_until(lambda: chat.mentions.get(b.name) == 1, "the mention in b")
        assert chat.unread[b.name] == 3 and chat.room_bar.mentions[b.name] == 1
        assert [(n.room, n.author, n.content) for n in told] == [
            (b.name, "Grace Hopper", f"{tag}b2 @ada, look")
        ]
        (note,) = [m for m in bar_sent if m.get("type") == "mention"]
        assert note["room"] == b.name and note["current"] is False
        assert counts_seen[-1] == chat.unread

        # More in the room shown while nobody looks: unread until seen.
        for n in (3, 4):
            await grace.create({"content": f"{tag}a{n}", "room": a.id})
        await wait_until(lambda: chat.unread.get(a.name) == 2, "two new in a")
        # An @name that is nobody: sent as it is, and the sender is told.
        sent = await chat.send_message(f"{tag}hello @Nobody and @grace")
        assert sent.content == f"{tag}hello @Nobody and @grace"
        assert "nobody in this chat is called “@Nobody”" in chat.last_error
        await chat.logout()  # the position waiting to be written goes first
    finally:
        await chat.aclose()

    # A reload: another widget of Ada's starts where she stopped, and draws the line.
    again = ChatWidget(directus.url, room=a.name)
    later = Browser(again.message_list, monkeypatch)
    try:
        await again.login(ada.email, ada.password)
        await again.settle()
        assert again.read_position == newest.id
        assert again.unread[a.name] == 2 and again.unread[b.name] == 3
        first = unread_told(later)
        assert first["count"] == 2
        assert again.message_list.get(first["first"]).content == f"{tag}a3"  # type: ignore[union-attr]
        await again.mark_read()  # written at once
        assert a.name not in again.unread
    finally:
        await again.aclose()
    third = ChatWidget(directus.url, room=a.name)
    try:
        await third.login(ada.email, ada.password)
        await third.settle()
        assert a.name not in third.unread
    finally:
        await third.aclose()
