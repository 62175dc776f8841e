"""Defects found by review, each shown on a real Directus: bad input, close codes,
uid-less errors with several requests in flight, lifecycle races.

Servers of their own come from ``make_directus``; the shared one from ``directus``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import TIMEOUT, MakeDirectus
from test_session import SessionFactory, admin_rows, login, marker, wait_until
from test_session_faults import FAST, admin_request, make_secrets, on
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from directus_chat_widget.chat import ChatRoom
from directus_chat_widget.config import ChatConfig
from directus_chat_widget.errors import (
    AuthError,
    DirectusError,
    Forbidden,
    InvalidPayload,
    RequestTimeout,
    SessionClosed,
    SessionGaveUp,
)
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.rest import DirectusRest
from directus_chat_widget.session import RealtimeSession, SessionState
from directus_chat_widget.subscription import SubscriptionStatus

pytestmark = pytest.mark.integration

__all__ = ["login", "on"]  # fixtures, imported for these tests


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


# -- a relay in front of a real Directus ------------------------------------------------


class Relay:
    """A websocket relay on a real socket: forwards frames both ways to Directus.

    ``refuse``: new connections are turned away (the session cannot reconnect
    yet). ``close_after_auth``: once the server's ``auth ok`` has been passed
    on, close the client's socket with this (code, reason) ``delay`` seconds later.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refuse = False
        self.close_after_auth: tuple[int, str] | None = None
        self.delay = 1.0
        self.connections = 0
        self._server: Any = None

    async def __aenter__(self) -> Relay:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, client: ServerConnection) -> None:
        if self.refuse:
            await client.close(1013, "try again later")
            return
        self.connections += 1
        try:
            upstream = await connect(self.upstream, ping_interval=None, max_size=2**27)
        except OSError:
            await client.close(1011, "upstream down")
            return

        async def down() -> None:
            async for raw in upstream:
                await client.send(raw)
                if self.close_after_auth and '"type":"auth"' in str(raw) and "ok" in str(raw):
                    await asyncio.sleep(self.delay)
                    await client.close(*self.close_after_auth)
                    return

        async def up() -> None:
            async for raw in client:
                await upstream.send(raw)

        pumps = [asyncio.create_task(down()), asyncio.create_task(up())]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            pass
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            await upstream.close()
            await client.close(1011, "upstream lost")


def relayed(relay: Relay, server: LocalDirectus, **options: Any) -> RealtimeSession:
    """A session whose socket goes through ``relay``, its REST straight to ``server``."""
    return RealtimeSession(relay.url, rest=DirectusRest(server.url), **options)


# -- close codes -------------------------------------------------------------------------


async def test_a_server_that_closes_after_auth_gives_up_with_the_reason(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada = demo_users[0]
    async with Relay(ChatConfig(directus.url).websocket_url) as relay:
        relay.close_after_auth = (1008, "policy says no")
        session = relayed(relay, directus, reconnect_delays=FAST)
        try:
            await session.login(ada.email, ada.password)
            state = await session.wait_for_state(SessionState.GAVE_UP, timeout=3 * TIMEOUT)
            assert state is SessionState.GAVE_UP
            assert isinstance(session.last_error, AuthError)
            assert session.last_error.code == "CLOSE_1008"
            assert "1008" in str(session.last_error) and "policy says no" in str(session.last_error)
            # Logged in once more with fresh tokens, then no more: not ~4 tries a second forever.
            assert relay.connections == 2 and session.stats["refreshes"] >= 1
            with pytest.raises(SessionGaveUp, match="policy says no"):
                await session.create({"content": "x"})
        finally:
            await session.close()


# -- correlation ---------------------------------------------------------------------------


async def test_a_uidless_error_fails_only_its_own_request(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    await make_secrets(server)
    a = await on(server, demo_users[0])
    tag = marker()
    # Three requests at once; Directus answers the refused one with a FORBIDDEN
    # that names no request. Only that one may fail, whatever the order.
    for order in range(3):
        calls = [
            a.create({"content": f"{tag}{order}"}),
            a.create({"content": "x"}, collection="secrets"),
            a.read("messages", {"limit": 1}),
        ]
        calls = calls[order:] + calls[:order]
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), TIMEOUT)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 1 and isinstance(failed[0], Forbidden), results
        assert "secrets" in str(failed[0])
    assert sorted(r["content"] for r in await admin_rows(server, tag)) == [
        f"{tag}{i}" for i in range(3)
    ]


