"""Editing and deleting in the ChatWidget as widget models: no browser, no kernel, no server.

test_widget's fake session gains ``update``/``delete`` under the chat-user
policy (own rows only, else FORBIDDEN); the browser's side is played with
``Browser.say`` and what it would receive is recorded. The same paths run in a
real JupyterLab in test_browser.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from support import LoopThread
from test_widget import (
    ADA,
    GRACE,
    XSS,
    Browser,
    FakeServer,
    FakeSession,
    comm_message,
    logged_in,
)

from directus_chat_widget.errors import Forbidden
from directus_chat_widget.protocol import SubscriptionEvent
from directus_chat_widget.store import ChatMessage
from directus_chat_widget.widget import ChatWidget

EDITED_AT = "2026-11-29T05:00:00.000Z"


class EditingSession(FakeSession):
    async def update(self, key: Any, data: Any, *, collection: str | None = None) -> Any:
        self.server.threads.append(threading.current_thread().name)
        stored = self.server.mine(key, self.user)
        stored.update(content=data["content"], date_updated=EDITED_AT)
        self.server.tell("update", [self.server.shown(stored)], (key,))
        return dict(stored)

    async def delete(self, key: Any, *, collection: str | None = None) -> None:
        self.server.threads.append(threading.current_thread().name)
        self.server.rows.remove(self.server.mine(key, self.user))
        self.server.tell("delete", [], (key,))


class EditingServer(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def session(self) -> FakeSession:
        session = EditingSession(self)
        self.sessions.append(session)
        return session

    def mine(self, key: Any, user: dict[str, Any] | None) -> dict[str, Any]:
        stored = next((r for r in self.rows if r["id"] == key), None)
        if stored is None or user is None or stored["user_created"] != user["id"]:
            raise Forbidden("You don't have permission to access this.", code="FORBIDDEN")
        return stored

    def tell(self, kind: str, rows: list[Any], keys: tuple[Any, ...]) -> None:
        event = SubscriptionEvent("uid", kind, tuple(rows), keys)  # type: ignore[arg-type]
        for subscription in list(self.subscriptions):
            for listener in list(subscription.listeners):
                listener(event)


@pytest.fixture
def server() -> EditingServer:
    return EditingServer()


@pytest.fixture
def chat(server: EditingServer) -> Iterator[ChatWidget]:
    widget = ChatWidget(session_factory=server.session, page_size=10)
    yield widget
    widget.close()


@pytest.fixture
async def shown(
    chat: ChatWidget, server: EditingServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[ChatWidget, Browser, ChatMessage, ChatMessage]:
    """Logged in as Ada over one message of Grace's and one of hers; the browser recording."""
    server.store("Grace's", GRACE)
    server.store("Ada's", ADA)
    await logged_in(chat)
    browser = Browser(chat.message_list, monkeypatch)
    theirs, mine = chat.messages
    return chat, browser, theirs, mine


async def test_an_edit_by_click_sends_only_that_message_and_renders_it_again(
    shown: tuple[ChatWidget, Browser, ChatMessage, ChatMessage],
) -> None:
    chat, browser, _theirs, mine = shown
    heard: list[ChatMessage] = []
    chat.on_edit(heard.append, include_own=True)
    browser.say({"type": "edit", "key": mine.key, "text": "**now bold**"})
    await chat.settle()
    changes = browser.of_type("change")
    assert [c["kind"] for c in changes] == ["update"] * len(changes) and changes
    assert all([m["key"] for m in c["messages"]] == [mine.key] for c in changes)
    assert changes[0]["messages"][0]["saving"] == "edit"  # shown at once, on its way
    last = changes[-1]["messages"][0]
    assert last["edited"] and last["saving"] is None and last["own"]
    assert last["text"] == "**now bold**" and "<strong>now bold</strong>" in last["html"]
    assert [m.content for m in heard] == ["**now bold**"]
    # Hostile text in an edit is text, through the same renderer and sanitizer.
    browser.clear()
    browser.say({"type": "edit", "key": mine.key, "text": XSS})
    await chat.settle()
    last = browser.of_type("change")[-1]["messages"][0]
    assert last["text"] == XSS and (last["html"] is None or "onerror" not in last["html"])
    assert chat.messages[1].content == XSS and chat.last_error == ""


