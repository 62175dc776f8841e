"""Reactions and replies in two ChatWidgets against a real Directus: no browser, no kernel.

Ada and Grace each have a widget in a room of their own; what each list would
send its browser is recorded (test_widget's ``Browser``), and the browser's
clicks are played with ``Browser.say``. The same paths run in real Chromium in
test_browser_reactions.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support import TIMEOUT
from test_rooms import room_name
from test_widget import Browser

from directus_chat_widget.chat import create_room
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession
from directus_chat_widget.store import ChatMessage
from directus_chat_widget.widget import ChatWidget

pytestmark = pytest.mark.integration

Pair = tuple[ChatWidget, Browser, ChatWidget, Browser]


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def pair(
    directus: LocalDirectus, demo_users: list[DemoUser], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Pair]:
    """Ada's and Grace's widgets in a new room, with their browsers recorded."""
    maker = RealtimeSession(directus.url)
    await maker.login(demo_users[0].email, demo_users[0].password)
    name = (await create_room(maker, room_name())).name
    await maker.close()
    widgets = []
    for user in demo_users:
        chat = ChatWidget(url=directus.url, room=name)
        await chat.login(user.email, user.password)
        widgets.append((chat, Browser(chat.message_list, monkeypatch)))
    (ada, ada_view), (grace, grace_view) = widgets
    yield ada, ada_view, grace, grace_view
    for chat, _ in widgets:
        await chat.aclose()


def reactions_sent(view: Browser) -> list[dict[str, Any]]:
    return [row for message in view.of_type("reactions") for row in message["rows"]]


async def test_a_reaction_goes_to_every_view_as_that_change_alone(pair: Pair) -> None:
    ada, _, grace, grace_view = pair
    sent = await ada.send_message("react to this")
    await until(lambda: len(grace.messages) == 1, "Ada's message in Grace's widget")
    heard: list[tuple[ChatMessage, Any]] = []
    grace.on_reaction(lambda message, reactions: heard.append((message, reactions)))
    grace_view.clear()
    await ada.react(sent, "🎉")
    await until(lambda: bool(reactions_sent(grace_view)), "the reaction in Grace's view")
    # Only the reaction: no message is sent again.
    assert grace_view.of_type("change") == [] and grace_view.of_type("snapshot") == []
    (row,) = reactions_sent(grace_view)
    assert row == {
        "key": f"id:{sent.id}",
        "reactions": [{"emoji": "🎉", "count": 1, "mine": False, "who": "Ada"}],
    }
    assert [(m.id, [r.emoji for r in rs]) for m, rs in heard] == [(sent.id, ["🎉"])]
    # Grace clicks the chip: hers is added; again: taken back.
    grace_view.say({"type": "react", "key": f"id:{sent.id}", "emoji": "🎉"})
    await grace.settle()
    assert [(r.count, r.mine) for r in grace.reactions(f"id:{sent.id}")] == [(2, True)]
    await until(lambda: ada.reactions(sent)[0].count == 2, "Grace's reaction in Ada's widget")
    assert ada.reactions(sent)[0].names == ("Ada", "Grace")
    grace_view.say({"type": "react", "key": f"id:{sent.id}", "emoji": "🎉"})
    await grace.settle()
    await until(lambda: ada.reactions(sent)[0].count == 1, "Grace's reaction taken back")
    # A message drawn again (a new view) carries its reactions; one without has none.
    grace_view.clear()
    grace_view.say({"type": "snapshot", "view": "v2"})
    (shown,) = grace_view.of_type("snapshot")[0]["messages"]
    assert shown["reactions"] == [{"emoji": "🎉", "count": 1, "mine": False, "who": "Ada"}]
    plain = await ada.send_message("no reactions here")
    await until(lambda: len(grace.messages) == 2, "the plain message")
    assert "reactions" not in grace.message_list.wire(1, 2)[0] and plain.id


async def test_a_bad_reaction_is_refused_with_a_clear_error_and_nothing_changes(
    pair: Pair,
) -> None:
    ada, ada_view, _grace, _ = pair
    sent = await ada.send_message("keep me as I am")
    ada_view.clear()
    for bad in ("ok", "👍👍", ""):
        with pytest.raises(ValueError, match="emoji"):
            await ada.react(sent, bad)
    ada_view.say({"type": "react", "key": sent.key, "emoji": "not one"})  # a forged click
    await ada.settle()
    assert ada.reactions(sent) == () and reactions_sent(ada_view) == []
    assert "Could not react" in ada.notice.value


async def test_a_reply_by_click_quotes_its_parent_and_a_deleted_parent_says_so(
    pair: Pair,
) -> None:
    ada, _, grace, grace_view = pair
    parent = await ada.send_message("what time is the meeting?")
    await until(lambda: len(grace.messages) == 1, "Ada's question")
    grace_view.say({"type": "reply_to", "key": f"id:{parent.id}"})
    (bar,) = grace_view.of_type("replying")
    assert bar["reply"]["author"] == "Ada" and bar["reply"]["text"] == parent.content
    grace.message_form.submit("at three")
    await grace.settle()
    assert grace_view.of_type("replying")[-1]["reply"] is None  # the target is used up
    reply = grace.messages[-1]
    assert reply.reply_to == parent.id and reply.content == "at three"
    quote = grace.quote(reply)
    assert quote is not None and (quote.author, quote.text) == ("Ada", parent.content)
    await until(lambda: len(ada.messages) == 2, "the reply in Ada's widget")
    wired = ada.message_list.wire(1, 2)[0]
    assert wired["reply"] == {
        "key": parent.key,
        "author": "Ada",
        "text": parent.content,
        "gone": False,
        "loading": False,
    }
    grace_view.clear()
    await ada.delete_message(parent)
    await until(lambda: bool(grace_view.of_type("quotes")), "the quote's change")
    (row,) = [r for m in grace_view.of_type("quotes") for r in m["rows"]]
    assert row["key"] == reply.key and row["reply"]["gone"] and row["reply"]["text"] == ""
    # From code: a reply to a message not there is refused, and sends nothing.
    with pytest.raises(KeyError):
        await grace.send_message("to nothing", reply_to=f"id:{parent.id}")