# -- lifecycle ----------------------------------------------------------------------------


def _session_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("dcw-") and not task.done()
    ]


async def test_close_during_login_leaves_no_socket_and_no_task(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada = demo_users[0]
    for stage in (SessionState.CONNECTING, SessionState.AUTHENTICATING):
        session = RealtimeSession(directus.url)
        login = asyncio.create_task(session.login(ada.email, ada.password))
        await session.wait_for_state(stage, timeout=TIMEOUT)
        await session.close()
        with pytest.raises((SessionClosed, DirectusError)):
            await asyncio.wait_for(login, TIMEOUT)
        assert session.state is SessionState.CLOSED
        assert session._conn.link is None and not session._conn.opening
        assert _session_tasks() == []
        assert session._conn.auth.tokens is None  # the login was ended on the server too


async def test_gave_up_wakes_every_iterator_now_and_later(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    a = await on(server, demo_users[0], reconnect_delays=[0.05, 0.05])
    subscription = await a.subscribe("messages", event="create")
    waiting = [asyncio.create_task(anext(aiter(subscription))) for _ in range(2)]
    await asyncio.sleep(0.1)
    await asyncio.to_thread(server.kill)
    for task in waiting:
        with pytest.raises(SessionGaveUp):
            await asyncio.wait_for(task, 3 * TIMEOUT)
    with pytest.raises(SessionGaveUp):  # an iteration started after giving up
        await asyncio.wait_for(anext(aiter(subscription)), TIMEOUT)


async def test_heartbeat_off_a_frozen_server_is_judged_by_a_request(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus(WEBSOCKETS_HEARTBEAT_ENABLED="false")
    a = await on(
        server,
        demo_users[0],
        request_timeout=0.3 * TIMEOUT,
        connect_timeout=0.3 * TIMEOUT,
        reconnect_delays=FAST,
    )
    assert a.heartbeat is None  # off on the server, and nothing made up
    await asyncio.to_thread(server.pause)
    try:
        with pytest.raises(RequestTimeout):
            await asyncio.wait_for(a.create({"content": "while frozen"}), TIMEOUT)
        await a.wait_for_state(SessionState.RECONNECTING, timeout=TIMEOUT)
    finally:
        await asyncio.to_thread(server.resume)
    await a.wait_for_state(SessionState.READY, timeout=3 * TIMEOUT)
    row = await asyncio.wait_for(a.create({"content": f"{marker()}thawed"}), TIMEOUT)
    assert row["id"] and a.reconnects >= 1


async def test_a_subscription_whose_rows_turn_forbidden_tells_its_listener(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    a = await on(server, demo_users[0])
    subscription = await a.subscribe("messages", event="create")
    news: list[SubscriptionStatus] = []
    subscription.on_status(news.append)
    readers = await admin_request(
        server,
        "GET",
        "/permissions?filter[collection][_eq]=messages&filter[action][_eq]=read&fields=id",
    )
    for permission in readers:
        await admin_request(server, "DELETE", f"/permissions/{permission['id']}")
    await admin_request(server, "POST", "/items/messages", {"content": "unreadable now"})
    await wait_until(lambda: any(n.kind == "refused" for n in news), "the refusal")
    (refusal,) = [n for n in news if n.kind == "refused"]
    assert isinstance(refusal.error, Forbidden)
    assert a.state is SessionState.READY


# -- every event kind across a kill -9 gap ---------------------------------------------------


async def test_an_edit_and_a_delete_in_a_kill_gap_are_seen_once(
    make_directus: MakeDirectus, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    ada, grace = demo_users
    async with Relay(ChatConfig(server.url).websocket_url) as relay:
        session = relayed(relay, server, reconnect_delays=FAST)
        b = RealtimeSession(server.url)
        try:
            await session.login(ada.email, ada.password)
            await b.login(grace.email, grace.password)
            tag = marker()
            rows = [await b.create({"content": f"{tag}{i}"}) for i in range(3)]
            room = ChatRoom(session)
            events: list[tuple[str, tuple[Any, ...], bool]] = []
            news: list[str] = []
            async with room:
                assert room._subscription is not None
                sub = room._subscription
                sub.add_listener(lambda e: events.append((e.event, e.keys, e.replayed)))
                sub.on_status(lambda status: news.append(status.kind))  # type: ignore[attr-defined]
                await wait_until(
                    lambda: [m.content for m in room.messages][-3:] == [r["content"] for r in rows],
                    "the three messages",
                )
                relay.refuse = True
                await asyncio.to_thread(server.kill)
                await session.wait_for_state(SessionState.RECONNECTING, timeout=TIMEOUT)
                await asyncio.to_thread(server.start)
                await admin_request(
                    server, "PATCH", f"/items/messages/{rows[1]['id']}", {"content": f"{tag}edited"}
                )
                await admin_request(server, "DELETE", f"/items/messages/{rows[2]['id']}")
                added = await admin_request(
                    server, "POST", "/items/messages", {"content": f"{tag}new"}
                )
                relay.refuse = False
                await session.wait_for_state(SessionState.READY, timeout=3 * TIMEOUT)
                wanted = [f"{tag}0", f"{tag}edited", f"{tag}new"]
                await wait_until(
                    lambda: (
                        [m.content for m in room.messages if m.content.startswith(tag)] == wanted
                    ),
                    "the edit, the delete and the new message",
                )
                await asyncio.sleep(0.5)  # anything repeated would have come by now
            mine = [(kind, keys, replayed) for kind, keys, replayed in events if replayed]
            assert mine.count(("update", (rows[1]["id"],), True)) == 1
            assert mine.count(("delete", (rows[2]["id"],), True)) == 1
            assert [e for e in mine if e[0] == "create"] == [("create", (added["id"],), True)]
            assert news[:2] == ["gap", "restored"]
        finally:
            await session.close()
            await b.close()


# -- edits and deletes, as the chat-user policy allows ------------------------------------------


async def test_update_and_delete_own_rows_only(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, grace = demo_users
    a, g = await login(ada), await login(grace)
    tag = marker()
    watched = await g.subscribe("messages", query={"filter": {"content": {"_starts_with": tag}}})
    seen: list[tuple[str, tuple[Any, ...]]] = []
    watched.add_listener(lambda event: seen.append((event.event, event.keys)))
    row = await a.create({"content": f"{tag}first"})
    changed = await a.update(row["id"], {"content": f"{tag}second"})
    assert changed["content"] == f"{tag}second" and changed["date_updated"]
    with pytest.raises(Forbidden):
        await g.update(row["id"], {"content": f"{tag}not yours"})
    with pytest.raises(Forbidden):
        await g.delete(row["id"])
    with pytest.raises(TypeError, match="mapping"):
        await a.update(row["id"], "just text")  # type: ignore[arg-type]
    await a.delete(row["id"])
    with pytest.raises(Forbidden):  # gone: to Directus that looks like "not yours"
        await a.delete(row["id"])  # (a resend after a reconnect checks; a new call not)
    assert await admin_rows(directus, tag) == []
    await wait_until(lambda: ("delete", (row["id"],)) in seen, "the delete event")
    assert [kind for kind, _ in seen] == ["create", "update", "delete"]
