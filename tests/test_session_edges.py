"""Defects found by review, each shown on a real Directus: bad input, close codes,
uid-less errors with several requests in flight, lifecycle races.

Servers of their own come from ``make_directus``; the shared one from ``directus``.
"""

from __future__ import annotations

import asyncio

import pytest
from support import TIMEOUT
from test_session import SessionFactory, admin_rows, login, marker

from directus_chat_widget.chat import ChatRoom
from directus_chat_widget.errors import InvalidPayload
from directus_chat_widget.local import DemoUser, LocalDirectus

pytestmark = pytest.mark.integration

__all__ = ["login"]  # the fixture, imported for these tests


# -- bad input at the edge -----------------------------------------------------------


async def test_unsendable_text_fails_alone_and_the_socket_carries_on(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    session = await login(demo_users[0])
    tag = marker()
    # A lone surrogate cannot be UTF-8: refused at once, before the socket sees it,
    # while a good send made beside it goes through.
    good = asyncio.create_task(session.create({"content": f"{tag}good"}))
    with pytest.raises(InvalidPayload, match="lone surrogate") as caught:
        await asyncio.wait_for(session.create({"content": f"{tag}x\ud800y"}), TIMEOUT)
    assert isinstance(caught.value, ValueError) and caught.value.code == "INVALID_PAYLOAD"
    assert (await asyncio.wait_for(good, TIMEOUT))["content"] == f"{tag}good"
    # NUL and a 1 MB string are within what the server takes (its websocket
    # frame limit is 100 MiB): both are stored verbatim.
    nul = await asyncio.wait_for(session.create({"content": f"{tag}a\x00b"}), TIMEOUT)
    assert nul["content"] == f"{tag}a\x00b"
    big = f"{tag}" + "m" * 1_000_000
    stored = await asyncio.wait_for(session.create({"content": big}), 3 * TIMEOUT)
    assert stored["content"] == big
    after = await asyncio.wait_for(session.create({"content": f"{tag}after"}), TIMEOUT)
    assert after["content"] == f"{tag}after"
    assert session.reconnects == 0
    contents = [row["content"] for row in await admin_rows(directus, tag)]
    assert contents == [f"{tag}good", f"{tag}a\x00b", big, f"{tag}after"]


async def test_chat_room_refuses_a_lone_surrogate_at_once(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    session = await login(demo_users[0])
    async with ChatRoom(session) as room:
        with pytest.raises(ValueError, match="lone surrogate"):
            await asyncio.wait_for(room.send("x\ud800y"), TIMEOUT)
        with pytest.raises(ValueError, match="too long"):
            await asyncio.wait_for(room.send("m" * 1_000_000), TIMEOUT)
        tag = marker()
        sent = await asyncio.wait_for(room.send(f"{tag}fine"), TIMEOUT)
        assert sent.content == f"{tag}fine" and sent.id is not None
    assert session.reconnects == 0
