"""RealtimeSession under real faults, each on a Directus of its own (``make_directus``).

Crash and restart (SIGKILL), a frozen server (SIGSTOP/SIGCONT), 5-second access
tokens, 2-second heartbeats, a rate-limited socket, giving up and coming back.
Every check counts events and states; waits fail on timeout, nothing is timed.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import StreamReader, StreamWriter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support import TIMEOUT, MakeDirectus
from test_session import Inbox, SessionFactory, admin_rows, marker, wait_until

from directus_chat_widget.errors import Forbidden, SessionGaveUp
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.realtime._flow import Backoff
from directus_chat_widget.session import RealtimeSession, SessionState

pytestmark = pytest.mark.integration

FAST = Backoff(initial=0.1, factor=2, cap=1.0, attempts=200)


async def admin_request(server: LocalDirectus, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        login = await client.post(
            "/auth/login", json={"email": server.admin_email, "password": server.admin_password}
        )
        token = login.json()["data"]["access_token"]
        reply = await client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        reply.raise_for_status()
        return reply.json().get("data") if reply.content else None


async def add_client_uid(server: LocalDirectus) -> None:
    """The unique field that makes creates exactly-once (if the chat schema lacks it)."""
    fields = await admin_request(server, "GET", "/fields/messages")
    if any(f["field"] == "client_uid" for f in fields):
        return
    await admin_request(
        server,
        "POST",
        "/fields/messages",
        {
            "field": "client_uid",
            "type": "string",
            "meta": {"hidden": True, "readonly": True},
            "schema": {"is_unique": True, "is_nullable": True, "max_length": 64},
        },
    )


async def make_secrets(server: LocalDirectus) -> None:
    """A collection no chat user may touch (any request on it gets a uid-less FORBIDDEN)."""
    await admin_request(
        server,
        "POST",
        "/collections",
        {
            "collection": "secrets",
            "schema": {},
            "meta": {},
            "fields": [
                {
                    "field": "id",
                    "type": "integer",
                    "schema": {"is_primary_key": True, "has_auto_increment": True},
                },
                {"field": "content", "type": "text", "schema": {}},
            ],
        },
    )


@pytest.fixture
async def on(demo_users: list[DemoUser]) -> AsyncIterator[SessionFactory]:
    """``await on(server, user, **options)``: a logged-in session, closed after the test."""
    made: list[RealtimeSession] = []

    async def make(server: LocalDirectus, user: DemoUser, **options: Any) -> RealtimeSession:
        session = RealtimeSession(server.url, **options)
        made.append(session)
        await session.login(user.email, user.password)
        return session

    yield make
    for session in made:
        await session.close()


def in_order(contents: list[str], tag: str, count: int) -> bool:
    return contents == [f"{tag}{i:04d}" for i in range(count)]


# -- crash and restart ------------------------------------------------------------------


async def test_kill_and_restart_mid_stream_loses_and_repeats_nothing(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    await add_client_uid(server)
    ada, grace = demo_users
    sender = await on(server, ada, reconnect_delays=FAST)
    receiver = await on(server, grace, reconnect_delays=FAST)
    tag = marker()
    inbox = Inbox(await receiver.subscribe("messages", event="create"), tag)
    total, kill_at = 60, 20

    async def send_all() -> None:
        for i in range(total):
            await sender.create({"content": f"{tag}{i:04d}"})
            await asyncio.sleep(0.02)

    sending = asyncio.create_task(send_all())
    await wait_until(lambda: len(inbox.contents) >= kill_at, "the first messages")
    await asyncio.to_thread(server.kill)
    await wait_until(
        lambda: SessionState.RECONNECTING in (sender.state, receiver.state), "the loss noticed"
    )
    await asyncio.to_thread(server.start)
    await asyncio.wait_for(sending, 6 * TIMEOUT)
    await wait_until(lambda: len(inbox.contents) >= total, "every message", timeout=3 * TIMEOUT)
    await asyncio.sleep(0.5)  # room for a duplicate to show, were there one
    assert in_order(inbox.contents, tag, total), inbox.contents
    assert sender.reconnects >= 1 and receiver.reconnects >= 1
    stored = await admin_rows(server, tag)
    assert [r["content"] for r in stored] == [f"{tag}{i:04d}" for i in range(total)]
    assert all(r["user_created"] for r in stored)


# -- a frozen server ------------------------------------------------------------------------


async def test_paused_server_is_detected_and_recovered(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus(WEBSOCKETS_HEARTBEAT_PERIOD="2")
    await add_client_uid(server)
    ada, grace = demo_users
    a = await on(server, ada, reconnect_delays=FAST, request_timeout=TIMEOUT)
    b = await on(server, grace, reconnect_delays=FAST)
    assert a.heartbeat == 2
    tag = marker()
    inbox = Inbox(await b.subscribe("messages", event="create"), tag)
    await a.create({"content": f"{tag}0000"})
    server.pause()
    try:
        # a create goes out to the frozen server; its reply cannot come
        frozen = asyncio.create_task(a.create({"content": f"{tag}0001"}))
        await wait_until(lambda: a.state is SessionState.RECONNECTING, "a dead link noticed")
    finally:
        server.resume()
    await wait_until(lambda: a.state is SessionState.READY, "a back", timeout=3 * TIMEOUT)
    await asyncio.wait_for(frozen, 2 * TIMEOUT)
    await a.create({"content": f"{tag}0002"})
    await wait_until(lambda: len(inbox.contents) >= 3, "all three", timeout=3 * TIMEOUT)
    await asyncio.sleep(0.5)
    assert in_order(inbox.contents, tag, 3), inbox.contents
    assert len(await admin_rows(server, tag)) == 3


# -- short tokens -------------------------------------------------------------------------------


async def paced_sends(session: RealtimeSession, tag: str, count: int, period: float) -> None:
    """``count`` creates, one every ``period`` seconds, none awaited before the next starts.

    Every one must succeed: a FORBIDDEN earned while the token was being renewed
    (or any other failure) reaching the caller fails the test, naming it.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    sends = []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i * period - loop.time()))
        sends.append(asyncio.create_task(session.create({"content": f"{tag}{i:04d}"})))
    results = await asyncio.gather(*sends, return_exceptions=True)
    failed = [repr(result) for result in results if isinstance(result, BaseException)]
    assert failed == [], f"{len(failed)} sends failed, the first: {failed[:3]}"


