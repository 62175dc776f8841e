"""ChatWidget against a real local Directus: login form, send, receive, logout.

No fakes: the widget makes its own RealtimeSession from the server's URL; a
second RealtimeSession (the other demo user) writes to the same chat. What the
browser would receive is captured from the message list's ``send``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from ipywidgets.widgets.widget import _instances
from support import TIMEOUT

from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.rest import DirectusRest, Tokens
from directus_chat_widget.session import RealtimeSession
from directus_chat_widget.store import ChatMessage, MessageStatus
from directus_chat_widget.widget import INVALID_CREDENTIALS, ChatWidget

pytestmark = pytest.mark.integration

XSS = "<img src=x onerror=alert(1)>"


class Capture:
    """The custom messages the browser would receive."""

    def __init__(self, chat: ChatWidget, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[dict[str, Any]] = []
        monkeypatch.setattr(chat.message_list, "send", self._record)

    def _record(self, content: dict[str, Any], buffers: Any = None) -> None:
        self.sent.append(json.loads(json.dumps(content)))

    def texts(self) -> list[str]:
        return [m["text"] for c in self.sent for m in c.get("messages", [])]


async def until(condition: Callable[[], bool], chat: ChatWidget) -> None:
    """Wait (at most TIMEOUT) for ``condition``, re-checked on every widget message."""
    if condition():
        return
    met = asyncio.Event()

    def check(_message: ChatMessage) -> None:
        if condition():
            met.set()

    remove = chat.on_message(check, include_own=True)
    try:
        await asyncio.wait_for(met.wait(), TIMEOUT)
    finally:
        remove()


def record_tokens(monkeypatch: pytest.MonkeyPatch) -> list[Tokens]:
    """Keep every token pair the server hands out (observed, not replaced), to look for."""
    issued: list[Tokens] = []
    login, refresh = DirectusRest.login, DirectusRest.refresh

    async def recording_login(self: DirectusRest, email: str, password: str) -> Tokens:
        issued.append(await login(self, email, password))
        return issued[-1]

    async def recording_refresh(self: DirectusRest, refresh_token: str) -> Tokens:
        issued.append(await refresh(self, refresh_token))
        return issued[-1]

    monkeypatch.setattr(DirectusRest, "login", recording_login)
    monkeypatch.setattr(DirectusRest, "refresh", recording_refresh)
    return issued


@pytest.fixture
async def chat(directus: LocalDirectus) -> AsyncIterator[ChatWidget]:
    widget = ChatWidget(directus.url)
    yield widget
    await widget.aclose()


async def test_real_login_send_receive_and_logout(
    chat: ChatWidget,
    grace: RealtimeSession,
    demo_users: list[DemoUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = demo_users[0]
    capture = Capture(chat, monkeypatch)
    issued = record_tokens(monkeypatch)
    form = chat.login_form

    def press_login(password: str) -> None:  # what the login view sends
        content = {"type": "submit", "email": ada.email, "password": password}
        form._handle_custom_msg(content, [])

    press_login("not the password")
    await chat.settle()
    assert form.error == INVALID_CREDENTIALS and chat.stage == "login"

    press_login(ada.password)
    await chat.settle()
    assert chat.stage == "chat", form.error
    assert chat.status_bar.connection == "connected"
    assert chat.status_bar.user == f"{ada.first_name} {ada.last_name}"

    mine = f"from the widget {uuid.uuid4()}"
    chat.message_form.submit(mine)
    await chat.settle()
    (sent,) = [m for m in chat.messages if m.content == mine]
    assert sent.status is MessageStatus.SENT and sent.id is not None
    shown = [m for c in capture.sent for m in c.get("messages", []) if m["text"] == mine]
    assert shown[0]["status"] == "pending" and shown[-1]["status"] == "sent"
    assert shown[-1]["own"] and shown[-1]["author"] == ada.first_name

    heard: list[ChatMessage] = []
    chat.on_message(heard.append)
    theirs = f"from Grace {uuid.uuid4()} {XSS}"
    await grace.create({"content": theirs})
    await until(lambda: any(m.content == theirs for m in heard), chat)
    (arrived,) = [
        c for c in capture.sent if any(m["text"] == theirs for m in c.get("messages", []))
    ]
    assert arrived["type"] == "change" and len(arrived["messages"]) == 1
    message = arrived["messages"][0]
    assert message["author"] == demo_users[1].first_name and not message["own"]
    assert message["text"] == theirs and message["time"].endswith("Z")

    # No password or token in any widget's synced state or any message to the browser.
    session = chat._login.session
    assert session is not None and issued
    secrets = [ada.password]
    secrets += [t.access_token for t in issued] + [t.refresh_token for t in issued]
    states = json.dumps([w.get_state() for w in list(_instances.values())], default=str)
    wire = json.dumps(capture.sent)
    for secret in secrets:
        assert secret and secret not in states and secret not in wire

    await chat.logout()
    assert chat.stage == "login" and chat.messages == () and chat.user is None
    assert str(chat.status_bar.connection) == "logged out"
    assert session.state.value == "closed"


async def test_real_history_pages_through_the_widget(
    chat: ChatWidget,
    grace: RealtimeSession,
    demo_users: list[DemoUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(25):
        await grace.create({"content": f"page {tag} {n:02d}"})
    capture = Capture(chat, monkeypatch)
    await chat.login(demo_users[0].email, demo_users[0].password)
    assert [m.content for m in chat.messages[-20:]] == [f"page {tag} {n:02d}" for n in range(5, 25)]
    oldest = chat.message_list.held_keys[0]
    capture.sent.clear()
    chat.message_list._handle_custom_msg({"type": "load_older", "view": "v", "before": oldest}, [])
    await chat.settle()
    kinds = [(c["type"], c.get("kind")) for c in capture.sent]
    assert kinds == [("change", "prepend"), ("older", None)]
    assert capture.sent[0]["messages"][-1]["next"] == oldest
    # The login may have paged back already, to Ada's first unread message: either
    # way the 25 are all held now, in order, and the page went above them.
    tagged = [m.content for m in chat.messages if tag in m.content]
    assert tagged == [f"page {tag} {n:02d}" for n in range(25)]
