"""ChatWidget: login form, message list, message box and status line in one VBox.

    from directus_chat_widget.widget import ChatWidget
    chat = ChatWidget()              # URL from DIRECTUS_URL / .env, or ChatWidget(url=...)
    chat                             # display it; or drive it from code:
    await chat.login("ada@example.com", "...")
    await chat.send_message("hello")
    await chat.edit_message(chat.messages[-1], "hello, edited")   # your own messages only
    await chat.delete_message(chat.messages[-1])

The widget holds no network code: a session (a :class:`RealtimeSession` by
default, one per login) does the talking and a :class:`ChatRoom` keeps the
list; the widget renders the room's changes and turns clicks into coroutines,
started as tasks that are kept and whose failures are shown in the widget.

Threads: everything the browser sends (clicks, submits, typed state) and every
public coroutine runs on one event loop, the widget's owner (see ``_owner.py``
for why a kernel may deliver widget messages on another thread).

Secrets: the password is read from the form, cleared from it at once and
passed to ``session.login``; it is never stored, and no token ever reaches a
widget's synced state.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, ParamSpec, Protocol, TypeVar

import ipywidgets as widgets
import traitlets

from ..chat.room import DEFAULT_PAGE_SIZE, ChatRoom, SessionLike
from ..chat.store import ChatMessage, StoreChange
from ..config import ChatConfig, load_config
from ..errors import DirectusError
from ..realtime.session import RealtimeSession, SessionState
from ._changes import change_from_view, key_of
from ._news import MessageCallback
from ._notice import Notice
from ._owner import OwnerLoop
from ._room_feed import RoomFeed
from ._tasks import TaskKeeper
from .login_form import LoginForm, login_error_text
from .message_form import MessageForm
from .message_list import DEFAULT_MAX_NODES, MessageList
from .status import StatusBar, display_name

__all__ = ["ChatSession", "ChatWidget"]

logger = logging.getLogger(__name__)


class ChatSession(SessionLike, Protocol):
    """What the widget needs from a session (RealtimeSession has it all)."""

    @property
    def state(self) -> SessionState: ...

    def on_state_change(self, callback: Callable[[SessionState], None]) -> Callable[[], None]: ...

    async def login(self, email: str, password: str) -> None: ...

    async def reconnect(self) -> None: ...

    async def logout(self) -> None: ...

    async def close(self) -> None: ...


SessionFactory = Callable[[], ChatSession]

P = ParamSpec("P")
T = TypeVar("T")


def _on_owner_loop(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """A ChatWidget coroutine method that runs on the widget's owner loop, awaited from any."""

    @functools.wraps(method)
    async def run_on_owner(*args: P.args, **kwargs: P.kwargs) -> T:
        widget = args[0]
        assert isinstance(widget, ChatWidget)
        return await widget._owner.run(method(*args, **kwargs))

    return run_on_owner