async def _soak(
    server: LocalDirectus,
    on: SessionFactory,
    users: list[DemoUser],
    *,
    fast_count: int,
    slow_count: int,
    **options: Any,
) -> tuple[RealtimeSession, RealtimeSession]:
    """Ada sends 50 msg/s, Grace 1 msg/s; each must see the other's messages exactly once."""
    ada, grace = users
    fast = await on(server, ada, reconnect_delays=FAST, **options)
    slow = await on(server, grace, reconnect_delays=FAST, **options)
    tag_fast, tag_slow = marker(), marker()
    fast_inbox = Inbox(await slow.subscribe("messages", event="create"), tag_fast)
    slow_inbox = Inbox(await fast.subscribe("messages", event="create"), tag_slow)

    await asyncio.gather(
        paced_sends(fast, tag_fast, fast_count, 1 / 50),
        paced_sends(slow, tag_slow, slow_count, 1.0),
    )
    await wait_until(lambda: len(fast_inbox.contents) >= fast_count, "Ada's messages at Grace")
    await wait_until(lambda: len(slow_inbox.contents) >= slow_count, "Grace's messages at Ada")
    await asyncio.sleep(0.5)
    assert sorted(fast_inbox.contents) == [f"{tag_fast}{i:04d}" for i in range(fast_count)]
    assert sorted(slow_inbox.contents) == [f"{tag_slow}{i:04d}" for i in range(slow_count)]
    users_by_tag = {tag_fast: fast.user, tag_slow: slow.user}
    for tag, count in ((tag_fast, fast_count), (tag_slow, slow_count)):
        stored = await admin_rows(server, tag)
        assert len(stored) == count
        owner = users_by_tag[tag]
        assert owner is not None
        anonymous = [r["content"] for r in stored if r["user_created"] is None]
        assert anonymous == [], f"stored without a user: {anonymous}"
        assert {r["user_created"] for r in stored} == {owner["id"]}
    return fast, slow


