"""RealtimeSession against the shared local Directus: messages, errors, lifecycle, backfill.

Pure parts (backoff, pacing, the pending table, subscription bookkeeping) are
tested first, without a server. Everything that talks to Directus uses the real
server from ``tests/conftest.py``; faults that need a server of their own
(kill, pause, short tokens, short heartbeats, rate limits) are in
``test_session_faults.py``. No timed assertions: waits fail on timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from support import TIMEOUT

from directus_chat_widget.errors import (
    Forbidden,
    InvalidCredentials,
    ServerUnreachable,
    SessionClosed,
)
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.local.server import free_port
from directus_chat_widget.protocol import SubscriptionEvent
from directus_chat_widget.realtime._auth import Credentials
from directus_chat_widget.realtime._flow import Backoff, Pacer
from directus_chat_widget.realtime._pending import PendingTable, Request, gate_of
from directus_chat_widget.rest import DirectusRest, Tokens
from directus_chat_widget.session import RealtimeSession, SessionState
from directus_chat_widget.subscription import Subscription

# -- helpers shared with test_session_faults.py ----------------------------------------


async def wait_until(
    predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT, step: float = 0.02
) -> None:
    """Poll ``predicate`` until true; fail the test (naming ``what``) on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(step)


class Inbox:
    """Collects the create events of a subscription: contents in arrival order."""

    def __init__(self, subscription: Subscription, marker: str) -> None:
        self.marker = marker
        self.contents: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.replayed = 0
        subscription.add_listener(self._on_event)

    def _on_event(self, event: SubscriptionEvent) -> None:
        for row in event.data:
            content = str(row.get("content", ""))
            if content.startswith(self.marker):
                self.contents.append(content)
                self.rows.append(row)
                self.replayed += event.replayed

    def count(self, content: str) -> int:
        return self.contents.count(content)


