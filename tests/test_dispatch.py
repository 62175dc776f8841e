"""Where each arriving frame goes, driven with frames alone: no server, no socket I/O.

The connection is real; its socket is a recorder (what was sent, was it
aborted). Requests are put "in flight" the way the writer does it. Each test
feeds frames through :func:`protocol.parse` and :func:`dispatch`, as the
reader does, and checks who was answered, failed or told.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from directus_chat_widget.errors import Forbidden, ServerError
from directus_chat_widget.realtime import protocol
from directus_chat_widget.realtime._connection import Connection
from directus_chat_widget.realtime._dispatch import dispatch
from directus_chat_widget.realtime._link import Link
from directus_chat_widget.realtime._pending import Request
from directus_chat_widget.realtime.state import SessionState
from directus_chat_widget.realtime.subscription import Subscription, SubscriptionStatus
from directus_chat_widget.rest import DirectusRest, Tokens


class _Transport:
    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


class RecordingSocket:
    """Stands in for the websocket: keeps what is sent, never blocks."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.transport = _Transport()

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self) -> None:
        return None


@pytest.fixture
async def wired() -> AsyncIterator[tuple[Connection, Link, RecordingSocket]]:
    rest = DirectusRest("http://127.0.0.1:9", timeout=1.0)
    conn = Connection(
        websocket_url="ws://127.0.0.1:9/websocket",
        rest=rest,
        request_timeout=10.0,
        connect_timeout=1.0,
        heartbeat=None,
        refresh_margin=None,
        frame_rate=None,
        dedupe_field="client_uid",
    )
    socket = RecordingSocket()
    loop = asyncio.get_running_loop()
    link = Link(1, socket, loop.time(), loop.create_future())  # type: ignore[arg-type]
    conn.link = link
    yield conn, link, socket
    await conn.shut_down([])
    await rest.aclose()


def in_flight(
    conn: Connection, link: Link, kind: str, frame: dict[str, Any] | None = None, **extra: Any
) -> Request:
    """A request the writer has just sent on ``link``."""
    loop = asyncio.get_running_loop()
    frame = dict(frame or {}, uid=protocol.new_uid())
    frame.setdefault("collection", "messages")
    request = Request(frame["uid"], frame, kind, loop.create_future(), **extra)
    conn.pending.add(request, queue=False)
    link.occupy(request)
    request.state, request.link, request.sent_at = "sent", link.number, loop.time()
    # Closing the connection fails what is left; nobody awaits these here.
    request.future.add_done_callback(lambda done: done.cancelled() or done.exception())
    return request


def live_subscription(conn: Connection) -> Subscription:
    """A subscription to every event of ``messages``, active on ``conn``."""

    async def forget(_: Subscription) -> None:
        return None

    sub = Subscription("s1", "messages", query=None, event=None, unsubscribe=forget)
    sub.active = True
    conn.subscriptions[sub.uid] = sub
    return sub


async def until(done: Callable[[], bool]) -> None:
    """Let the loop run until ``done()`` (a test that never gets there times out)."""
    while not done():
        await asyncio.sleep(0.001)


def arrive(conn: Connection, link: Link, frame: dict[str, Any]) -> None:
    dispatch(conn, link, protocol.parse(json.dumps(frame)))


def error(kind: str, code: str, uid: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": kind,
        "status": "error",
        "error": {"code": code, "message": f"{code} here"},
    }
    if uid is not None:
        frame["uid"] = uid
    return frame


async def test_a_reply_answers_the_request_of_its_uid_and_no_other(wired: Any) -> None:
    conn, link, _ = wired
    first, second = in_flight(conn, link, "items:read"), in_flight(conn, link, "subscribe")
    arrive(conn, link, {"type": "items", "status": "ok", "uid": first.uid, "data": [{"id": 1}]})
    arrive(conn, link, {"type": "items", "status": "ok", "uid": "nobody", "data": []})
    assert first.future.result() == [{"id": 1}]
    assert not second.future.done()


async def test_a_uidless_forbidden_fails_the_one_items_request_in_flight(wired: Any) -> None:
    conn, link, _ = wired
    subscribing = in_flight(conn, link, "subscribe")
    reading = in_flight(conn, link, "items:read")
    arrive(conn, link, error("items", "FORBIDDEN"))
    with pytest.raises(Forbidden, match="FORBIDDEN here"):
        reading.future.result()
    assert not subscribing.future.done()  # another gate: it cannot have earned it


async def test_record_not_unique_never_fails_a_read(wired: Any) -> None:
    conn, link, _ = wired
    reading = in_flight(conn, link, "items:read")
    arrive(conn, link, error("items", "RECORD_NOT_UNIQUE"))
    assert not reading.future.done()  # only a write can break a unique constraint