@pytest.mark.slow
async def test_five_second_tokens_never_store_an_anonymous_message(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus(ACCESS_TOKEN_TTL="5s")
    fast, slow = await _soak(server, on, demo_users, fast_count=800, slow_count=60)
    # about one refresh per 4 s of the minute; no reconnect was needed for any of it
    assert slow.stats["refreshes"] >= 10
    assert fast.reconnects == 0 and slow.reconnects == 0


@pytest.mark.slow
async def test_token_expired_path_alone_holds_refreshes_and_flushes(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    """Proactive refresh off: every renewal starts from the server's TOKEN_EXPIRED.

    Sends are still held from a quarter second before the expiry (the guard):
    a frame in flight when the server's expiry timer fires would be stored
    anonymously, and no handling of TOKEN_EXPIRED can call it back.
    """
    server = make_directus(ACCESS_TOKEN_TTL="5s")
    fast, slow = await _soak(
        server, on, demo_users, fast_count=800, slow_count=20, refresh_margin=0
    )
    assert fast.stats["token_expired"] >= 3 and slow.stats["token_expired"] >= 3
    assert fast.stats["reauthenticated"] >= 3
    assert fast.reconnects == 0 and slow.reconnects == 0


class SlowUplink:
    """A TCP relay to ``127.0.0.1:port`` whose client-to-server direction lags ``delay`` s.

    What a client sends reaches the server ``delay`` seconds later, in order (a
    slow uplink: a phone, a satellite link); answers come straight back. Use as
    ``async with SlowUplink(server.port, 0.6) as relay`` and connect to ``relay.url``.
    """

    def __init__(self, port: int, delay: float) -> None:
        self.target = port
        self.delay = delay
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> SlowUplink:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target)
        pumps = {
            asyncio.create_task(self._pump(client_in, server_out, self.delay)),
            asyncio.create_task(self._pump(server_in, client_out, 0.0)),
        }
        self._pumps |= pumps
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            self._pumps -= pumps
            client_out.close()
            server_out.close()

    @staticmethod
    async def _pump(source: StreamReader, sink: StreamWriter, delay: float) -> None:
        loop = asyncio.get_running_loop()
        due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def forward() -> None:
            while True:
                when, chunk = await due.get()
                await asyncio.sleep(max(0.0, when - loop.time()))
                if not chunk:
                    return
                sink.write(chunk)
                await sink.drain()

        forwarding = asyncio.create_task(forward())
        try:
            while chunk := await source.read(65536):
                due.put_nowait((loop.time() + delay, chunk))
            due.put_nowait((loop.time() + delay, b""))
            await forwarding
        finally:
            forwarding.cancel()


@pytest.mark.slow
async def test_creates_that_reach_the_server_after_expiry_are_refused_then_resent_once(
    make_directus: MakeDirectus, demo_users: list[DemoUser], caplog: pytest.LogCaptureFixture
) -> None:
    """Over a 0.6 s uplink, creates sent just before the token expires arrive just after.

    The server (locked down, with the kit's socket guard) refuses them as the
    public: FORBIDDEN without a uid, and the subscription's events of that
    moment are refused too. The session re-authenticates, resends what was
    refused (stored once, by client_uid) and reads back what its subscription
    missed; the caller sees every create succeed.
    """
    caplog.set_level(logging.DEBUG, logger="directus_chat_widget")  # the story, on failure
    server = make_directus(ACCESS_TOKEN_TTL="5s")
    ada, grace = demo_users
    # Queued at 20 per second; one create in flight per socket and a 0.6 s uplink
    # make them take about 40 s, several expiries.
    count = 60
    others = 100  # Grace posts meanwhile: her events that reach Ada's socket in its
    # public moment are refused to it, so they must come back as replayed.
    async with SlowUplink(server.port, 0.6) as relay:
        # refresh_margin=0: every renewal starts from the server's TOKEN_EXPIRED.
        sender = RealtimeSession(relay.url, refresh_margin=0, reconnect_delays=FAST)
        watcher = RealtimeSession(server.url, reconnect_delays=FAST)
        try:
            await sender.login(ada.email, ada.password)
            await watcher.login(grace.email, grace.password)
            tag = marker()
            seen_by_grace = Inbox(await watcher.subscribe("messages", event="create"), tag)
            seen_by_ada = Inbox(await sender.subscribe("messages", event="create"), tag)
            await asyncio.gather(
                paced_sends(sender, f"{tag}a", count, 1 / 20),
                paced_sends(watcher, f"{tag}g", others, 1 / 10),
            )
            from_ada = [f"{tag}a{i:04d}" for i in range(count)]
            expected = sorted(from_ada + [f"{tag}g{i:04d}" for i in range(others)])
            for name, inbox in (("Grace", seen_by_grace), ("Ada", seen_by_ada)):
                try:
                    await wait_until(
                        lambda inbox=inbox: len(inbox.contents) >= len(expected), "every message"
                    )
                except pytest.fail.Exception:
                    missing = sorted(set(expected) - set(inbox.contents))
                    pytest.fail(
                        f"{name} never saw {len(missing)} messages ({missing[:8]}...);"
                        f" sender stats {dict(sender.stats)}"
                    )
            await asyncio.sleep(0.5)  # room for a duplicate to show, were there one
            assert sorted(seen_by_grace.contents) == expected
            assert sorted(seen_by_ada.contents) == expected
            assert seen_by_ada.replayed >= 1  # what the public moment hid was read back
            stored = await admin_rows(server, tag)
            assert sorted(row["content"] for row in stored) == expected
            assert sender.user is not None
            mine = {row["user_created"] for row in stored if row["content"] in from_ada}
            assert mine == {sender.user["id"]}
            assert sender.stats["token_expired"] >= 2
            # Not required: with one create in flight per socket, creates rarely race
            # the expiry any more; one that does is resent (every send succeeded
            # and each is stored once, above). sender.stats["refused_as_public"]
            # counts them. The public moment itself is proven by the replays.
        finally:
            await sender.close()
            await watcher.close()


# -- heartbeats ----------------------------------------------------------------------------------


async def _stays_quiet(session: RealtimeSession, seconds: float) -> None:
    changes: list[SessionState] = []
    session.on_state_change(changes.append)
    await asyncio.sleep(seconds)
    assert changes == [] and session.reconnects == 0 and session.state is SessionState.READY
    row = await session.create({"content": f"{marker()}still here"})
    assert row["id"]


@pytest.mark.slow
async def test_quiet_session_survives_default_heartbeat(
    directus: LocalDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    session = await on(directus, demo_users[0])
    assert session.heartbeat == 30
    await _stays_quiet(session, 90)


@pytest.mark.slow
async def test_quiet_session_survives_two_second_heartbeat(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus(WEBSOCKETS_HEARTBEAT_PERIOD="2")
    session = await on(server, demo_users[0])
    assert session.heartbeat == 2
    await _stays_quiet(session, 30)


# -- rate limits -------------------------------------------------------------------------------


async def test_rate_limited_socket_stores_every_message_once(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus(
        RATE_LIMITER_ENABLED="true", RATE_LIMITER_POINTS="40", RATE_LIMITER_DURATION="1"
    )
    await add_client_uid(server)
    ada, grace = demo_users
    paced = await on(server, ada)  # follows the server's budget from /server/info
    blind = await on(server, grace, frame_rate=None)  # learns it the hard way
    tag_paced, tag_blind = marker(), marker()

    async def blind_batch(start: int) -> None:
        await asyncio.gather(
            *(blind.create({"content": f"{tag_blind}{start + i:04d}"}) for i in range(100))
        )

    await asyncio.gather(
        *(paced.create({"content": f"{tag_paced}{i:04d}"}) for i in range(100)),
        blind_batch(0),
    )
    # One create in flight per socket: on a slow machine the replies themselves may
    # pace the blind session under the budget. Send on until the server has
    # dropped some of its frames, so the recovery is always what is tested.
    sent = {tag_paced: 100, tag_blind: 100}
    while blind.stats.get("rate_limited", 0) == 0 and sent[tag_blind] < 1000:
        await blind_batch(sent[tag_blind])
        sent[tag_blind] += 100
    assert paced.stats.get("rate_limited", 0) == 0
    assert blind.stats.get("rate_limited", 0) >= 1, "the server never limited the blind socket"
    for tag, count in sent.items():
        stored = await admin_rows(server, tag)
        assert sorted(r["content"] for r in stored) == [f"{tag}{i:04d}" for i in range(count)]


# -- giving up, coming back; permissions ---------------------------------------------------------


async def test_gave_up_is_visible_and_reconnect_resumes_with_backfill(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    ada, grace = demo_users
    a = await on(server, ada, reconnect_delays=[0.05, 0.05, 0.05])
    tag = marker()
    inbox = Inbox(await a.subscribe("messages", event="create"), tag)
    await asyncio.to_thread(server.kill)
    await wait_until(lambda: a.state is SessionState.GAVE_UP, "giving up")
    assert a.last_error is not None
    with pytest.raises(SessionGaveUp, match="reconnect"):
        await a.create({"content": "x"})
    await asyncio.to_thread(server.start)
    b = await on(server, grace)
    for i in range(5):  # created while Ada is away
        await b.create({"content": f"{tag}{i:04d}"})
    await a.reconnect()
    assert a.state is SessionState.READY
    await wait_until(lambda: len(inbox.contents) >= 5, "the backfill")
    assert in_order(inbox.contents, tag, 5) and inbox.replayed == 5
    await a.create({"content": f"{tag}0005"})
    await wait_until(lambda: len(inbox.contents) >= 6, "a live event after it")
    assert in_order(inbox.contents, tag, 6)


async def test_collection_without_permission_is_forbidden(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus()
    await make_secrets(server)
    a = await on(server, demo_users[0])
    # FORBIDDEN comes without a uid from Directus: still charged to the right request
    with pytest.raises(Forbidden, match="secrets"):
        await a.create({"content": "x"}, collection="secrets")
    with pytest.raises(Forbidden, match="subscribe to secrets"):
        await a.subscribe("secrets", event="create")
    with pytest.raises(Forbidden, match="secrets"):
        await a.read("secrets")
    assert a.state is SessionState.READY
    rows = await asyncio.gather(*(a.create({"content": f"ok{i}"}) for i in range(3)))
    assert len(rows) == 3


async def test_revoked_login_gives_up_and_login_again_resumes(
    make_directus: MakeDirectus, on: SessionFactory, demo_users: list[DemoUser]
) -> None:
    server = make_directus(ACCESS_TOKEN_TTL="3s")
    ada, grace = demo_users
    a = await on(server, ada)
    tag = marker()
    inbox = Inbox(await a.subscribe("messages", event="create"), tag)
    # End Ada's login behind the session's back: its next refresh must fail.
    assert a._conn.auth.tokens is not None
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/auth/logout", json={"refresh_token": a._conn.auth.tokens.refresh_token})
    await wait_until(lambda: a.state is SessionState.GAVE_UP, "giving up on a dead login")
    with pytest.raises(SessionGaveUp, match="login"):
        await a.create({"content": "x"})
    b = await on(server, grace)
    await b.create({"content": f"{tag}0000"})  # while Ada is out
    await a.login(ada.email, ada.password)
    await wait_until(lambda: len(inbox.contents) >= 1, "the backfill after logging in again")
    await a.create({"content": f"{tag}0001"})
    await wait_until(lambda: len(inbox.contents) >= 2, "a live event")
    assert in_order(inbox.contents, tag, 2)
    stored = await admin_rows(server, tag)
    assert all(r["user_created"] for r in stored)