async def admin_rows(server: LocalDirectus, marker: str) -> list[dict[str, Any]]:
    """Every stored message whose content starts with ``marker``, read as the admin."""
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        login = await client.post(
            "/auth/login", json={"email": server.admin_email, "password": server.admin_password}
        )
        token = login.json()["data"]["access_token"]
        reply = await client.get(
            "/items/messages",
            params={
                "filter[content][_starts_with]": marker,
                "fields": "id,content,user_created",
                "limit": "-1",
                "sort": "id",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        reply.raise_for_status()
        rows: list[dict[str, Any]] = reply.json()["data"]
        return rows


def marker() -> str:
    return f"t-{uuid.uuid4().hex[:8]}-"


SessionFactory = Callable[..., Awaitable[RealtimeSession]]


@pytest.fixture
async def login(directus: LocalDirectus) -> AsyncIterator[SessionFactory]:
    """``await login(user, **options)``: a logged-in session, closed after the test."""
    made: list[RealtimeSession] = []

    async def make(
        user: DemoUser, server: LocalDirectus | None = None, **options: Any
    ) -> RealtimeSession:
        session = RealtimeSession((server or directus).url, **options)
        made.append(session)
        await session.login(user.email, user.password)
        return session

    yield make
    for session in made:
        await session.close()


# -- pure: backoff ---------------------------------------------------------------------


def test_backoff_grows_caps_and_stops() -> None:
    delays = list(Backoff(initial=1, factor=2, cap=5, jitter=0, attempts=6))
    assert delays == [1, 2, 4, 5, 5, 5]


def test_backoff_jitter_stays_in_range_and_reiterates() -> None:
    backoff = Backoff(initial=1, factor=2, cap=8, jitter=0.5, attempts=5, rng=random.Random(7))
    first, second = list(backoff), list(backoff)
    assert len(first) == len(second) == 5
    for delay, base in zip(first, [1, 2, 4, 8, 8], strict=True):
        assert base * 0.5 <= delay <= base
    assert first != second  # fresh randomness per outage


def test_backoff_total_and_validation() -> None:
    assert Backoff(initial=1, factor=2, cap=4, attempts=4).total == 1 + 2 + 4 + 4
    assert Backoff(attempts=None).total == float("inf")
    with pytest.raises(ValueError):
        Backoff(factor=0.5)
    with pytest.raises(ValueError):
        Backoff(jitter=2)


# -- pure: pacing ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_unlimited_never_waits() -> None:
    pacer = Pacer(None, clock=Clock())
    assert all(pacer.delay() == 0 for _ in range(1000))


def test_pacer_rate_and_burst() -> None:
    clock = Clock()
    pacer = Pacer(10, clock=clock, burst=3)
    assert [pacer.delay() for _ in range(3)] == [0, 0, 0]
    assert pacer.delay() == pytest.approx(0.1)
    clock.now += 0.1
    assert pacer.delay() == 0
    clock.now += 10  # refills to the burst, not beyond
    assert [pacer.delay() for _ in range(3)] == [0, 0, 0]
    assert pacer.delay() > 0


def test_pacer_pause_blocks_even_when_unlimited() -> None:
    clock = Clock()
    pacer = Pacer(None, clock=clock)
    pacer.pause(0.5)
    assert pacer.delay() == pytest.approx(0.5)
    clock.now += 0.5
    assert pacer.delay() == 0


def test_pacer_rejects_bad_rates() -> None:
    with pytest.raises(ValueError):
        Pacer(0, clock=Clock())
    with pytest.raises(ValueError):
        Pacer(1, clock=Clock()).set_rate(-1)


# -- pure: token expiry -----------------------------------------------------------------


def _token(exp: float) -> str:
    body = base64.urlsafe_b64encode(json.dumps({"exp": int(exp)}).encode()).rstrip(b"=")
    return f"h.{body.decode()}.s"


def _credentials(expires_in: float, jwt_offset: float, margin: float | None = None) -> Credentials:
    now = time.time()
    auth = Credentials(DirectusRest("http://127.0.0.1:1"), refresh_margin=margin)
    auth.tokens = Tokens(_token(now + expires_in + jwt_offset), "r", int(expires_in * 1000), now)
    return auth


def test_expiry_follows_the_jwt_when_clocks_agree() -> None:
    auth = _credentials(300, -0.6)  # exp is whole seconds: a little early
    expires = auth.expires_at()
    assert expires is not None and expires == pytest.approx(int(time.time() + 299.4), abs=1)
    assert auth.margin() == 60
    assert auth.seconds_to_refresh() == pytest.approx(expires - 60 - time.time(), abs=0.1)
    assert not auth.nearly_expired()


def test_expiry_ignores_a_skewed_server_clock() -> None:
    auth = _credentials(5, 3600)  # the server clock is an hour ahead
    assert auth.expires_at() == pytest.approx(time.time() + 5, abs=0.1)
    assert auth.margin() == 1  # a fifth of 5 s, but at least 1 s


def test_guard_band_and_margin_off() -> None:
    near = _credentials(0.1, 0)
    assert near.nearly_expired() and near.proactive and not near.overdue()
    off = _credentials(0.1, 0, margin=0)
    assert off.nearly_expired()  # the guard holds even without proactive refresh
    assert not off.proactive and off.seconds_to_refresh() == float("inf")
    assert _credentials(-3, 0, margin=0).overdue()
    assert not _credentials(30, 0).nearly_expired()
    assert _credentials(1, 0).margin() == 0.5  # never more than half the lifetime


# -- pure: the pending table ----------------------------------------------------------------


def _request(loop: asyncio.AbstractEventLoop, kind: str = "items:read") -> Request:
    uid = str(uuid.uuid4())
    return Request(uid, {"uid": uid}, kind, loop.create_future())


async def test_pending_table_keeps_send_order_across_requeues() -> None:
    loop = asyncio.get_running_loop()
    table = PendingTable()
    first, second, third = (_request(loop) for _ in range(3))
    for request in (first, second, third):
        table.add(request, queue=True)
    sent = table.next_queued()
    assert sent is first
    sent.state, sent.link = "sent", 1
    assert table.sent_on(1) == [first]
    table.enqueue(first)  # its socket died: it goes back before the others
    assert [table.next_queued() for _ in range(3)] == [first, second, third]
    assert table.next_queued() is None


async def test_pending_table_discard_always_cleans_up() -> None:
    loop = asyncio.get_running_loop()
    table = PendingTable()
    queued, cancelled = _request(loop), _request(loop)
    table.add(queued, queue=True)
    table.add(cancelled, queue=True)
    cancelled.future.cancel()
    table.discard(queued)
    table.discard(queued)  # twice is fine
    assert len(table) == 1 and table.get(queued.uid) is None
    assert table.next_queued() is None  # the cancelled one is skipped
    with pytest.raises(ValueError, match="duplicate"):
        table.add(cancelled, queue=False)


async def test_requests_share_a_gate_when_a_uidless_error_could_answer_them() -> None:
    """One request per gate may be in flight on a socket; the real-server test of
    what that buys is in test_session_edges.py."""
    assert gate_of("items:read") == gate_of("items:create") == "items"
    assert gate_of("subscribe") == "subscribe"
    assert gate_of("auth") is None and gate_of("unsubscribe") is None
    loop = asyncio.get_running_loop()
    table = PendingTable()
    subscribe, read, create = (
        _request(loop, "subscribe"),
        _request(loop, "items:read"),
        _request(loop, "items:create"),
    )
    for request in (subscribe, read, create):
        table.add(request, queue=True)
    assert table.peek_queued() is subscribe
    table.pop_queued(subscribe)
    assert table.peek_queued() is read
    assert not create.idempotent and read.idempotent
    error = RuntimeError("x")
    table.fail_all(error)
    assert all(r.future.exception() is error for r in (subscribe, read, create))


# -- pure: subscription bookkeeping ----------------------------------------------------------


async def _noop(_: Subscription) -> None:
    return None


def _event(*ids: int, replayed: bool = False) -> SubscriptionEvent:
    rows = tuple({"id": i, "content": f"m{i}"} for i in ids)
    return SubscriptionEvent("s", "create", rows, ids, replayed)


async def test_subscription_deduplicates_and_orders_a_backfill() -> None:
    sub = Subscription("s", "messages", query=None, event="create", unsubscribe=_noop)
    seen: list[int] = []
    sub.add_listener(lambda e: seen.extend(int(r["id"]) for r in e.data))
    sub.marks.note_since(10)
    assert sub.marks.floor == 10
    sub.deliver(_event(11, 12))
    assert sub.deliver(_event(12)) is False  # already delivered
    sub.hold()  # a backfill is running: live events wait
    sub.deliver(_event(15))
    sub.deliver(_event(12, 13, 14, replayed=True))
    sub.release()
    assert seen == [11, 12, 13, 14, 15]
    assert sub.last_id == 15


async def test_subscription_floor_tolerates_out_of_order_ids() -> None:
    sub = Subscription("s", "messages", query=None, event=None, unsubscribe=_noop)
    sub.marks.note_since(None)
    assert sub.marks.floor == 0
    for i in (5, 7, 6):
        sub.deliver(_event(i))
    assert sub.marks.floor == 5  # not 7: a row below the highest may still be in flight


async def test_a_floor_owed_a_read_back_holds_until_repaid() -> None:
    """A read-back after a token expiry that fails leaves the floor for the reconnect's."""
    sub = Subscription("s", "messages", query=None, event="create", unsubscribe=_noop)
    assert sub.marks.owe() is None  # nothing to go by yet
    sub.marks.note_since(10)
    first = sub.marks.owe()
    assert first == (1, 10)
    sub.deliver(_event(*range(11, 60)))  # live events move the floor on...
    assert sub.marks.floor == 10  # ...but not past what is owed
    second = sub.marks.owe()
    assert second == (2, 10)
    sub.marks.repay(first[0])
    assert sub.marks.floor == 10  # the second debt still holds it
    assert sub.marks.owing() == (2,)
    sub.marks.repay(*sub.marks.owing())
    assert sub.marks.floor == 59 - 31  # the lowest of the last 32 ids again


async def test_subscription_iteration_ends_on_unsubscribe_and_listener_errors_are_kept() -> None:
    sub = Subscription("s", "messages", query=None, event="create", unsubscribe=_noop)

    def broken(_: SubscriptionEvent) -> None:
        raise RuntimeError("listener bug")

    sub.add_listener(broken)
    iterator = sub.__aiter__()
    sub.deliver(_event(1))
    assert (await iterator.__anext__()).keys == (1,)
    await sub.unsubscribe()
    assert sub.deliver(_event(2)) is False
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()


# -- integration: messages both ways ---------------------------------------------------------


@pytest.mark.integration
async def test_two_sessions_exchange_messages_both_ways(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    ada, grace = demo_users
    a, b = await login(ada), await login(grace)
    assert a.state is SessionState.READY and a.user is not None
    assert a.user["first_name"] == ada.first_name and "email" not in a.user
    tag = marker()
    query = {"fields": ["id", "content", "user_created.first_name"]}
    inbox_a = Inbox(await a.subscribe("messages", event="create", query=query), tag)
    inbox_b = Inbox(await b.subscribe("messages", event="create", query=query), tag)
    sent_a = [f"{tag}a{i}" for i in range(10)]
    sent_b = [f"{tag}b{i}" for i in range(10)]
    rows = await asyncio.gather(
        *(a.create({"content": c}) for c in sent_a),
        *(b.create({"content": c}) for c in sent_b),
    )
    assert all(row["user_created"] for row in rows)
    everything = sorted(sent_a + sent_b)
    await wait_until(lambda: len(inbox_b.contents) >= 20, "grace to see all 20")
    await wait_until(lambda: len(inbox_a.contents) >= 20, "ada to see all 20")
    assert sorted(inbox_a.contents) == everything
    assert sorted(inbox_b.contents) == everything
    names = {r["content"]: r["user_created"]["first_name"] for r in inbox_b.rows}
    assert {names[c] for c in sent_a} == {ada.first_name}
    assert {names[c] for c in sent_b} == {grace.first_name}
    stored = await admin_rows(directus, tag)
    assert len(stored) == 20 and all(row["user_created"] for row in stored)


@pytest.mark.integration
async def test_iterating_a_subscription_and_reading(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    a = await login(demo_users[0])
    tag = marker()
    sub = await a.subscribe("messages", event="create")
    created = await a.create({"content": f"{tag}one"})

    async def until_mine() -> None:
        async for event in sub:
            if any(row.get("id") == created["id"] for row in event.data):
                return

    await asyncio.wait_for(until_mine(), TIMEOUT)
    rows = await a.read("messages", {"filter": {"id": {"_eq": created["id"]}}})
    assert [r["content"] for r in rows] == [f"{tag}one"]
    await sub.unsubscribe()
    with pytest.raises(StopAsyncIteration):
        await sub.__anext__()


@pytest.mark.integration
async def test_subscribe_without_event_filter_gives_initial_rows(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    a = await login(demo_users[0])
    created = await a.create({"content": f"{marker()}init"})
    sub = await a.subscribe(
        "messages", query={"filter": {"id": {"_eq": created["id"]}}, "fields": ["content"]}
    )
    assert sub.initial is not None
    assert [row["id"] for row in sub.initial] == [created["id"]]  # id added to fields
    assert sub.marks.since == created["id"]


@pytest.mark.integration
async def test_state_changes_are_observable(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    seen: list[SessionState] = []
    session = RealtimeSession(directus.url)
    remove = session.on_state_change(seen.append)

    def broken(_: SessionState) -> None:
        raise RuntimeError("listener bug")

    session.on_state_change(broken)  # a broken listener does not stop the others
    async with session:
        await session.login(demo_users[0].email, demo_users[0].password)
    remove()
    assert seen == [
        SessionState.CONNECTING,
        SessionState.AUTHENTICATING,
        SessionState.READY,
        SessionState.CLOSED,
    ]


# -- integration: clear errors ----------------------------------------------------------------


@pytest.mark.integration
async def test_wrong_password_is_invalid_credentials(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    async with RealtimeSession(directus.url) as session:
        with pytest.raises(InvalidCredentials, match="Invalid email or password"):
            await session.login(demo_users[0].email, "not-the-password")
        assert session.state is SessionState.IDLE
        await session.login(demo_users[0].email, demo_users[0].password)  # may try again
        assert session.state is SessionState.READY  # type: ignore[comparison-overlap]


@pytest.mark.integration
async def test_server_down_at_start_is_server_unreachable() -> None:
    async with RealtimeSession(f"http://127.0.0.1:{free_port()}") as session:
        with pytest.raises(ServerUnreachable, match="cannot reach"):
            await session.login("ada@example.com", "whatever")
        assert session.state is SessionState.IDLE


@pytest.mark.integration
@pytest.mark.parametrize("collection", ["no_such_collection", "directus_users"])
async def test_forbidden_collection_is_forbidden(
    login: SessionFactory, demo_users: list[DemoUser], collection: str
) -> None:
    a = await login(demo_users[0])
    with pytest.raises(Forbidden, match=collection):
        await a.create({"content": "x"}, collection=collection)
    with pytest.raises(Forbidden, match=collection):
        await a.subscribe(collection, event="create")
    if collection == "directus_users":  # read over REST: chat members' names, no more
        rows = await a.read(collection)
        assert rows and all(set(row) <= {"id", "first_name", "last_name"} for row in rows)
    else:
        with pytest.raises(Forbidden, match=collection):
            await a.read(collection)
    assert a.state is SessionState.READY  # the session carries on
    await a.read("messages", {"limit": 1})


@pytest.mark.integration
async def test_lifecycle_misuse_is_precise(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    fresh = RealtimeSession(directus.url)
    with pytest.raises(RuntimeError, match="login"):
        await fresh.create({"content": "x"})
    await fresh.close()
    with pytest.raises(SessionClosed):
        await fresh.login(demo_users[0].email, demo_users[0].password)
    a = await login(demo_users[0])
    with pytest.raises(RuntimeError, match="already logged in"):
        await a.login(demo_users[0].email, demo_users[0].password)
    await a.close()
    await a.close()  # twice is fine
    with pytest.raises(SessionClosed):
        await a.create({"content": "x"})


@pytest.mark.integration
async def test_close_fails_what_waits_and_logout_ends_the_login(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    a = await login(demo_users[0])
    sub = await a.subscribe("messages", event="create")
    assert a._conn.auth.tokens is not None
    refresh_token = a._conn.auth.tokens.refresh_token
    await a.logout()
    assert a.state is SessionState.CLOSED
    with pytest.raises(StopAsyncIteration):
        await sub.__anext__()
    async with httpx.AsyncClient(base_url=a.config.url) as client:
        reply = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert reply.status_code in (400, 401, 403)


# -- integration: a dropped socket (no server fault needed) ------------------------------------


def drop_socket(session: RealtimeSession) -> None:
    """Cut the session's TCP connection as a network failure would."""
    link = session._conn.link
    assert link is not None, "the session has no socket to drop"
    link.ws.transport.abort()


@pytest.mark.integration
async def test_dropped_socket_reconnects_and_backfills_exactly_once(
    login: SessionFactory, demo_users: list[DemoUser]
) -> None:
    ada, grace = demo_users
    fast = Backoff(initial=0.05, cap=0.2, attempts=50)
    a = await login(ada, reconnect_delays=fast)
    b = await login(grace)
    tag = marker()
    inbox = Inbox(await a.subscribe("messages", event="create"), tag)
    states: list[SessionState] = []
    a.on_state_change(states.append)
    await b.create({"content": f"{tag}0"})
    await wait_until(lambda: inbox.count(f"{tag}0") == 1, "the first message")
    # Ada's socket drops; Grace sends while Ada is away and while she comes back.
    drop_socket(a)
    sends = [asyncio.create_task(b.create({"content": f"{tag}{i}"})) for i in range(1, 30)]
    await wait_until(lambda: a.state is SessionState.READY and a.reconnects == 1, "a reconnect")
    await asyncio.gather(*sends)
    expected = [f"{tag}{i}" for i in range(30)]
    await wait_until(lambda: len(inbox.contents) >= 30, "all 30 messages")
    await asyncio.sleep(0.3)  # room for a duplicate to show up, were there one
    assert sorted(inbox.contents) == sorted(expected)
    assert len(inbox.contents) == len(set(inbox.contents)) == 30
    assert SessionState.RECONNECTING in states and states[-1] is SessionState.READY


@pytest.mark.integration
async def test_create_in_flight_when_the_socket_drops_is_stored_once(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    a = await login(demo_users[0], reconnect_delays=Backoff(initial=0.05, attempts=50))
    tag = marker()
    for round_ in range(5):
        task = asyncio.create_task(a.create({"content": f"{tag}{round_}"}))
        # Let the writer put the frame on the wire, then cut before the reply can arrive.
        sent = lambda: any(r.state == "sent" for r in a._conn.pending)  # noqa: E731
        await wait_until(sent, "the send", step=0)
        drop_socket(a)
        row = await asyncio.wait_for(task, TIMEOUT)
        assert row["content"] == f"{tag}{round_}"
    stored = await admin_rows(directus, tag)
    assert sorted(r["content"] for r in stored) == [f"{tag}{i}" for i in range(5)]
    assert a.reconnects == 5
    # every create was cut off before its reply: each was looked up, then kept or resent
    assert a.stats.get("creates_found", 0) + a.stats.get("creates_resent", 0) == 5


@pytest.mark.integration
async def test_held_requests_go_out_in_order_after_a_reconnect(
    login: SessionFactory, demo_users: list[DemoUser], directus: LocalDirectus
) -> None:
    a = await login(demo_users[0], reconnect_delays=Backoff(initial=0.2, jitter=0, attempts=50))
    tag = marker()
    drop_socket(a)
    await wait_until(lambda: a.state is SessionState.RECONNECTING, "reconnecting")
    rows = await asyncio.gather(*(a.create({"content": f"{tag}{i}"}) for i in range(20)))
    assert [r["content"] for r in rows] == [f"{tag}{i}" for i in range(20)]
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids)  # sent in the order they were made
    stored = await admin_rows(directus, tag)
    assert len(stored) == 20


# -- a plain script, no notebook -----------------------------------------------------------------

SCRIPT = """
import asyncio, sys
from directus_chat_widget.session import RealtimeSession

async def main(url, email, password):
    async with RealtimeSession(url) as session:
        await session.login(email, password)
        row = await session.create({"content": "from a script"})
        print("stored", row["id"], "nest_asyncio" in sys.modules)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.integration
async def test_usable_from_a_plain_script(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    user = demo_users[0]
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, directus.url, user.email, user.password],
        capture_output=True,
        text=True,
        timeout=6 * TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stored ") and done.stdout.strip().endswith("False")


# -- a notebook: top-level await, background tasks living between cells ------------------------

NOTEBOOK_CELLS = [
    "import sys\nfrom directus_chat_widget.session import RealtimeSession\n"
    "session = RealtimeSession({url!r})\n"
    "await session.login({email!r}, {password!r})\n"
    "seen = []\n"
    "sub = await session.subscribe('messages', event='create')\n"
    "sub.add_listener(lambda e: seen.extend(r['content'] for r in e.data))\n"
    "print(session.state.value, 'nest_asyncio' in sys.modules)",
    "row = await session.create({{'content': {content!r}}})",
    "import asyncio\n"
    "for _ in range(200):\n"
    "    if {content!r} in seen:\n"
    "        break\n"
    "    await asyncio.sleep(0.05)\n"
    "print({content!r} in seen, session.state.value)",
    "await session.close()\nprint(session.state.value)",
]


@pytest.mark.integration
async def test_usable_with_top_level_await_in_a_notebook(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    user = demo_users[0]
    values = {
        "url": directus.url,
        "email": user.email,
        "password": user.password,
        "content": f"{marker()}from a notebook",
    }
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(cell.format(**values)) for cell in NOTEBOOK_CELLS]
    )
    client = nbclient.NotebookClient(notebook, timeout=int(6 * TIMEOUT), kernel_name="python3")
    await asyncio.to_thread(client.execute)
    outputs = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert outputs[0].strip() == "ready False"
    assert outputs[2].strip() == "True ready"  # the reader task lives on between cells
    assert outputs[3].strip() == "closed"