class ChatWidget(widgets.VBox):  # type: ignore[misc]
    """A realtime Directus chat for notebooks (JupyterLab, Notebook 7, Voila).

    Args:
        url: the Directus URL; None reads ``DIRECTUS_URL`` (environment or ``.env``).
        collection: the messages collection (None: the config's, else ``messages``).
        config: a ready :class:`ChatConfig` instead of ``url``/``collection``.
        session_factory: makes a fresh, logged-out session for each login
            (default: ``RealtimeSession(config)``).
        page_size: messages per history read.
        max_nodes: the most messages a browser view keeps in its page.
        markdown: render messages as (sanitized) Markdown; False shows raw text.

    Raises:
        ConfigError: no ``session_factory`` and no usable URL.

    Attributes:
        status_bar, login_form, message_list, message_form, notice: the parts.
        stage: ``"login"`` or ``"chat"``: which parts are shown.
        markdown: the Markdown switch, live (the list follows it).
    """

    stage = traitlets.Unicode("login")
    markdown = traitlets.Bool(True)

    def __init__(
        self,
        url: str | None = None,
        collection: str | None = None,
        *,
        config: ChatConfig | None = None,
        session_factory: SessionFactory | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_nodes: int = DEFAULT_MAX_NODES,
        markdown: bool = True,
        **kwargs: Any,
    ) -> None:
        if session_factory is None:
            resolved = config or load_config(url, collection=collection)
            config = resolved

            def session_factory() -> ChatSession:
                return RealtimeSession(resolved)

        self.config = config
        self.collection = collection or (config.collection if config else "messages")
        self.page_size = page_size
        self._session_factory = session_factory
        self.status_bar = StatusBar()
        self.login_form = LoginForm()
        self.message_list = MessageList(max_nodes=max_nodes)
        self.message_form = MessageForm()
        self._notice = Notice(self._url)
        self.notice = self._notice.widget
        super().__init__(markdown=markdown, **kwargs)
        traitlets.dlink((self, "markdown"), (self.message_list, "markdown"))
        self._owner = OwnerLoop()
        for part in (self.status_bar, self.login_form, self.message_list, self.message_form):
            self._owner.adopt(part)
        self.add_class("dcw-chat")
        self._session: ChatSession | None = None
        self._room: ChatRoom | None = None
        self._unwatch: list[Callable[[], None]] = []
        self._live = False  # the room is open (not logging in or out)
        self._logging_in = False
        self._leaving = False
        self._email = ""
        self._feed = RoomFeed(self.message_list, self._notice.show)
        self._tasks = TaskKeeper(self._notice.report)

        self.login_form.on_submit(self._on_login_submit)
        self.message_form.on_submit(self._on_text_submit)
        self.message_list.on_load_older(self._on_load_older)
        self.message_list.on_retry(self._on_retry)
        self.message_list.on_discard(self._on_discard)
        self.message_list.on_edit(lambda key, text: self._change_from_view(key, text))
        self.message_list.on_delete(lambda key: self._change_from_view(key, None))
        self.status_bar.on_logout(lambda: self._spawn(self.logout(), "logging out"))
        self.status_bar.on_reconnect(self._spawn_reconnect)
        self._layout_for(self.stage)

    # -- reading -------------------------------------------------------------------

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """The messages shown, oldest first (then our unconfirmed sends); () when logged out."""
        return self._room.messages if self._room is not None else ()

    @property
    def user(self) -> dict[str, Any] | None:
        """The logged-in user (``id``, ``first_name``, ``last_name``), or None."""
        if self._session is None or self._room is None:
            return None
        user = self._session.user
        return dict(user) if user is not None else None

    @property
    def state(self) -> SessionState | None:
        """The session's state, None when logged out."""
        return self._session.state if self._session is not None else None

    @property
    def is_logged_in(self) -> bool:
        """True once a login has opened the chat, until logout."""
        return self._room is not None and self._live

    @property
    def last_error(self) -> str:
        """What the notice under the chat says ("" for nothing): the last failure, in words."""
        return self._notice.text

    # -- the embedding API ----------------------------------------------------------

    @_on_owner_loop
    async def login(self, email: str, password: str) -> None:
        """Log in, open the chat and show it (what the form does).

        Raises:
            InvalidCredentials: wrong email or password.
            ServerUnreachable: the server does not answer.
            DirectusError: any other refusal (the chat collection is unreadable...).
            RuntimeError: already logged in, or a login is running.
        """
        if self._session is not None or self._logging_in:
            raise RuntimeError("already logged in (or logging in): log out first")
        self._logging_in = True
        self.login_form.busy = True
        self.login_form.show_error(None)
        try:
            await self._open(email.strip(), password)
        except BaseException as exc:
            logger.info("login failed", exc_info=exc)
            self.login_form.show_error(login_error_text(exc, self._url))
            raise
        finally:
            self._logging_in = False
            self.login_form.busy = False

    def send_message(
        self, text: str
    ) -> Awaitable[ChatMessage] | concurrent.futures.Future[ChatMessage]:
        """Send a chat message; it shows at once as pending, and goes out even if not awaited.

        ``await chat.send_message("hello")`` returns the message once settled:
        SENT, or FAILED (kept in the list with a Retry button, and never raised).

        Raises:
            ValueError: the text is blank, or longer than the limit (at once).
            RuntimeError: not logged in (at once).
        """
        room = self._require_room()
        room.check_text(text)
        return self._owner.start(self._send_kept(room, text))

    async def _send_kept(self, room: ChatRoom, text: str) -> ChatMessage:
        # Held by the TaskKeeper, whichever thread started it: the loop keeps
        # only a weak reference, and a caller that forgot to await dropped the
        # other one; settle(), logout() and aclose() see it too.
        current = asyncio.current_task()
        if current is not None:
            self._tasks.keep(current, "sending")
        return await room.send(text)

    def send(self, content: Any, buffers: list[Any] | None = None) -> None:
        """ipywidgets' custom message to the browser (a dict); chat text is :meth:`send_message`.

        Raises:
            TypeError: ``content`` is text (meant for :meth:`send_message`).
        """
        if isinstance(content, str):
            raise TypeError(
                "ChatWidget.send() is ipywidgets' message to the browser; "
                "send chat text with `await chat.send_message(text)`"
            )
        super().send(content, buffers)

    @_on_owner_loop
    async def retry(self, key: str) -> ChatMessage:
        """Send the FAILED message ``key`` again.

        Raises:
            KeyError: no such message.  ValueError: it is not FAILED.
            RuntimeError: not logged in.
        """
        return await self._require_room().retry(key)

    @_on_owner_loop
    async def edit_message(self, message: str | ChatMessage, text: str) -> ChatMessage:
        """Change the text of your own message (a key or a ChatMessage); returns it, edited.

        The new text shows at once ("Saving…"), then "edited" in every view.

        Raises:
            ValueError: blank or too long text; the message is not sent yet.
            Forbidden: someone else's message (refused here, and by the server).
            KeyError: no such message.  RuntimeError: not logged in.
            DirectusError: the server did not store it (the message stays as it was).
        """
        return await self._require_room().edit(key_of(message), text)

    @_on_owner_loop
    async def delete_message(self, message: str | ChatMessage) -> None:
        """Delete your own message (a key or a ChatMessage): it leaves every view.

        Raises:
            ValueError, Forbidden, KeyError, RuntimeError, DirectusError: as :meth:`edit_message`.
        """
        await self._require_room().delete(key_of(message))

    def on_edit(
        self, callback: MessageCallback, *, include_own: bool = False
    ) -> Callable[[], None]:
        """Call ``callback(message)`` for each edit the server stores while the chat is open.

        Anyone's edit, live or read back after a reconnect; your own only with
        ``include_own=True``. Returns a function that removes the callback.
        """
        return self._feed.changes.edits.add(callback, include_own=include_own)

    def on_delete(
        self, callback: MessageCallback, *, include_own: bool = False
    ) -> Callable[[], None]:
        """Call ``callback(message)`` (as last shown) for each message deleted while open.

        As :meth:`on_edit`: anyone's, your own only with ``include_own=True``.
        """
        return self._feed.changes.deletes.add(callback, include_own=include_own)

    @_on_owner_loop
    async def load_older(self) -> int:
        """Read one page of older messages; returns how many were added.

        Raises:
            RuntimeError: not logged in.  DirectusError: the read failed.
        """
        room = self._require_room()
        added = await room.load_older()
        self.message_list.older_loaded(None, has_older=room.has_older)
        return added

    @_on_owner_loop
    async def logout(self) -> None:
        """Close the chat and the session, end the login on the server, show the login form.

        Safe to call when logged out.

        Raises:
            ServerUnreachable: the server could not be told (the session is closed anyway).
        """
        if self._session is not None:
            await self._leave(self._logout_from_server)

    def on_message(
        self, callback: MessageCallback, *, include_own: bool = False
    ) -> Callable[[], None]:
        """Call ``callback(message)`` for each new message the server stores.

        Not for history (the first page, older pages): only what arrives while
        the chat is open. Our own messages count once confirmed, and only with
        ``include_own=True``. A callback that raises is logged and shown.

        Returns:
            a function that removes the callback.
        """
        return self._feed.news.add(callback, include_own=include_own)

    @_on_owner_loop
    async def settle(self) -> None:
        """Wait until what clicks and submits started (login, sends, paging) has finished."""
        await self._tasks.settle()

    @_on_owner_loop
    async def aclose(self) -> None:
        """Close the session quietly (no logout), stop all work and close the widgets."""
        await self._leave(lambda session: session.close())
        for part in (
            self.status_bar,
            self.login_form,
            self.message_list,
            self.message_form,
            self.notice,
        ):
            part.close()
        self.close()

    def close(self) -> None:
        """Close the widget; a session still open is closed in the background.

        Use :meth:`aclose` to wait for that (and to close the parts too).
        """
        # getattr: ipywidgets calls close() from __del__, also on an instance
        # whose __init__ raised (no URL) before these attributes existed.
        room = getattr(self, "_room", None)
        session = getattr(self, "_session", None)
        if session is not None:
            self._owner.call(self._close_in_background, room, session)
        super().close()

    async def _leave(self, end: Callable[[ChatSession], Awaitable[None]]) -> None:
        """Drop the room and session, stop all work, then ``end(session)`` (logout or close)."""
        room, session = self._room, self._session
        self._leaving = True  # its CLOSED state is ours, not news
        try:
            self._detach()
            await self._tasks.cancel_all()
            if room is not None:
                await room.close()
            if session is not None:
                await end(session)
        finally:
            self._leaving = False

    async def _logout_from_server(self, session: ChatSession) -> None:
        try:
            await session.logout()
        except DirectusError as exc:
            self._notice.show(f"Logged out here, but the server could not be told: {exc}")
            raise

    def _close_in_background(self, room: ChatRoom | None, session: ChatSession) -> None:
        # On the owner: the room's callbacks may be running there right now.
        self._leaving = True  # its CLOSED state is ours, not news
        self._forget()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            logger.debug("no event loop to close the session on; it ends with the process")
        else:
            self._tasks.spawn(_close_quietly(room, session), "closing the session")

    # -- login and logout ------------------------------------------------------------

    async def _open(self, email: str, password: str) -> None:
        session = self._session_factory()
        self._session = session
        self._email = email
        self._unwatch.append(session.on_state_change(self._on_state))
        self._show_state()
        room = ChatRoom(session, self.collection, page_size=self.page_size)
        try:
            await session.login(email, password)
            user = session.user
            self.message_list.own_id = _user_id(user)
            self.message_list.reset((), has_older=False)
            self._room = room
            self._unwatch.append(room.on_change(self._on_change))
            await room.open()
        except BaseException:
            self._detach()
            await _close_quietly(room, session)
            raise
        self._feed.start(room.messages)
        self._live = True
        self._notice.show(None)
        self.stage = "chat"
        self._show_state()

    def _detach(self) -> None:
        """Forget the session and room and show the login form (no I/O)."""
        self._forget()
        self.message_list.clear()
        self.stage = "login"
        self._show_state()

    def _forget(self) -> None:
        """Stop listening to the session and room, and drop them (no I/O, no view change)."""
        for remove in self._unwatch:
            remove()
        self._unwatch.clear()
        self._session = None
        self._room = None
        self._live = False
        self._feed.stop()

    async def _session_lost(self, session: ChatSession) -> None:
        """The session closed under us (not by logout): back to the login form."""
        if self._session is not session:
            return
        room = self._room
        self._detach()
        self.login_form.show_error("The session was closed; please log in again.")
        if room is not None:
            await room.close()

    # -- form and list callbacks (synchronous: they start tasks) -------------------------

    def _on_login_submit(self, email: str, password: str) -> None:
        self._spawn(self._login_from_form(email, password), "logging in")

    async def _login_from_form(self, email: str, password: str) -> None:
        try:
            await self.login(email, password)
        except (DirectusError, RuntimeError) as exc:
            # Already shown in the form; the log says why for whoever debugs.
            logger.info("login from the form failed: %s", exc)

    def _on_text_submit(self, text: str) -> None:
        self._spawn(self._send_from_form(text), "sending")

    async def _send_from_form(self, text: str) -> None:
        try:
            await self._require_room().send(text)
        except ValueError as exc:  # too long: say so, the text is not lost from the log
            self._notice.show(str(exc))

    def _on_load_older(self, view: str) -> None:
        self._spawn(self._load_older_for(view), "loading older messages")

    async def _load_older_for(self, view: str) -> None:
        room = self._room
        try:
            if room is not None and room.is_open:
                await room.load_older()
        finally:
            has_older = room.has_older if room is not None else False
            self.message_list.older_loaded(view, has_older=has_older)

    def _on_retry(self, key: str) -> None:
        room = self._room
        if room is not None:
            self._spawn(room.retry(key), "sending again")

    def _on_discard(self, key: str) -> None:
        room = self._room
        if room is None:
            return
        try:
            room.discard(key)
        except (KeyError, ValueError) as exc:
            self._notice.show(f"Could not discard that message: {exc}")

    def _change_from_view(self, key: str, text: str | None) -> None:
        what = "deleting" if text is None else "editing"
        self._spawn(change_from_view(self._room, key, text, self._notice.show), what)

    def _spawn_reconnect(self) -> None:
        if self._session is not None:
            self._spawn(self._reconnect(self._session), "reconnecting")

    async def _reconnect(self, session: ChatSession) -> None:
        try:
            await session.reconnect()
        except Exception as exc:
            # About the connection: it goes away once the session is connected.
            self._notice.report("reconnecting", exc, until_connected=True)

    def _spawn(self, coro: Any, what: str) -> None:
        self._tasks.spawn(coro, what)

    # -- session and room callbacks ---------------------------------------------------

    def _on_state(self, state: SessionState) -> None:
        self._show_state()
        session = self._session
        if state is SessionState.CLOSED and not self._leaving and session is not None:
            self._spawn(self._session_lost(session), "closing the chat")

    def _on_change(self, change: StoreChange) -> None:
        room = self._room
        self._feed.apply(change, has_older=room.has_older if room is not None else None)

    # -- showing ------------------------------------------------------------------

    @traitlets.observe("stage")
    def _stage_changed(self, change: dict[str, Any]) -> None:
        self._layout_for(change["new"])

    def _layout_for(self, stage: str) -> None:
        if stage == "chat":
            body: tuple[Any, ...] = (self.message_list, self.message_form)
        else:
            body = (self.login_form,)
        self.children = (self.status_bar, *body, self.notice)

    def _show_state(self) -> None:
        session = self._session
        state = session.state if session is not None else None
        name = display_name(session.user, self._email) if session is not None else None
        self.status_bar.show(state, name if self._room is not None else None)
        if state is SessionState.READY:
            self._notice.connected()
        # Only a logout disables typing: a reconnect holds sends instead, and a
        # box disabled even for a moment loses the reader's focus and keys.
        self.message_form.disabled = not self._live

    @property
    def _url(self) -> str | None:
        return self.config.url if self.config is not None else None

    def _require_room(self) -> ChatRoom:
        if self._room is None or not self._live:
            raise RuntimeError("not logged in: call login() first")
        return self._room


async def _close_quietly(room: ChatRoom | None, session: ChatSession) -> None:
    if room is not None:
        await room.close()
    await session.close()


def _user_id(user: Mapping[str, Any] | None) -> str | None:
    value = user.get("id") if user is not None else None
    return value if isinstance(value, str) else None
