"""ChatRoom: unit tests against an in-process fake session, then a real Directus.

The fake implements only what the room uses (``subscribe``/``create``/``read``/
``user``) as plain logic over a list of rows; orderings (event before reply,
reply before event) are forced with asyncio events, never with sleeps. The
integration tests at the end use the real RealtimeSession and local Directus.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from support import FAKE_ROOM, TIMEOUT, fake_filter

from directus_chat_widget.chat import MESSAGE_FIELDS, ChatRoom
from directus_chat_widget.chat._authors import EVENT_FIELDS
from directus_chat_widget.errors import Forbidden, RequestTimeout, ServerError, SessionClosed
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.protocol import SubscriptionEvent
from directus_chat_widget.store import ChatMessage, MessageStatus, StoreChange

ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"}


class FakeSubscription:
    def __init__(self, session: FakeSession, collection: str, query: Any, event: Any) -> None:
        self.session = session
        self.collection, self.query, self.event = collection, query, event
        self.listeners: list[Callable[[Any], None]] = []
        self.unsubscribed = False

    def add_listener(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)

    async def unsubscribe(self) -> None:
        if self.session.closed:
            raise SessionClosed("the session is closed")
        self.unsubscribed = True

    def deliver(self, event: str, rows: list[dict[str, Any]], keys: tuple[Any, ...] = ()) -> None:
        frame = SubscriptionEvent("uid-1", event, tuple(rows), keys)  # type: ignore[arg-type]
        for listener in list(self.listeners):
            listener(frame)


class FakeSession:
    """A Directus collection in memory, with the session's API and knobs for orderings."""

    def __init__(self, user: dict[str, Any] | None = ADA) -> None:
        self.user = user
        self.rows: list[dict[str, Any]] = []  # as stored: user_created is a uuid
        self.users = {u["id"]: u for u in (ADA, GRACE)}
        self.calls: list[tuple[str, Any]] = []
        self.lookups: list[list[int]] = []  # rows read for their authors' names
        self.subscriptions: list[FakeSubscription] = []
        self.closed = False
        # knobs
        self.event_before_reply = True  # the order Directus often shows
        self.send_events = True
        self.create_error: BaseException | None = None
        self.create_gate: asyncio.Event | None = None
        self.create_entered = asyncio.Event()
        self.read_error: BaseException | None = None
        self.on_read: Callable[[], None] | None = None
        self.dedupe_field: str | None = None  # what dedupe_field_for answers
        self.store_then_fail: BaseException | None = None  # stored, but the reply is lost

    def dedupe_field_for(self, collection: str | None = None) -> str | None:
        return self.dedupe_field

    # what a reader with the chat's query fields gets back
    def shown(self, stored: dict[str, Any]) -> dict[str, Any]:
        author = stored["user_created"]
        user = self.users.get(author) if author else None
        return {**stored, "user_created": dict(user) if user else None}

    # what a subscriber gets: the author's names only if its query asks for them
    def sent_to(self, subscription: FakeSubscription, stored: dict[str, Any]) -> dict[str, Any]:
        fields = (subscription.query or {}).get("fields") or []
        return self.shown(stored) if "user_created.first_name" in fields else dict(stored)

    def store(
        self, content: str, author: dict[str, Any] | None = GRACE, client_uid: str | None = None
    ) -> dict[str, Any]:
        stored = {
            "client_uid": client_uid,
            "id": len(self.rows) + 1,
            "content": content,
            "date_created": f"2026-11-29T03:00:{len(self.rows) % 60:02d}.000Z",
            "user_created": author["id"] if author else None,
        }
        self.rows.append(stored)
        return stored

    def seed(self, count: int) -> None:
        for n in range(count):
            self.store(f"seed {n + 1}")

    def broadcast(self, stored: dict[str, Any]) -> None:
        for subscription in self.subscriptions:
            if not subscription.unsubscribed:
                subscription.deliver("create", [self.sent_to(subscription, stored)])

    async def subscribe(
        self, collection: str, *, query: dict[str, Any] | None = None, event: Any = None
    ) -> FakeSubscription:
        if collection == "reactions":  # a server without reactions: the room goes on without
            raise Forbidden("no reactions collection here", code="FORBIDDEN")
        self.calls.append(("subscribe", {"collection": collection, "query": query, "event": event}))
        subscription = FakeSubscription(self, collection, query, event)
        self.subscriptions.append(subscription)
        return subscription

    async def read(
        self, collection: str, query: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if collection == "rooms":  # the room's name -> id lookup, not counted as a read
            return [dict(FAKE_ROOM)]
        among = fake_filter(query).get("id", {}).get("_in")
        if among is not None:  # an author's name looked up: not counted either
            self.lookups.append(list(among))
            await asyncio.sleep(0)
            return [self.shown(r) for r in self.rows if r["id"] in among]
        self.calls.append(("read", query))
        if self.read_error is not None:
            raise self.read_error
        if self.on_read is not None:
            self.on_read()
        await asyncio.sleep(0)  # let concurrent callers interleave, as a socket would
        query = query or {}
        rows = self.rows
        wanted = fake_filter(query).get("client_uid", {}).get("_eq")
        if wanted is not None:  # a lookup by client uid, as the room does it
            return [self.shown(r) for r in rows if r["client_uid"] == wanted]
        bound = fake_filter(query).get("id", {}).get("_lt")
        if bound is not None:
            rows = [r for r in rows if r["id"] < bound]
        assert query.get("sort") == ["-id"]
        rows = sorted(rows, key=lambda r: -r["id"])[: query.get("limit", 100)]
        return [self.shown(r) for r in rows]

    async def create(
        self, data: dict[str, Any], *, collection: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(("create", data))
        self.create_entered.set()
        if self.create_gate is not None:
            await self.create_gate.wait()
        if self.create_error is not None:
            raise self.create_error
        uid = data.get("client_uid")
        if uid is not None and any(r["client_uid"] == uid for r in self.rows):
            # What Directus answers for a unique column (no lookup here, unlike
            # RealtimeSession): the room must find the stored row itself.
            raise ServerError(
                'Value for field "client_uid" has to be unique.', code="RECORD_NOT_UNIQUE"
            )
        stored = self.store(data["content"], self.user, uid)
        if self.send_events and self.event_before_reply:
            self.broadcast(stored)
        if self.store_then_fail is not None:
            error, self.store_then_fail = self.store_then_fail, None
            raise error
        return dict(stored)  # the reply names the author by uuid only


class Recorder:
    """An on_change callback that keeps a UI-side copy of the list."""

    def __init__(self, room: ChatRoom) -> None:
        self.room = room
        self.shown: list[ChatMessage] = []
        self.changes: list[StoreChange] = []
        room.on_change(self)

    def __call__(self, change: StoreChange) -> None:
        change.apply_to(self.shown)
        self.changes.append(change)

    def check(self) -> None:
        assert tuple(self.shown) == self.room.messages


def contents(room: ChatRoom) -> list[str]:
    return [message.content for message in room.messages]


@pytest.fixture
def session() -> FakeSession:
    return FakeSession()


# -- open and history -------------------------------------------------------------


async def test_edits_and_deletes_reach_the_list(session: FakeSession) -> None:
    session.seed(3)
    room = ChatRoom(session, page_size=20)
    ui = Recorder(room)
    await room.open()
    (subscription,) = session.subscriptions
    edited = {**session.shown(session.rows[1]), "content": "seed 2, edited"}
    subscription.deliver("update", [edited], (2,))
    assert contents(room) == ["seed 1", "seed 2, edited", "seed 3"]
    subscription.deliver("delete", [], (1, 3, 99))  # 99 was never shown
    assert contents(room) == ["seed 2, edited"]
    assert [change.kind for change in ui.changes] == ["append", "update", "remove"]
    ui.check()


async def test_open_subscribes_first_then_reads_the_latest_page(session: FakeSession) -> None:
    session.seed(45)
    room = ChatRoom(session, page_size=20)
    ui = Recorder(room)
    await room.open()
    kinds = [name for name, _ in session.calls]
    assert kinds == ["subscribe", "read"]
    subscribed = session.calls[0][1]
    assert subscribed["event"] is None and subscribed["collection"] == "messages"  # every kind
    # the room's filter rides on the subscription: the server keeps other rooms out
    in_general = {"room": {"_eq": FAKE_ROOM["id"]}}
    # authors as bare ids: no join per subscriber per event (names come from a cache)
    assert subscribed["query"] == {"fields": list(EVENT_FIELDS), "filter": in_general}
    latest = {"fields": list(MESSAGE_FIELDS), "filter": in_general, "sort": ["-id"], "limit": 20}
    assert session.calls[1][1] == latest
    assert contents(room) == [f"seed {n}" for n in range(26, 46)]
    assert room.messages[0].author_name == "Grace Hopper"
    assert room.has_older and room.is_open
    assert [change.kind for change in ui.changes] == ["append"]
    ui.check()


async def test_a_short_first_page_means_no_older_messages(session: FakeSession) -> None:
    session.seed(7)
    room = ChatRoom(session, page_size=20)
    await room.open()
    assert len(room.messages) == 7 and not room.has_older
    assert await room.load_older() == 0


async def test_an_empty_chat_opens_empty(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    assert room.messages == () and not room.has_older
    assert await room.load_older() == 0


async def test_a_message_created_between_subscribe_and_read_is_shown_once(
    session: FakeSession,
) -> None:
    session.seed(5)
    room = ChatRoom(session)
    ui = Recorder(room)
    # The event reaches the room while its read is in flight; the read sees the row too.
    session.on_read = lambda: session.broadcast(session.store("just now"))
    await room.open()
    every = [*(f"seed {n}" for n in range(1, 6)), "just now"]
    await wait_for(room, lambda: contents(room) == every)
    # Grace's name is not known when the event comes: it waits for a look-up,
    # and the page may be shown first. Either way, once.
    assert [change.kind for change in ui.changes] in (["append"], ["append", "prepend"])
    ui.check()


async def test_load_older_pages_back_to_the_start(session: FakeSession) -> None:
    session.seed(45)
    room = ChatRoom(session, page_size=20)
    ui = Recorder(room)
    await room.open()
    assert await room.load_older() == 20
    assert session.calls[-1][1]["filter"] == {"_and": [{"room": {"_eq": 1}}, {"id": {"_lt": 26}}]}
    assert room.has_older
    assert await room.load_older() == 5
    assert fake_filter(session.calls[-1][1]) == {"room": {"_eq": 1}, "id": {"_lt": 6}}
    assert not room.has_older
    assert contents(room) == [f"seed {n}" for n in range(1, 46)]
    assert [change.kind for change in ui.changes] == ["append", "prepend", "prepend"]
    ui.check()


async def test_an_exactly_full_last_page_ends_with_an_empty_read(session: FakeSession) -> None:
    session.seed(40)
    room = ChatRoom(session, page_size=20)
    await room.open()
    assert await room.load_older() == 20 and room.has_older
    assert await room.load_older() == 0 and not room.has_older
    assert len(room.messages) == 40


async def test_concurrent_load_older_calls_do_not_read_a_page_twice(
    session: FakeSession,
) -> None:
    session.seed(50)
    room = ChatRoom(session, page_size=10)
    await room.open()
    added = await asyncio.gather(room.load_older(), room.load_older())
    assert sorted(added) == [10, 10]
    reads = [query for name, query in session.calls if name == "read"][1:]
    assert [fake_filter(query)["id"]["_lt"] for query in reads] == [41, 31]
    assert contents(room) == [f"seed {n}" for n in range(21, 51)]


async def test_open_failing_leaves_no_subscription_behind(session: FakeSession) -> None:
    session.read_error = Forbidden("You don't have permission to access this.")
    room = ChatRoom(session)
    with pytest.raises(Forbidden):
        await room.open()
    assert session.subscriptions[0].unsubscribed
    assert session.subscriptions[0].listeners == []
    assert not room.is_open
    with pytest.raises(RuntimeError, match="open"):
        await room.load_older()


async def test_lifecycle_misuse_is_refused(session: FakeSession) -> None:
    room = ChatRoom(session)
    with pytest.raises(RuntimeError, match="open"):
        await room.load_older()
    await room.open()
    with pytest.raises(RuntimeError, match="already open"):
        await room.open()
    await room.close()
    await room.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await room.send("hi")
    with pytest.raises(RuntimeError, match="closed"):
        await room.open()


@pytest.mark.parametrize(("page_size", "max_length"), [(0, 10), (10, 0)])
def test_bad_sizes_are_refused(session: FakeSession, page_size: int, max_length: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ChatRoom(session, page_size=page_size, max_length=max_length)


# -- live messages ------------------------------------------------------------------


async def test_messages_from_others_arrive_live(session: FakeSession) -> None:
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    session.broadcast(session.store("hello from Grace"))
    session.broadcast(session.store("anonymous", author=None))
    # Events carry the author as a bare id: Grace's name is read once, with her
    # row; the anonymous message waits behind it, so the order is kept.
    await wait_for(room, lambda: contents(room) == ["hello from Grace", "anonymous"])
    assert [m.author_name for m in room.messages] == ["Grace Hopper", "Unknown User"]
    session.broadcast(session.store("again from Grace"))
    session.broadcast(session.store("from Ada", author=ADA))
    assert contents(room)[-2:] == ["again from Grace", "from Ada"]  # both known: at once
    assert [m.author_name for m in room.messages][-2:] == ["Grace Hopper", "Ada Lovelace"]
    assert session.lookups == [[1]]
    ui.check()


async def test_odd_events_and_malformed_rows_do_not_break_the_room(
    session: FakeSession, caplog: pytest.LogCaptureFixture
) -> None:
    room = ChatRoom(session)
    await room.open()
    subscription = session.subscriptions[0]
    subscription.deliver("delete", [])
    with caplog.at_level(logging.WARNING):
        subscription.deliver("create", [{"id": "x", "content": 5}, {"id": 9, "content": "ok"}])
    assert contents(room) == ["ok"]
    assert any("skipping" in record.getMessage() for record in caplog.records)


async def test_html_is_kept_verbatim(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    html = "<img src=x onerror=alert(1)> &amp; <b>hi</b>"
    sent = await room.send(html)
    assert sent.content == html
    assert session.rows[-1]["content"] == html


async def test_close_stops_events_and_keeps_the_session(session: FakeSession) -> None:
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    await room.close()
    assert session.subscriptions[0].unsubscribed
    session.subscriptions[0].deliver("create", [session.shown(session.store("late"))])
    assert room.messages == () and ui.changes == []
    assert not session.closed


async def test_close_after_the_session_closed_is_quiet(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    session.closed = True
    await room.close()
    assert not room.is_open


async def test_async_with_opens_and_closes(session: FakeSession) -> None:
    session.seed(3)
    async with ChatRoom(session) as room:
        assert room.is_open and len(room.messages) == 3
    assert not room.is_open and session.subscriptions[0].unsubscribed


# -- sending ----------------------------------------------------------------------------


async def test_send_shows_pending_at_once_then_sent(session: FakeSession) -> None:
    session.seed(2)
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    session.create_gate = asyncio.Event()
    task = asyncio.create_task(room.send("  hello  "))
    await session.create_entered.wait()
    pending = room.messages[-1]
    assert (pending.content, pending.status) == ("hello", MessageStatus.PENDING)
    assert pending.author_name == "Ada Lovelace"
    session.create_gate.set()
    sent = await task
    assert sent.key == pending.key
    assert (sent.id, sent.status, sent.author_name) == (3, MessageStatus.SENT, "Ada Lovelace")
    assert session.calls[-1] == ("create", {"content": "hello", "room": 1})  # sent to the room
    assert contents(room) == ["seed 1", "seed 2", "hello"]
    ui.check()


@pytest.mark.parametrize("event_first", [True, False])
async def test_own_message_is_shown_once_whichever_arrives_first(
    session: FakeSession, event_first: bool
) -> None:
    session.event_before_reply = event_first
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    sent = await room.send("hello")
    if not event_first:
        session.broadcast(session.rows[-1])  # the event after the reply
    assert [(m.key, m.id, m.status) for m in room.messages] == [(sent.key, 1, MessageStatus.SENT)]
    assert room.messages[0].author_name == "Ada Lovelace"
    ui.check()


async def test_two_rooms_one_sends_the_other_sees_it_once(session: FakeSession) -> None:
    mine, theirs = ChatRoom(session), ChatRoom(session)
    await mine.open()
    await theirs.open()
    await mine.send("hi both")
    assert contents(mine) == contents(theirs) == ["hi both"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
async def test_a_blank_message_is_refused(session: FakeSession, text: str) -> None:
    room = ChatRoom(session)
    await room.open()
    with pytest.raises(ValueError, match="message is empty"):
        await room.send(text)
    assert room.messages == () and ("create" not in {name for name, _ in session.calls})


async def test_the_length_limit(session: FakeSession) -> None:
    room = ChatRoom(session, max_length=10)
    await room.open()
    with pytest.raises(ValueError, match="limit is 10"):
        await room.send("x" * 11)
    assert room.messages == ()
    sent = await room.send("  " + "x" * 10 + "  ")  # counted after stripping
    assert sent.status is MessageStatus.SENT


async def test_the_default_length_limit_is_5000(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    with pytest.raises(ValueError, match="5000"):
        await room.send("x" * 5001)
    assert (await room.send("x" * 5000)).status is MessageStatus.SENT


async def test_a_refused_send_is_failed_with_the_server_message_then_retried(
    session: FakeSession,
) -> None:
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    session.create_error = Forbidden("You don't have permission to access this.", code="FORBIDDEN")
    failed = await room.send("hello")
    assert failed.status is MessageStatus.FAILED
    assert failed.error == "You don't have permission to access this."
    assert room.messages == (failed,)
    session.create_error = None
    sent = await room.retry(failed.key)
    assert (sent.key, sent.status, sent.error, sent.id) == (failed.key, MessageStatus.SENT, None, 1)
    assert [c.messages[0].status for c in ui.changes] == [
        MessageStatus.PENDING,
        MessageStatus.FAILED,
        MessageStatus.PENDING,
        MessageStatus.SENT,
    ]
    ui.check()


async def test_retry_refuses_what_is_not_failed(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    sent = await room.send("hello")
    with pytest.raises(ValueError, match="only a failed message"):
        await room.retry(sent.key)
    with pytest.raises(KeyError):
        await room.retry("local:nope")


async def test_a_timeout_after_the_event_arrived_keeps_the_message_sent(
    session: FakeSession,
) -> None:
    room = ChatRoom(session)
    await room.open()
    session.create_gate = asyncio.Event()
    task = asyncio.create_task(room.send("hello"))
    await session.create_entered.wait()
    # The server stored it and the event came, but the reply is lost.
    session.broadcast(session.store("hello", ADA))
    session.create_error = RequestTimeout("no reply within 10 s")
    session.create_gate.set()
    message = await task
    assert message.status is MessageStatus.SENT and message.id == 1


async def test_a_cancelled_send_is_marked_failed(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    session.create_gate = asyncio.Event()
    task = asyncio.create_task(room.send("hello"))
    await session.create_entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (message,) = room.messages
    assert (message.status, message.error) == (MessageStatus.FAILED, "send cancelled")


async def test_discard_drops_a_failed_message_only(session: FakeSession) -> None:
    room = ChatRoom(session)
    await room.open()
    session.create_error = Forbidden("nope")
    failed = await room.send("a")
    session.create_error = None
    sent = await room.send("b")
    with pytest.raises(ValueError, match="only a failed message"):
        room.discard(sent.key)
    room.discard(failed.key)
    assert contents(room) == ["b"]
    with pytest.raises(KeyError):
        room.discard(failed.key)


async def test_sending_without_a_known_user_is_confirmed_by_the_reply(
    session: FakeSession,
) -> None:
    session.user = None
    room = ChatRoom(session)
    await room.open()
    sent = await room.send("who")
    assert sent.status is MessageStatus.SENT and len(room.messages) == 1


async def test_retry_reuses_the_client_uid_and_a_duplicate_is_confirmed_by_lookup(
    session: FakeSession,
) -> None:
    session.dedupe_field = "client_uid"
    session.send_events = False  # the event was lost with the reply
    room = ChatRoom(session)
    ui = Recorder(room)
    await room.open()
    session.store_then_fail = RequestTimeout("no reply within 10 s")
    failed = await room.send("hello")
    assert failed.status is MessageStatus.FAILED and len(session.rows) == 1
    sent = await room.retry(failed.key)
    creates = [data for name, data in session.calls if name == "create"]
    assert len(creates) == 2 and creates[0] == creates[1]
    uid = creates[0]["client_uid"]
    assert str(uuid.UUID(uid)) == uid
    lookup = session.calls[-1]
    assert lookup[0] == "read" and lookup[1]["filter"] == {"client_uid": {"_eq": uid}}
    assert (sent.key, sent.status, sent.id, sent.error) == (failed.key, MessageStatus.SENT, 1, None)
    assert sent.author_name == "Ada Lovelace"
    assert len(session.rows) == 1 and contents(room) == ["hello"]
    ui.check()


async def test_each_message_gets_its_own_client_uid(session: FakeSession) -> None:
    session.dedupe_field = "client_uid"
    room = ChatRoom(session)
    await room.open()
    session.create_error = RequestTimeout("no reply")
    first = await room.send("one")
    session.create_error = None
    await room.send("two")
    await room.retry(first.key)
    uids = [data["client_uid"] for name, data in session.calls if name == "create"]
    assert uids[0] == uids[2] != uids[1]
    assert sorted(contents(room)) == ["one", "two"] and len(session.rows) == 2


async def test_a_duplicate_that_cannot_be_found_stays_failed(session: FakeSession) -> None:
    session.dedupe_field = "client_uid"
    room = ChatRoom(session)
    await room.open()
    session.create_error = ServerError("not unique", code="RECORD_NOT_UNIQUE")
    failed = await room.send("hello")
    assert (failed.status, failed.error) == (MessageStatus.FAILED, "not unique")
    assert session.calls[-1][0] == "read"  # it was looked for


async def test_without_a_dedupe_field_no_client_uid_is_sent(session: FakeSession) -> None:
    room = ChatRoom(session)  # the fake's dedupe_field is None: a collection without it
    await room.open()
    session.create_error = RequestTimeout("no reply")
    failed = await room.send("hello")
    session.create_error = None
    await room.retry(failed.key)
    creates = [data for name, data in session.calls if name == "create"]
    assert creates == [{"content": "hello", "room": 1}, {"content": "hello", "room": 1}]


async def test_the_session_offers_its_dedupe_field_until_the_collection_lacks_it() -> None:
    session_module = pytest.importorskip("directus_chat_widget.session")
    live = session_module.RealtimeSession("http://127.0.0.1:9")
    plain = session_module.RealtimeSession("http://127.0.0.1:9", dedupe_field=None)
    try:
        assert live.dedupe_field_for("messages") == "client_uid"
        live._conn.known.dedupe_works("messages", False)  # what a reply without it teaches
        assert live.dedupe_field_for("messages") is None
        assert live.dedupe_field_for("other") == "client_uid"
        assert plain.dedupe_field_for() is None
    finally:
        await live.close()
        await plain.close()


# -- callbacks --------------------------------------------------------------------------


async def test_a_raising_callback_is_logged_and_the_others_still_run(
    session: FakeSession, caplog: pytest.LogCaptureFixture
) -> None:
    room = ChatRoom(session)

    def broken(change: StoreChange) -> None:
        raise RuntimeError("UI bug")

    room.on_change(broken)
    ui = Recorder(room)
    await room.open()
    with caplog.at_level(logging.ERROR, logger="directus_chat_widget.chat"):
        sent = await room.send("still works")
    assert sent.status is MessageStatus.SENT
    assert len(ui.changes) == 2
    assert any("callback raised" in r.getMessage() and r.exc_info for r in caplog.records)
    ui.check()


async def test_a_removed_callback_is_not_called(session: FakeSession) -> None:
    room = ChatRoom(session)
    seen: list[StoreChange] = []
    remove = room.on_change(seen.append)
    await room.open()
    session.broadcast(session.store("one", author=ADA))
    remove()
    remove()  # twice is harmless
    session.broadcast(session.store("two", author=ADA))
    assert len(seen) == 1 and contents(room) == ["one", "two"]


# -- integration: the real RealtimeSession against a local Directus -----------------------


async def wait_for(room: ChatRoom, condition: Callable[[], bool]) -> None:
    """Wait (at most TIMEOUT) until ``condition()`` holds after some change to ``room``."""
    if condition():
        return
    met = asyncio.Event()

    def check(change: StoreChange) -> None:
        if condition():
            met.set()

    remove = room.on_change(check)
    try:
        await asyncio.wait_for(met.wait(), TIMEOUT)
    finally:
        remove()


def with_content(room: ChatRoom, text: str) -> list[ChatMessage]:
    return [message for message in room.messages if message.content == text]


@pytest.fixture
async def ada_and_grace(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> AsyncIterator[tuple[Any, Any]]:
    session_module = pytest.importorskip("directus_chat_widget.session")
    sessions = []
    try:
        for user in demo_users[:2]:
            live = session_module.RealtimeSession(directus.url)
            sessions.append(live)
            await live.login(user.email, user.password)
        yield sessions[0], sessions[1]
    finally:
        for live in sessions:
            await live.close()


@pytest.mark.integration
async def test_real_two_rooms_one_sends_the_other_sees_it_once(
    ada_and_grace: tuple[Any, Any], demo_users: list[DemoUser]
) -> None:
    ada, grace = ada_and_grace
    text, marker = f"hello {uuid.uuid4()}", f"marker {uuid.uuid4()}"
    async with ChatRoom(ada) as mine, ChatRoom(grace) as theirs:
        sent = await mine.send(text)
        assert sent.status is MessageStatus.SENT and sent.id is not None
        # Events arrive in order on one socket: once the marker is in, any
        # duplicate of the first message would be too.
        await mine.send(marker)
        await wait_for(theirs, lambda: bool(with_content(theirs, marker)))
        await wait_for(mine, lambda: mine.messages[-1].id is not None)
        for room in (mine, theirs):
            (seen,) = with_content(room, text)
            assert seen.id == sent.id and seen.status is MessageStatus.SENT
            expected = f"{demo_users[0].first_name} {demo_users[0].last_name}"
            assert seen.author_name == expected
            assert seen.created_at is not None and seen.created_at.utcoffset() == timedelta(0)
            ids = [message.id for message in room.messages if message.id is not None]
            assert len(ids) == len(room.messages)  # nothing left pending
            assert ids == sorted(set(ids))  # ascending, no duplicates
        assert with_content(mine, text)[0].key == sent.key


@pytest.mark.integration
async def test_real_latest_page_then_older_pages_to_the_start(
    ada_and_grace: tuple[Any, Any],
) -> None:
    ada, grace = ada_and_grace
    tag = uuid.uuid4().hex[:8]
    seeded = [f"seed {tag} {n:02d}" for n in range(1, 46)]
    for text in seeded:
        await ada.create({"content": text})
    async with ChatRoom(grace, page_size=20) as room:
        assert contents(room) == seeded[25:]
        assert room.has_older
        pages = 0
        while room.has_older:
            pages += 1
            await room.load_older()
            assert pages < 1000
        shown = [message.id for message in room.messages]
        assert room.room is not None
        in_room = {"room": {"_eq": room.room.id}}  # other tests post in other rooms too
        everything = await grace.read(
            "messages", {"fields": ["id"], "filter": in_room, "sort": ["id"], "limit": -1}
        )
        assert shown == [row["id"] for row in everything]
        assert [c for c in contents(room) if tag in c] == seeded


@pytest.mark.integration
async def test_real_html_stays_verbatim(ada_and_grace: tuple[Any, Any]) -> None:
    ada, grace = ada_and_grace
    html = f'<script>alert("{uuid.uuid4()}")</script> <b>bold</b> &amp; &lt;'
    async with ChatRoom(ada) as mine, ChatRoom(grace) as theirs:
        sent = await mine.send(html)
        await wait_for(theirs, lambda: bool(with_content(theirs, html)))
        assert sent.content == html
        stored = await grace.read("messages", {"filter": {"id": {"_eq": sent.id}}})
        assert stored[0]["content"] == html


class LostReplies:
    """A real RealtimeSession whose first create is stored but answered with a timeout.

    Fault injection on our side of the socket, not a fake Directus: the row is
    really stored. Events are dropped too (as if lost with the reply), so the
    room cannot learn from its subscription that the send went through.
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        self.creates: list[dict[str, Any]] = []
        self.stored: list[dict[str, Any]] = []

    @property
    def user(self) -> Any:
        return self.session.user

    def dedupe_field_for(self, collection: str | None = None) -> str | None:
        field: str | None = self.session.dedupe_field_for(collection)
        return field

    async def subscribe(self, collection: str, **kwargs: Any) -> Any:
        subscription = await self.session.subscribe(collection, **kwargs)

        class Deaf:
            def add_listener(self, callback: Any) -> None:
                return None  # every event is lost

            async def unsubscribe(self) -> None:
                await subscription.unsubscribe()

        return Deaf()

    async def create(
        self, data: dict[str, Any], *, collection: str | None = None
    ) -> dict[str, Any]:
        self.creates.append(dict(data))
        row: dict[str, Any] = await self.session.create(data, collection=collection)
        if not self.stored:
            self.stored.append(row)
            raise RequestTimeout("no reply (lost on purpose by the test)")
        return row

    async def read(self, collection: str, query: dict[str, Any] | None = None) -> Any:
        return await self.session.read(collection, query)


@pytest.mark.integration
async def test_real_retry_of_a_stored_send_is_not_stored_twice(
    ada_and_grace: tuple[Any, Any],
) -> None:
    ada, _ = ada_and_grace
    lossy = LostReplies(ada)
    text = f"once {uuid.uuid4()}"
    async with ChatRoom(lossy) as room:
        failed = await room.send(text)
        assert failed.status is MessageStatus.FAILED
        (first,) = lossy.stored
        sent = await room.retry(failed.key)
    uid = lossy.creates[0]["client_uid"]
    assert [data["client_uid"] for data in lossy.creates] == [uid, uid]
    assert (sent.status, sent.id, sent.key) == (MessageStatus.SENT, first["id"], failed.key)
    query = {"filter": {"content": {"_eq": text}}, "fields": ["id", "client_uid"]}
    assert await ada.read("messages", query) == [{"id": first["id"], "client_uid": uid}]


@pytest.mark.integration
async def test_real_create_with_a_stored_client_uid_answers_the_stored_row(
    ada_and_grace: tuple[Any, Any],
) -> None:
    ada, _ = ada_and_grace
    uid, text = str(uuid.uuid4()), f"dup {uuid.uuid4()}"
    stored = await ada.create({"content": text, "client_uid": uid})
    # Directus refuses the copy (RECORD_NOT_UNIQUE, no uid on the error); the
    # session looks the row up by client_uid and answers with it.
    again = await ada.create({"content": text, "client_uid": uid})
    assert again["id"] == stored["id"] and again["client_uid"] == uid
    rows = await ada.read("messages", {"filter": {"client_uid": {"_eq": uid}}, "fields": ["id"]})
    assert rows == [{"id": stored["id"]}]