async def test_a_delete_by_click_sends_one_remove_and_tells_on_delete(
    shown: tuple[ChatWidget, Browser, ChatMessage, ChatMessage], server: EditingServer
) -> None:
    chat, browser, theirs, mine = shown
    heard: list[ChatMessage] = []
    chat.on_delete(heard.append)  # not our own: nothing
    chat.on_delete(lambda message: heard.append(message), include_own=True)
    browser.say({"type": "delete", "key": mine.key})
    await chat.settle()
    assert browser.of_type("remove") == [
        {"type": "remove", "keys": [mine.key], "first": theirs.key, "older": False}
    ]
    assert [m.key for m in heard] == [mine.key]
    assert [m.key for m in chat.messages] == [theirs.key]
    assert [r["content"] for r in server.rows] == ["Grace's"]


async def test_someone_elses_or_an_empty_edit_is_refused_and_said(
    shown: tuple[ChatWidget, Browser, ChatMessage, ChatMessage], server: EditingServer
) -> None:
    chat, browser, theirs, mine = shown
    browser.say({"type": "edit", "key": theirs.key, "text": "Ada was here"})
    await chat.settle()
    assert "Could not edit that message: you can edit only your own" in chat.last_error
    browser.say({"type": "delete", "key": theirs.key})
    await chat.settle()
    assert "Could not delete that message: you can delete only your own" in chat.last_error
    browser.say({"type": "edit", "key": mine.key, "text": "  "})
    await chat.settle()
    assert chat.last_error == "Could not edit that message: message is empty"
    assert server.threads == [] and browser.of_type("change") == []
    assert chat.messages == (theirs, mine)
    with pytest.raises(Forbidden, match="only your own"):
        await chat.edit_message(theirs, "from a cell")
    with pytest.raises(ValueError, match="empty"):
        await chat.edit_message(mine.key, "")
    with pytest.raises(TypeError, match="key or a ChatMessage"):
        await chat.delete_message(2)  # type: ignore[arg-type]


async def test_others_edits_and_deletes_reach_the_callbacks(
    shown: tuple[ChatWidget, Browser, ChatMessage, ChatMessage], server: EditingServer
) -> None:
    chat, browser, _theirs, _mine = shown
    edits: list[str] = []
    deletes: list[str] = []
    chat.on_edit(lambda m: edits.append(m.content))
    chat.on_delete(lambda m: deletes.append(m.content))
    row = {**server.shown(server.rows[0]), "content": "Grace's, edited", "date_updated": EDITED_AT}
    server.tell("update", [row], (1,))
    server.tell("update", [row], (1,))  # the same row again: not a new edit
    server.tell("delete", [], (1,))
    assert edits == ["Grace's, edited"] and deletes == ["Grace's, edited"]
    (update,) = browser.of_type("change")
    assert [m["edited"] for m in update["messages"]] == [True]


async def test_the_cell_api_runs_on_the_owner_loop_from_another_thread(
    shown: tuple[ChatWidget, Browser, ChatMessage, ChatMessage], server: EditingServer
) -> None:
    chat, _browser, theirs, mine = shown
    here = threading.current_thread().name
    subshell = LoopThread()  # where a kernel with subshells handles comm messages
    try:
        edited = await asyncio.to_thread(subshell.run, chat.edit_message(mine, "from a subshell"))
        assert edited.content == "from a subshell" and edited.edited
        # A click that lands on the subshell's thread is handed over too.
        content = {"type": "delete", "key": mine.key}
        comm_message(chat.message_list, {"method": "custom", "content": content})
        for _ in range(100):
            await chat.settle()
            if len(chat.messages) == 1:
                break
            await asyncio.sleep(0.01)
        assert [m.key for m in chat.messages] == [theirs.key]
        assert server.threads == [here, here]
    finally:
        subshell.stop()
