"""Presence in the ChatWidget against a real Directus: the line, the composer's typing, leaving.

Two widgets, Ada's and Grace's, in a room of their own. What the browser
would send (the composer's typing news, a submit) is handed to the form as
its custom messages. Rows are believed for two minutes here, so whatever
disappears sooner was deleted, never expired.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_presence import new_room
from test_rooms import room_name
from test_session import SessionFactory, login, marker, wait_until
from test_session_faults import admin_request

from directus_chat_widget.chat import Presence, PresenceTiming
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.widget import ChatWidget

pytestmark = pytest.mark.integration
__all__ = ["login"]  # a fixture, imported for these tests

# Rows and marks believed for minutes (so nothing here can expire), and a new
# typing mark allowed half a second after the last.
STEADY = PresenceTiming(
    heartbeat=60.0, online_for=120.0, typing_every=0.5, typing_for=90.0, idle_after=60.0
)


def from_browser(chat: ChatWidget, content: dict[str, Any]) -> None:
    """What the composer's view sends, as it arrives in the kernel."""
    chat.message_form._on_frontend_msg(chat.message_form, content, [])


def online(chat: ChatWidget) -> list[str]:
    return [user.short_name for user in chat.presence.online]


async def test_two_widgets_show_who_is_online_and_typing_and_who_left(
    directus: LocalDirectus, demo_users: list[DemoUser], login: SessionFactory
) -> None:
    ada_user, grace_user = demo_users
    room = await new_room(login, ada_user)
    ada = ChatWidget(directus.url, room=room, presence=STEADY)
    grace = ChatWidget(directus.url, room=room, presence=STEADY)
    told: list[Presence] = []
    grace.on_presence(told.append)
    try:
        await ada.login(ada_user.email, ada_user.password)
        await grace.login(grace_user.email, grace_user.password)
        await wait_until(lambda: online(ada) == online(grace) == ["Ada", "Grace"], "both online")
        assert grace.presence_bar.active and grace.presence_bar.online == ["Ada", "Grace (you)"]
        assert ada.presence_bar.online == ["Ada (you)", "Grace"]

        # Typing in Ada's composer shows in Grace's line; sending clears it.
        from_browser(ada, {"type": "typing", "active": True})
        await wait_until(lambda: grace.presence_bar.typing == "Ada is typing…", "Ada typing")
        assert ada.presence_bar.typing == "" and told[-1].typing_text() == "Ada is typing…"
        text = f"{marker()}sent while typing"
        from_browser(ada, {"type": "submit", "text": text})
        await wait_until(lambda: grace.presence_bar.typing == "", "the typing cleared by the send")
        await wait_until(lambda: any(m.content == text for m in grace.messages), "the message")
        # Emptying the box clears it too.
        from_browser(ada, {"type": "typing", "active": True})
        await wait_until(lambda: grace.presence.typing != (), "Ada typing again")
        from_browser(ada, {"type": "typing", "active": False})
        await wait_until(lambda: grace.presence.typing == (), "the typing cleared by emptying")

        # Switching rooms leaves the old room's presence at once, and joins the new one's.
        elsewhere = room_name()
        await ada.create_room(elsewhere)
        await wait_until(lambda: online(grace) == ["Grace"], "Ada gone from Grace's room")
        await wait_until(lambda: online(ada) == ["Ada"], "Ada alone in the new room")
        await ada.switch_room(room)
        await wait_until(lambda: online(grace) == ["Ada", "Grace"], "Ada back")

        # Logout: gone from Grace's line at once; Ada's own line is hidden.
        await ada.logout()
        await wait_until(lambda: online(grace) == ["Grace"], "Ada logged out")
        assert not ada.presence_bar.active and ada.presence == Presence()
        rows = await admin_request(
            directus, "GET", f"/items/presence?filter[room][name][_eq]={room}&fields=user_created"
        )
        assert len(rows) == 1  # Grace's alone: Ada's row was deleted

        # Closing the widget (no logout, no await) removes her too.
        again = ChatWidget(directus.url, room=room, presence=STEADY)
        await again.login(ada_user.email, ada_user.password)
        await wait_until(lambda: online(grace) == ["Ada", "Grace"], "Ada in a new widget")
        again.close()
        await wait_until(lambda: online(grace) == ["Grace"], "Ada's widget closed")
    finally:
        await ada.aclose()
        await grace.aclose()


async def test_presence_off_writes_nothing_and_shows_nothing(
    directus: LocalDirectus, demo_users: list[DemoUser], login: SessionFactory
) -> None:
    room = await new_room(login, demo_users[0])
    chat = ChatWidget(directus.url, room=room, presence=False)
    try:
        await chat.login(demo_users[0].email, demo_users[0].password)
        chat.message_form.report_typing()  # as a bot would, from code
        await chat.settle()
        assert chat.presence == Presence() and not chat.presence_bar.active
        rows = await admin_request(
            directus, "GET", f"/items/presence?filter[room][name][_eq]={room}"
        )
        assert rows == []
    finally:
        await chat.aclose()