@pytest.mark.parametrize("kind", ["items:create", "items:update"])
async def test_record_not_unique_fails_the_write_in_flight(wired: Any, kind: str) -> None:
    conn, link, _ = wired
    writing = in_flight(conn, link, kind, dedupe=None)  # a create without the dedupe field
    arrive(conn, link, error("items", "RECORD_NOT_UNIQUE"))
    with pytest.raises(ServerError) as caught:
        writing.future.result()
    assert caught.value.code == "RECORD_NOT_UNIQUE"


async def test_a_resent_delete_refused_is_done_when_its_row_is_gone(wired: Any) -> None:
    conn, link, socket = wired
    for rows, outcome in (([], None), ([{"id": 5}], Forbidden)):
        deleting = in_flight(conn, link, "items:delete", frame={"uid": "d", "id": 5})
        deleting.sends = 2  # sent again after a reconnect: the first may have been done
        arrive(conn, link, error("items", "FORBIDDEN"))
        assert not deleting.future.done()  # not yet: the session looks first
        await until(lambda: bool(socket.sent))
        check = socket.sent.pop()
        assert check["action"] == "read" and check["query"]["filter"] == {"id": {"_eq": 5}}
        arrive(conn, link, {"type": "items", "status": "ok", "uid": check["uid"], "data": rows})
        await until(deleting.future.done)
        if outcome is None:
            assert deleting.future.result() is None
        else:
            with pytest.raises(outcome):
                deleting.future.result()


async def test_the_writer_holds_requests_while_a_renewal_runs(wired: Any) -> None:
    """A renewal started while restoring leaves the state alone; READY comes before its
    auth ok, and the socket is the public until then: nothing may go out."""
    conn, link, socket = wired
    refreshed = asyncio.Event()

    async def fresh(stale: Tokens | None = None) -> Tokens:
        await refreshed.wait()
        return Tokens("access", "refresh", 60_000, time.time())

    conn.auth.fresh = fresh
    conn.state.set(SessionState.AUTHENTICATING)
    conn.renewal.start(link, "expired")
    await asyncio.sleep(0)  # the renewal begins while restoring
    conn.state.set(SessionState.READY)  # the restore is done
    writer = asyncio.create_task(conn.wire.write(link))
    reading = asyncio.create_task(
        conn.wire.request(protocol.items("messages", "read", "r1"), "items:read")
    )
    refreshed.set()
    await until(lambda: bool(socket.sent))
    for _ in range(20):
        await asyncio.sleep(0)
    assert [frame["type"] for frame in socket.sent] == ["auth"]  # the read is held
    arrive(conn, link, {"type": "auth", "status": "ok", "uid": socket.sent[0]["uid"]})
    await until(lambda: len(socket.sent) == 2)
    assert socket.sent[1]["uid"] == "r1"
    arrive(conn, link, {"type": "items", "status": "ok", "uid": "r1", "data": []})
    assert await reading == []
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)


async def test_after_token_expired_a_forbidden_fails_nobody_and_renewal_starts(wired: Any) -> None:
    conn, link, _ = wired
    conn.auth.fresh = lambda stale=None: asyncio.Event().wait()  # the refresh, held open
    creating = in_flight(conn, link, "items:create", dedupe="abc")
    arrive(conn, link, error("auth", "TOKEN_EXPIRED"))
    await asyncio.sleep(0)  # the renewal runs, and waits on the refresh
    assert link.expired_at is not None and conn.renewal.running
    assert conn.stats["token_expired"] == 1
    arrive(conn, link, error("items", "FORBIDDEN"))
    assert not creating.future.done()  # earned as the public: resent after the re-auth
    assert conn.stats["refused_as_public"] == 1


async def test_a_refused_event_tells_each_live_subscription(wired: Any) -> None:
    conn, link, _ = wired
    sub = live_subscription(conn)
    told: list[SubscriptionStatus] = []
    sub.on_status(told.append)
    arrive(conn, link, error("subscribe", "FORBIDDEN"))
    assert [status.kind for status in told] == ["refused"]
    assert isinstance(told[0].error, Forbidden)


async def test_events_go_to_their_subscription_once(wired: Any) -> None:
    conn, link, _ = wired
    sub = live_subscription(conn)
    seen: list[Any] = []
    sub.add_listener(lambda event: seen.extend(row["id"] for row in event.data))
    event = {"type": "subscription", "event": "create", "uid": "s1", "data": [{"id": 7}]}
    arrive(conn, link, event)
    arrive(conn, link, event)  # the same row again (live and backfill): once
    arrive(conn, link, {**event, "uid": "someone-else", "data": [{"id": 8}]})
    assert seen == [7]
    assert conn.known.highest("messages") == 7


async def test_a_ping_is_answered_and_nonsense_is_dropped(wired: Any) -> None:
    conn, link, socket = wired
    arrive(conn, link, {"type": "ping"})
    dispatch(conn, link, protocol.parse("not json at all"))
    dispatch(conn, link, protocol.parse(b"\xff\xfe"))
    await asyncio.sleep(0)  # the pong goes out from a task
    await asyncio.sleep(0)
    assert socket.sent == [{"type": "pong"}]
