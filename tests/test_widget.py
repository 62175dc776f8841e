"""ChatWidget and its parts as widget models: no browser, no kernel, no server.

ipywidgets falls back to a dummy comm without a kernel, so the models work in
plain pytest. What the browser would receive is captured by replacing the
message list's ``send``; what the browser would send is fed to
``_handle_custom_msg``. The session is an in-process fake (pure UI logic
only: test_widget_integration.py runs the same paths against a real Directus).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets
import pytest
from ipywidgets.widgets.widget import _instances
from support import FAKE_ROOM, TIMEOUT, LoopThread, fake_filter

from directus_chat_widget.chat import Presence
from directus_chat_widget.errors import (
    ConfigError,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    RegistrationClosed,
    RegistrationRefused,
    ServerError,
    ServerUnreachable,
)
from directus_chat_widget.protocol import SubscriptionEvent
from directus_chat_widget.rest import Registration
from directus_chat_widget.session import SessionState
from directus_chat_widget.store import ChatMessage, MessageStatus, MessageStore, StoreChange
from directus_chat_widget.widget import (
    FILL_IN_ALL_FIELDS,
    INVALID_CREDENTIALS,
    ChatWidget,
    MessageForm,
    MessageList,
    describe,
    first_name,
)

ADA = {"id": "u-ada", "first_name": "Ada", "last_name": "Lovelace"}
GRACE = {"id": "u-grace", "first_name": "Grace", "last_name": "Hopper"}
PASSWORD = "correct horse battery staple"
XSS = "<img src=x onerror=alert(1)>"


# -- a fake session: the UI logic needs its behaviour, not a server --------------------


class FakeSubscription:
    def __init__(self) -> None:
        self.listeners: list[Callable[[Any], None]] = []

    def add_listener(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)

    async def unsubscribe(self) -> None:
        self.listeners.clear()


class FakeSession:
    """A logged-in-or-not session over a list of rows, with knobs for failures."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self._state = SessionState.IDLE
        self._listeners: list[Callable[[SessionState], None]] = []
        self.user: dict[str, Any] | None = None
        self.logged_out = False
        self.closed = False

    @property
    def state(self) -> SessionState:
        return self._state

    def set_state(self, state: SessionState) -> None:
        self._state = state
        for callback in list(self._listeners):
            callback(state)

    def on_state_change(self, callback: Callable[[SessionState], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    async def login(self, email: str, password: str) -> None:
        self.server.logins.append(email)
        self.server.login_threads.append(threading.current_thread().name)
        self.set_state(SessionState.CONNECTING)
        if self.server.login_gate is not None:
            await self.server.login_gate.wait()
        if self.server.login_error is not None:
            self.set_state(SessionState.IDLE)
            raise self.server.login_error
        if self.server.accounts.get(email) != password:
            self.set_state(SessionState.IDLE)
            raise InvalidCredentials("Invalid user credentials.", code="INVALID_CREDENTIALS")
        self.user = dict(self.server.users[email])
        self.set_state(SessionState.READY)

    async def reconnect(self) -> None:
        self.set_state(SessionState.READY)

    async def logout(self) -> None:
        self.logged_out = True
        await self.close()

    async def close(self) -> None:
        self.closed = True
        self.set_state(SessionState.CLOSED)

    async def subscribe(
        self, collection: str, *, query: Any = None, event: Any = None
    ) -> FakeSubscription:
        subscription = FakeSubscription()
        self.server.subscriptions.append(subscription)
        return subscription

    async def read(self, collection: str, query: dict[str, Any] | None = None) -> list[Any]:
        if self.server.read_error is not None:
            raise self.server.read_error
        if collection == "rooms":
            return [dict(FAKE_ROOM)]
        if collection == "presence":  # as a server without presence rows answers
            raise Forbidden("no collection presence here", code="FORBIDDEN")
        query = query or {}
        bound = fake_filter(query).get("id", {}).get("_lt")
        rows = [r for r in self.server.rows if bound is None or r["id"] < bound]
        rows = sorted(rows, key=lambda r: -r["id"])[: query.get("limit", 100)]
        return [self.server.shown(r) for r in rows]

    async def create(
        self, data: dict[str, Any], *, collection: str | None = None
    ) -> dict[str, Any]:
        if self.server.create_errors:
            raise self.server.create_errors.pop(0)
        assert self.user is not None
        stored = self.server.store(data["content"], self.user)
        self.server.broadcast(stored)
        return dict(stored)


class FakeServer:
    def __init__(self) -> None:
        self.accounts = {"ada@example.com": PASSWORD, "grace@example.com": "grace-pw"}
        self.users = {"ada@example.com": ADA, "grace@example.com": GRACE}
        self.rows: list[dict[str, Any]] = []
        self.subscriptions: list[FakeSubscription] = []
        self.sessions: list[FakeSession] = []
        self.logins: list[str] = []
        self.login_threads: list[str] = []
        self.login_error: BaseException | None = None
        self.login_gate: asyncio.Event | None = None
        self.read_error: BaseException | None = None
        self.create_errors: list[BaseException] = []

    def session(self) -> FakeSession:
        session = FakeSession(self)
        self.sessions.append(session)
        return session

    def shown(self, stored: dict[str, Any]) -> dict[str, Any]:
        author = next((u for u in self.users.values() if u["id"] == stored["user_created"]), None)
        return {**stored, "user_created": dict(author) if author else None}

    def store(self, content: str, author: dict[str, Any] | None = GRACE) -> dict[str, Any]:
        stored = {
            "id": len(self.rows) + 1,
            "content": content,
            "date_created": f"2026-11-29T03:{len(self.rows) // 60 % 60:02d}:"
            f"{len(self.rows) % 60:02d}.000Z",
            "user_created": author["id"] if author else None,
        }
        self.rows.append(stored)
        return stored

    def broadcast(self, stored: dict[str, Any]) -> None:
        event = SubscriptionEvent("uid", "create", (self.shown(stored),), ())
        for subscription in list(self.subscriptions):
            for listener in list(subscription.listeners):
                listener(event)

    def post(self, content: str, author: dict[str, Any] = GRACE) -> dict[str, Any]:
        """Someone else writes: stored, then the event goes to every subscriber."""
        stored = self.store(content, author)
        self.broadcast(stored)
        return stored


class FakeRegistrar:
    """Sign-up into a FakeServer, answering as Directus 11.17.4 was measured to."""

    def __init__(self, server: FakeServer, *, allowed: bool = True, verify: bool = False) -> None:
        self.server = server
        self.allowed = allowed
        self.verify = verify
        self.asked = 0

    async def registration(self) -> Registration:
        self.asked += 1
        return Registration(allowed=self.allowed, verify_email=self.verify)

    async def register(self, email: str, password: str, *, first_name: str = "") -> None:
        if not self.allowed:
            raise RegistrationClosed("this server does not let people sign up", code="FORBIDDEN")
        if not password:
            raise RegistrationRefused(
                'Invalid payload. "password" is not allowed to be empty.', code="INVALID_PAYLOAD"
            )
        if email in self.server.accounts:
            return  # a taken email: the same empty answer, nothing changes
        self.server.accounts[email] = password
        self.server.users[email] = {"id": f"u-{email}", "first_name": first_name, "last_name": ""}


class Browser:
    """Records what the message list sends to the browser; plays the browser's side."""

    def __init__(self, message_list: MessageList, monkeypatch: pytest.MonkeyPatch) -> None:
        self.list = message_list
        self.sent: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        monkeypatch.setattr(message_list, "send", self._record)

    def _record(self, content: dict[str, Any], buffers: Any = None) -> None:
        raw = json.dumps(content)  # what goes over the comm must be JSON
        self.sizes.append(len(raw))
        self.sent.append(json.loads(raw))

    def say(self, content: dict[str, Any]) -> None:
        self.list._handle_custom_msg(content, [])

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.sent if message["type"] == kind]

    def clear(self) -> None:
        self.sent.clear()
        self.sizes.clear()


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def registrar(server: FakeServer) -> FakeRegistrar:
    return FakeRegistrar(server)


@pytest.fixture
def chat(server: FakeServer, registrar: FakeRegistrar) -> Iterator[ChatWidget]:
    widget = ChatWidget(session_factory=server.session, page_size=10, registrar=registrar)
    yield widget
    widget.close()


@pytest.fixture
def browser(chat: ChatWidget, monkeypatch: pytest.MonkeyPatch) -> Browser:
    return Browser(chat.message_list, monkeypatch)


def browser_login(chat: ChatWidget, email: str, password: str) -> None:
    """What the login view sends when Login is pressed (or Enter in a field)."""
    content = {"type": "submit", "email": email, "password": password}
    chat.login_form._handle_custom_msg(content, [])


async def click_login(chat: ChatWidget, email: str, password: str) -> None:
    browser_login(chat, email, password)
    await chat.settle()


async def logged_in(chat: ChatWidget) -> ChatWidget:
    await click_login(chat, "ada@example.com", PASSWORD)
    assert chat.stage == "chat", chat.login_form.error
    return chat


def connection(chat: ChatWidget) -> str:
    """What the status line says now."""
    return str(chat.status_bar.connection)


def contents(chat: ChatWidget) -> list[str]:
    return [message.content for message in chat.messages]


def all_widget_states() -> str:
    """Every live widget's synced state, as the browser would get it."""
    return json.dumps([w.get_state() for w in list(_instances.values())], default=str)


# -- login form ----------------------------------------------------------------------


@pytest.mark.parametrize(("email", "password"), [("", PASSWORD), ("ada@example.com", ""), ("", "")])
async def test_an_empty_field_asks_to_fill_in_all_fields(
    chat: ChatWidget, server: FakeServer, email: str, password: str
) -> None:
    await click_login(chat, email, password)
    assert chat.login_form.error == FILL_IN_ALL_FIELDS
    assert chat.login_form.get_state()["error"] == FILL_IN_ALL_FIELDS  # what the view shows
    assert server.logins == []  # nothing was tried
    assert chat.stage == "login"


async def test_wrong_password_says_invalid_email_or_password(
    chat: ChatWidget, server: FakeServer
) -> None:
    await click_login(chat, "ada@example.com", "wrong")
    assert chat.login_form.error == INVALID_CREDENTIALS
    assert chat.stage == "login" and not chat.is_logged_in
    assert server.sessions[0].closed  # the failed session is not left open
    assert not chat.login_form.busy
    assert chat.login_form.email == "ada@example.com"  # kept for the next try


async def test_an_unreachable_server_gets_its_own_message(
    chat: ChatWidget, server: FakeServer
) -> None:
    server.login_error = ServerUnreachable("connection refused")
    await click_login(chat, "ada@example.com", PASSWORD)
    error = chat.login_form.error
    assert error != INVALID_CREDENTIALS
    assert "Cannot reach the Directus server" in error
    assert chat.stage == "login"


async def test_programmatic_login_raises_and_shows_the_same_message(
    chat: ChatWidget, server: FakeServer
) -> None:
    with pytest.raises(InvalidCredentials):
        await chat.login("ada@example.com", "wrong")
    assert chat.login_form.error == INVALID_CREDENTIALS


async def test_the_button_is_disabled_while_logging_in(
    chat: ChatWidget, server: FakeServer
) -> None:
    server.login_gate = asyncio.Event()
    browser_login(chat, "ada@example.com", PASSWORD)
    while not server.logins:
        await asyncio.sleep(0)
    assert chat.login_form.busy
    assert connection(chat) == "connecting"
    assert not chat.status_bar.logged_in  # no Logout while the login runs
    browser_login(chat, "ada@example.com", PASSWORD)  # a second submit while busy does nothing
    server.login_gate.set()
    await chat.settle()
    assert server.logins == ["ada@example.com"]
    assert not chat.login_form.busy
    assert chat.stage == "chat" and chat.status_bar.logged_in


async def test_a_malformed_login_message_is_ignored(chat: ChatWidget, server: FakeServer) -> None:
    chat.login_form._handle_custom_msg({"type": "submit", "email": "ada@example.com"}, [])
    chat.login_form._handle_custom_msg({"type": "submit", "email": 1, "password": 2}, [])
    chat.login_form._handle_custom_msg(["submit"], [])
    await chat.settle()
    assert server.logins == [] and chat.login_form.error == ""


async def test_login_error_text_is_shown_as_text(chat: ChatWidget, server: FakeServer) -> None:
    server.login_error = ServerError("<b>boom</b>", code="X")
    await click_login(chat, "ada@example.com", PASSWORD)
    # A sentence for people around the server's words, which stay text (the view
    # sets it with textContent).
    assert chat.login_form.error == "The server refused this while logging in: <b>boom</b>."


# -- sign-up -------------------------------------------------------------------------


def browser_register(chat: ChatWidget, name: str, email: str, password: str) -> None:
    """What the view sends when "Create account" is pressed."""
    content = {"type": "register", "name": name, "email": email, "password": password}
    chat.login_form._handle_custom_msg(content, [])


async def test_signup_is_offered_only_when_the_server_allows_it(
    server: FakeServer, registrar: FakeRegistrar
) -> None:
    chat = ChatWidget(session_factory=server.session, registrar=registrar)
    await chat.settle()  # made inside a running loop: it asked the server by itself
    assert registrar.asked == 1 and chat.login_form.can_register
    chat.login_form.mode = "register"
    registrar.allowed = False
    assert not await chat.check_signup()
    assert not chat.login_form.can_register and chat.login_form.mode == "login"
    chat.login_form.mode = "register"  # the view cannot switch to a mode not offered
    assert chat.login_form.mode == "login"
    browser_register(chat, "Newt", "newt@example.com", "newt-pw")
    await chat.settle()
    assert "newt@example.com" not in server.accounts
    chat.close()


def test_without_a_url_or_registrar_there_is_no_signup(server: FakeServer) -> None:
    chat = ChatWidget(session_factory=server.session)
    assert not chat.login_form.can_register
    chat.close()


async def test_creating_an_account_by_form_logs_in_with_it(
    chat: ChatWidget, server: FakeServer
) -> None:
    await chat.check_signup()
    chat.login_form.mode = "register"
    browser_register(chat, " Newt ", " newt@example.com ", "newt-pw")
    await chat.settle()
    assert server.accounts["newt@example.com"] == "newt-pw"
    assert chat.stage == "chat" and chat.user is not None
    assert chat.user["first_name"] == "Newt"
    assert chat.login_form.mode == "login" and chat.login_form.error == ""


@pytest.mark.parametrize(
    ("email", "password", "shown"),
    [
        ("", "pw", FILL_IN_ALL_FIELDS),
        ("newt@example.com", "", FILL_IN_ALL_FIELDS),
    ],
)
async def test_an_empty_signup_field_asks_to_fill_in(
    chat: ChatWidget, server: FakeServer, email: str, password: str, shown: str
) -> None:
    await chat.check_signup()
    browser_register(chat, "Newt", email, password)
    await chat.settle()
    assert chat.login_form.error == shown and chat.stage == "login"


async def test_signup_errors_are_shown_in_the_form_and_raised(
    chat: ChatWidget, server: FakeServer, registrar: FakeRegistrar
) -> None:
    await chat.check_signup()
    with pytest.raises(RegistrationRefused):
        await chat.register("newt@example.com", "")
    assert '"password" is not allowed to be empty' in chat.login_form.error
    with pytest.raises(EmailTaken):
        await chat.register("ada@example.com", "not Ada's password")
    assert "An account with this email exists already" in chat.login_form.error
    assert server.accounts["ada@example.com"] == PASSWORD and chat.stage == "login"
    registrar.allowed = False
    with pytest.raises(RegistrationClosed):
        await chat.register("newt@example.com", "newt-pw")
    assert "does not let people sign up" in chat.login_form.error
    assert not chat.login_form.can_register and not chat.login_form.busy


async def test_with_email_verification_the_form_says_to_follow_the_link(
    chat: ChatWidget, server: FakeServer, registrar: FakeRegistrar
) -> None:
    registrar.verify = True
    await chat.check_signup()
    await chat.register("newt@example.com", "newt-pw", "Newt")
    assert chat.stage == "login" and "Follow the link" in chat.login_form.error
    assert server.logins == [] and chat.login_form.email == "newt@example.com"


async def test_registering_while_logged_in_is_refused(chat: ChatWidget) -> None:
    await logged_in(chat)
    with pytest.raises(RuntimeError, match="already logged in"):
        await chat.register("newt@example.com", "newt-pw")


# -- secrets ---------------------------------------------------------------------------


async def test_no_secret_in_any_synced_state_or_message(
    chat: ChatWidget, server: FakeServer, browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="directus_chat_widget")
    await click_login(chat, "ada@example.com", "a wrong secret")
    assert "a wrong secret" not in all_widget_states()
    await chat.check_signup()
    browser_register(chat, "Ada", "ada@example.com", "sign-up secret")
    await chat.settle()
    assert "sign-up secret" not in all_widget_states()
    assert "sign-up from the form failed" in caplog.text and "sign-up secret" not in caplog.text
    await click_login(chat, "ada@example.com", PASSWORD)
    assert chat.stage == "chat"
    await chat.send_message("hi")
    states = all_widget_states()
    assert PASSWORD not in states and "a wrong secret" not in states
    assert PASSWORD not in json.dumps(browser.sent)
    # The check itself can fail: a secret put in a widget is found.
    probe = ipywidgets.Text(value=PASSWORD)
    try:
        assert PASSWORD in all_widget_states()
    finally:
        probe.close()


# -- showing the chat ---------------------------------------------------------------------


async def test_login_shows_the_latest_page_and_who_is_logged_in(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    for n in range(25):
        server.store(f"old {n}", GRACE)
    await logged_in(chat)
    assert [m.content for m in chat.messages] == [f"old {n}" for n in range(15, 25)]
    shown = (chat.room_bar, chat.message_list, chat.presence_bar, chat.message_form)
    assert chat.children[1:5] == shown
    await chat.settle()  # presence is tried, refused by this server, and left out
    assert not chat.presence_bar.active and chat.presence == Presence() and not chat.last_error
    assert chat.room == chat.room_bar.current == "general"
    await chat.settle()  # the switcher's list of rooms is read after login
    assert chat.room_bar.rooms == ["general"]
    assert connection(chat) == "connected"
    assert chat.status_bar.user == "Ada Lovelace" and chat.status_bar.logged_in
    assert chat.user == ADA
    assert not chat.message_form.disabled
    first_page = browser.of_type("change")[-1]
    assert first_page["kind"] == "append" and len(first_page["messages"]) == 10
    assert first_page["older"] is True and first_page["first"] == "id:16"
    shown = first_page["messages"][0]
    assert shown["author"] == "Grace" and shown["own"] is False
    assert shown["time"] == "2026-11-29T03:00:15Z"
    assert [m["next"] for m in first_page["messages"]] == [f"id:{n}" for n in range(17, 26)] + [
        None
    ]


async def test_sending_shows_pending_then_sent_one_message_at_a_time(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    for n in range(5):
        server.store(f"old {n}")
    await logged_in(chat)
    browser.clear()
    chat.message_form.submit("hello")
    await chat.settle()
    changes = browser.of_type("change")
    assert [c["kind"] for c in changes] == ["append", "update"]
    for change in changes:
        assert [m["text"] for m in change["messages"]] == ["hello"]  # only that message
    pending, sent = changes[0]["messages"][0], changes[1]["messages"][0]
    assert pending["status"] == "pending" and pending["own"] and pending["time"] is None
    assert sent["status"] == "sent" and sent["key"] == pending["key"] and sent["time"]
    assert sent["author"] == "Ada" and sent["next"] is None
    assert chat.messages[-1].status is MessageStatus.SENT


async def test_a_message_from_someone_else_arrives_as_one_append(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    for n in range(30):
        server.store(f"old {n}")
    await logged_in(chat)
    browser.clear()
    server.post("hi Ada", GRACE)
    (change,) = browser.sent
    assert change["type"] == "change" and change["kind"] == "append"
    assert [m["text"] for m in change["messages"]] == ["hi Ada"]
    assert browser.sizes[0] < 600  # one message, not the list


async def test_markup_stays_text_in_the_payload(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    await logged_in(chat)
    server.post(XSS, GRACE)
    await chat.send_message(XSS)
    texts = [m["text"] for c in browser.of_type("change") for m in c["messages"]]
    assert texts.count(XSS) >= 2  # verbatim: neither escaped nor stripped
    assert [m.content for m in chat.messages] == [XSS, XSS]


async def test_blank_text_is_ignored(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    await logged_in(chat)
    browser.clear()
    assert chat.message_form.submit("   \n ") is False
    chat.message_form._handle_custom_msg({"type": "submit", "text": "  "}, [])
    await chat.settle()
    assert browser.sent == [] and server.rows == []


async def test_the_browser_form_sends_its_text(chat: ChatWidget, server: FakeServer) -> None:
    await logged_in(chat)
    chat.message_form._handle_custom_msg({"type": "submit", "text": "typed"}, [])
    await chat.settle()
    assert [r["content"] for r in server.rows] == ["typed"]


async def test_a_failed_send_shows_failed_and_retry_sends_it(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    await logged_in(chat)
    server.create_errors.append(ServerError("nope", code="X"))
    browser.clear()
    message = await chat.send_message("again")
    assert message.status is MessageStatus.FAILED
    failed = browser.of_type("change")[-1]["messages"][0]
    assert failed["status"] == "failed" and failed["error"] == "nope"
    browser.say({"type": "retry", "key": failed["key"]})
    await chat.settle()
    statuses = [c["messages"][0]["status"] for c in browser.of_type("change")]
    assert statuses[-2:] == ["pending", "sent"]
    assert [r["content"] for r in server.rows] == ["again"]


async def test_discard_drops_a_failed_message(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    await logged_in(chat)
    server.create_errors.append(ServerError("nope", code="X"))
    failed = await chat.send_message("drop me")
    browser.say({"type": "discard", "key": failed.key})
    assert browser.of_type("remove")[-1]["keys"] == [failed.key]
    assert chat.messages == ()


async def test_on_message_hears_news_not_history_and_own_only_when_asked(
    chat: ChatWidget, server: FakeServer
) -> None:
    server.store("history")
    heard: list[str] = []
    everything: list[str] = []

    def hear(message: ChatMessage) -> None:
        heard.append(message.content)

    def hear_all(message: ChatMessage) -> None:
        everything.append(message.content)

    chat.on_message(hear)
    chat.on_message(hear_all, include_own=True)
    await logged_in(chat)
    server.post("from Grace")
    await chat.send_message("from Ada")
    assert heard == ["from Grace"]
    assert everything == ["from Grace", "from Ada"]


async def test_on_message_ignores_an_old_row_that_comes_back_with_a_new_one(
    chat: ChatWidget, server: FakeServer
) -> None:
    for n in range(25):
        server.store(f"old {n}")
    heard: list[str] = []
    chat.on_message(lambda message: heard.append(message.content))
    await logged_in(chat)  # shows old 15..24
    newer = server.store("new")
    # A replay (after a reconnect) may carry a row from before the first page.
    event = SubscriptionEvent(
        "uid", "create", (server.shown(server.rows[2]), server.shown(newer)), ()
    )
    for subscription in server.subscriptions:
        for listener in list(subscription.listeners):
            listener(event)
    assert heard == ["new"]
    assert contents(chat)[0] == "old 2"


async def test_a_failing_on_message_callback_is_shown_not_lost(
    chat: ChatWidget, server: FakeServer
) -> None:
    def broken(message: ChatMessage) -> None:
        raise ZeroDivisionError("callback bug")

    chat.on_message(broken)
    await logged_in(chat)
    server.post("hi")
    assert "callback bug" in chat.last_error
    assert chat.notice.layout.display is None


async def test_send_before_login_is_refused_at_once(chat: ChatWidget) -> None:
    with pytest.raises(RuntimeError, match="not logged in"):
        chat.send_message("hello")  # no await needed to hear about it


async def test_send_message_goes_out_without_await(chat: ChatWidget, server: FakeServer) -> None:
    await logged_in(chat)
    pending = chat.send_message("fire and forget")  # a forgotten await still sends
    await chat.settle()
    await asyncio.sleep(0)
    assert [row["content"] for row in server.rows] == ["fire and forget"]
    message = await pending
    assert message.status is MessageStatus.SENT


async def test_send_message_refuses_blank_and_too_long_at_once(chat: ChatWidget) -> None:
    await logged_in(chat)
    with pytest.raises(ValueError, match="empty"):
        chat.send_message("   ")
    with pytest.raises(ValueError, match="too long"):
        chat.send_message("x" * 5001)
    assert chat.messages == ()


def test_chat_text_given_to_ipywidgets_send_is_refused(chat: ChatWidget) -> None:
    with pytest.raises(TypeError, match="send_message"):
        chat.send("hello")


def test_widget_send_with_a_dict_still_reaches_the_browser(
    chat: ChatWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[Any] = []
    monkeypatch.setattr(chat.comm, "publish_msg", lambda *a, **k: published.append(k["data"]))
    assert chat.focus() is None  # ipywidgets sends {"do": "focus"} through Widget.send
    assert published == [{"method": "custom", "content": {"do": "focus"}}]


# -- the browser's requests ----------------------------------------------------------


async def test_a_new_view_gets_a_snapshot_of_the_newest_for_itself(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = ChatWidget(session_factory=server.session, page_size=50)
    chat.message_list.snapshot_size = 5
    browser = Browser(chat.message_list, monkeypatch)
    for n in range(12):
        server.store(f"m{n}")
    await logged_in(chat)
    browser.clear()
    browser.say({"type": "snapshot", "view": "view-1"})
    # Then where its unread messages start (the unread part's, see test_widget_unread.py).
    (snapshot, unread) = browser.sent
    assert unread["type"] == "unread" and unread["view"] == "view-1"
    assert snapshot["type"] == "snapshot" and snapshot["view"] == "view-1"
    assert [m["text"] for m in snapshot["messages"]] == [f"m{n}" for n in range(7, 12)]
    assert snapshot["first"] == "id:1" and snapshot["older"] is False
    chat.close()


async def test_load_older_serves_held_messages_then_asks_the_server(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = ChatWidget(session_factory=server.session, page_size=10)
    chat.message_list.page_size = 4
    browser = Browser(chat.message_list, monkeypatch)
    for n in range(25):
        server.store(f"m{n}")
    await logged_in(chat)  # holds m15..m24
    browser.clear()
    browser.say({"type": "load_older", "view": "v", "before": "id:20"})
    (page,) = browser.sent
    assert page["type"] == "page" and page["view"] == "v"
    assert [m["text"] for m in page["messages"]] == ["m15", "m16", "m17", "m18"]
    assert page["messages"][-1]["next"] == "id:20"
    browser.clear()
    browser.say({"type": "load_older", "view": "v", "before": "id:16"})  # the oldest held
    await chat.settle()
    prepend, done = browser.sent
    assert prepend["type"] == "change" and prepend["kind"] == "prepend"
    assert [m["text"] for m in prepend["messages"]] == [f"m{n}" for n in range(5, 15)]
    assert prepend["messages"][-1]["next"] == "id:16"
    assert done == {"type": "older", "view": "v", "first": "id:6", "older": True}
    chat.close()


async def test_a_failed_history_read_is_reported_and_ends_the_loading(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    for n in range(25):
        server.store(f"m{n}")
    await logged_in(chat)
    server.read_error = ServerError("read refused", code="X")
    browser.clear()
    browser.say({"type": "load_older", "view": "v", "before": "id:16"})
    await chat.settle()
    assert "read refused" in chat.last_error
    assert browser.sent[-1]["type"] == "older" and browser.sent[-1]["view"] == "v"


# -- status and logout ----------------------------------------------------------------------


async def test_the_form_stays_usable_through_reconnects_and_outages(
    chat: ChatWidget, server: FakeServer
) -> None:
    await logged_in(chat)
    session = server.sessions[-1]
    session.set_state(SessionState.RECONNECTING)
    assert connection(chat) == "reconnecting"
    assert not chat.message_form.disabled  # sends are held by the session meanwhile
    session.set_state(SessionState.GAVE_UP)
    # Still enabled: disabling would take the reader's focus and keystrokes.
    assert connection(chat) == "offline" and not chat.message_form.disabled
    assert chat.status_bar.offers_reconnect
    chat.status_bar._handle_custom_msg({"type": "reconnect"}, [])
    await chat.settle()
    assert connection(chat) == "connected" and not chat.message_form.disabled
    assert not chat.status_bar.offers_reconnect


async def test_logout_returns_to_the_login_form(
    chat: ChatWidget, server: FakeServer, browser: Browser
) -> None:
    server.store("before")
    await logged_in(chat)
    browser.clear()
    chat.status_bar._handle_custom_msg({"type": "logout"}, [])
    await chat.settle()
    session = server.sessions[-1]
    assert session.logged_out
    assert chat.stage == "login" and chat.children[1] is chat.login_form
    assert chat.messages == () and chat.user is None and chat.state is None
    assert connection(chat) == "logged out"
    assert chat.message_form.disabled
    assert browser.sent[-1]["type"] == "snapshot" and browser.sent[-1]["messages"] == []
    await logged_in(chat)  # and in again, with a fresh session
    assert len(server.sessions) == 2 and contents(chat) == ["before"]


async def test_a_session_closed_elsewhere_returns_to_the_login_form(
    chat: ChatWidget, server: FakeServer
) -> None:
    await logged_in(chat)
    await server.sessions[-1].close()
    await chat.settle()
    assert chat.stage == "login"
    assert "log in again" in chat.login_form.error


async def test_closing_the_widget_closes_its_session(chat: ChatWidget, server: FakeServer) -> None:
    await logged_in(chat)
    chat.close()
    await chat.settle()
    assert server.sessions[-1].closed and chat.comm is None


async def test_logging_in_twice_is_refused(chat: ChatWidget) -> None:
    await logged_in(chat)
    with pytest.raises(RuntimeError, match="already logged in"):
        await chat.login("ada@example.com", PASSWORD)


# -- pure parts ---------------------------------------------------------------------------


def test_no_url_anywhere_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("DIRECTUS_URL", "PUBLIC_DIRECTUS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError):
        ChatWidget()


def test_a_url_is_enough() -> None:
    chat = ChatWidget("http://127.0.0.1:8055/", "chat")
    assert chat.config is not None and chat.config.url == "http://127.0.0.1:8055"
    assert chat.collection == "chat" and chat.stage == "login"
    chat.close()


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        (None, "logged out"),
        (SessionState.IDLE, "logged out"),
        (SessionState.CONNECTING, "connecting"),
        (SessionState.AUTHENTICATING, "connecting"),
        (SessionState.READY, "connected"),
        (SessionState.REAUTHENTICATING, "reconnecting"),
        (SessionState.RECONNECTING, "reconnecting"),
        (SessionState.GAVE_UP, "offline"),
        (SessionState.CLOSED, "logged out"),
    ],
)
def test_describe_every_state(state: SessionState | None, shown: str) -> None:
    assert describe(state) == shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ada Lovelace", "Ada"),
        ("Grace", "Grace"),
        ("Unknown User", "Unknown User"),
        ("", "Unknown User"),
    ],
)
def test_first_name(name: str, shown: str) -> None:
    message = ChatMessage("id:1", 1, "x", None, name, None)
    assert first_name(message) == shown


def test_a_two_word_first_name_stays_whole() -> None:
    message = ChatMessage(
        "id:1", 1, "x", None, "Mary Ann Evans", None, author_first_name="Mary Ann"
    )
    assert first_name(message) == "Mary Ann"


def test_message_list_follows_the_store_through_every_kind_of_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever the store does, the list holds the same keys in the same order."""
    store = MessageStore()
    shown = MessageList()
    browser = Browser(shown, monkeypatch)
    me = {"id": "u-ada", "first_name": "Ada"}

    def row(n: int, author: dict[str, Any] = GRACE, text: str | None = None) -> dict[str, Any]:
        return {"id": n, "content": text or f"m{n}", "user_created": author}

    def step(change: StoreChange) -> None:
        shown.apply(change)
        assert shown.held_keys == tuple(m.key for m in store.messages)

    step(store.add_rows([row(n) for n in range(50, 60)]))  # append
    step(store.add_rows([row(n) for n in range(40, 50)]))  # prepend
    step(store.add_rows([row(45), row(61), row(60)]))  # update + append
    step(store.add_rows([row(55, text="edited"), row(58)]))  # update
    pending = store.add_pending("mine", me)
    step(pending)
    other = store.add_pending("mine too", me)
    step(other)
    step(store.fail(other.messages[0].key, "refused"))
    step(store.add_rows([row(62, me, "mine")]))  # confirms the first, moves it
    step(store.retrying(other.messages[0].key))
    step(store.confirm(other.messages[0].key, row(63, me, "mine too")))
    step(store.remove("id:45"))
    step(store.reset([row(n) for n in range(1, 4)]))
    kinds = [message.get("kind", message["type"]) for message in browser.sent]
    assert {"append", "prepend", "update", "remove", "snapshot"} <= set(kinds)


def test_the_form_ignores_input_while_disabled() -> None:
    form = MessageForm()
    heard: list[str] = []
    form.on_submit(heard.append)
    assert form.disabled  # until a session is connected
    assert form.submit("hi") is False
    form.disabled = False
    assert form.submit("hi") is True
    assert heard == ["hi"]
    form.close()


# -- threads: browser messages may arrive on a kernel subshell's thread ----------------


def comm_message(widget: ipywidgets.Widget, data: dict[str, Any]) -> None:
    """What the kernel does with a comm_msg for ``widget``: hand it to the comm."""
    widget.comm.handle_msg({"content": {"data": data}, "buffers": []})


async def test_clicks_from_another_thread_run_on_the_widgets_loop(server: FakeServer) -> None:
    chat = ChatWidget(session_factory=server.session, page_size=10)  # made on this loop
    here = threading.current_thread().name
    form = chat.login_form
    subshell = LoopThread()  # where a kernel with subshells handles comm messages

    async def click_logout() -> None:
        comm_message(chat.status_bar, {"method": "custom", "content": {"type": "logout"}})

    async def log_in_by_form(password: str) -> None:
        content = {"type": "submit", "email": "ada@example.com", "password": password}
        comm_message(form, {"method": "custom", "content": content})

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(int(TIMEOUT * 100)):
            await asyncio.sleep(0.01)
            await chat.settle()
            if condition():
                return
        raise AssertionError("timed out")

    try:
        for rounds in range(2):
            subshell.run(log_in_by_form("wrong"))
            await until(lambda: form.error == INVALID_CREDENTIALS)
            subshell.run(log_in_by_form(PASSWORD))
            await until(lambda: chat.stage == "chat")
            sent = await chat.send_message(f"from a cell after a subshell login {rounds}")
            assert sent.status is MessageStatus.SENT
            subshell.run(click_logout())
            await until(lambda: chat.stage == "login")
            assert chat.last_error == "" and form.error == ""
        assert set(server.login_threads) == {here}
        assert [row["content"] for row in server.rows] == [
            "from a cell after a subshell login 0",
            "from a cell after a subshell login 1",
        ]
    finally:
        await chat.aclose()
        subshell.stop()


# -- notices ---------------------------------------------------------------------------


async def test_a_reconnect_failure_notice_ends_when_connected_again(
    chat: ChatWidget, server: FakeServer
) -> None:
    await logged_in(chat)
    session = server.sessions[-1]
    session.set_state(SessionState.GAVE_UP)

    async def refused() -> None:
        raise ServerUnreachable("[Errno 111] Connection refused")

    session.reconnect = refused  # type: ignore[method-assign]
    chat.status_bar._handle_custom_msg({"type": "reconnect"}, [])
    await chat.settle()
    assert chat.last_error.startswith("Cannot reach the Directus server")
    assert "Errno" not in chat.last_error  # a sentence, not the exception
    session.set_state(SessionState.RECONNECTING)
    assert chat.last_error  # still true: not connected yet
    session.set_state(SessionState.READY)
    assert chat.last_error == "" and chat.notice.layout.display == "none"


def test_library_log_lines_never_print_on_their_own() -> None:
    """Without a handler of ours, Python's last resort would print a warning into a cell."""
    code = (
        "import logging, directus_chat_widget\n"
        "logging.getLogger('directus_chat_widget.session').warning('gave up reconnecting')\n"
        "logging.getLogger('elsewhere').warning('an unrelated warning')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT * 3
    )
    assert done.returncode == 0, done.stderr
    assert "gave up" not in done.stderr
    assert "an unrelated warning" in done.stderr  # the probe: the last resort is still there
