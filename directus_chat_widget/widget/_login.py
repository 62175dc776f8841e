"""Login and logout: the session and room one login opens, and all that ends them.

A login makes a fresh session (``session_factory()``), logs it in, opens a
:class:`ChatRoom` over it and shows the chat. Logout, closing the widget, or
the session closing under us (the server, a give-up) ends both and shows the
login form again. Meanwhile the status bar shows the session's state, and its
Logout and Reconnect buttons land here.

Secrets: the password goes from the form (or the caller) straight to
``session.login``; it is never stored, and no token ever reaches a widget's
synced state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from ..chat.room import ChatRoom, SessionLike
from ..chat.rooms import DEFAULT_ROOM
from ..chat.store import StoreChange
from ..errors import DirectusError
from ..realtime.session import SessionState
from ._notice import Notice
from ._owner import OwnerLoop
from ._room_feed import RoomFeed
from ._tasks import TaskKeeper
from .login_form import LoginForm, login_error_text
from .message_form import MessageForm
from .message_list import MessageList
from .status import StatusBar, display_name

__all__ = ["ChatSession", "LoginFlow", "RoomWatcher", "SessionFactory"]

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


class RoomWatcher(Protocol):
    """What follows the room shown (presence): told of each room shown, and of leaving."""

    def shown(self, session: ChatSession, room: ChatRoom) -> None: ...

    async def leave(self) -> None:
        """Before the room and the session close (logout, close): never raises."""


class LoginFlow:
    """The session and room of one widget, from login to logout, and what shows them.

    Args:
        session_factory: makes a fresh, logged-out session for each login.
        collection, page_size, room_name: the room each login opens (the
            last one switched to, once the reader has switched).
        url: the server's address, for what a failed login says.
        owner: the widget's owner loop (the form's login runs there).
        tasks: keeps what the buttons start.
        notice: the line under the chat.
        feed: where the open room's changes go.
        show_stage: shows ``"login"`` or ``"chat"``.
        login_form, status_bar, message_list, message_form: the parts it drives.
    """

    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        collection: str,
        page_size: int,
        url: str | None,
        owner: OwnerLoop,
        tasks: TaskKeeper,
        notice: Notice,
        feed: RoomFeed,
        show_stage: Callable[[str], None],
        login_form: LoginForm,
        status_bar: StatusBar,
        message_list: MessageList,
        message_form: MessageForm,
        room_name: str = DEFAULT_ROOM,
    ) -> None:
        self._session_factory = session_factory
        self._collection = collection
        self._page_size = page_size
        self.room_name = room_name
        self._url = url
        self._owner = owner
        self._tasks = tasks
        self._notice = notice
        self._feed = feed
        self._show_stage = show_stage
        self._login_form = login_form
        self._status_bar = status_bar
        self._list = message_list
        self._form = message_form
        self.session: ChatSession | None = None
        self.room: ChatRoom | None = None
        self.live = False  # the room is open (not logging in or out)
        self._unwatch: list[Callable[[], None]] = []
        self._unwatch_room: Callable[[], None] | None = None
        # Each room shown is handed to these (row parts: reactions, quotes); each
        # returns a function that stops watching it.
        self.room_watchers: list[Callable[[ChatRoom], Callable[[], None]]] = []
        self._logging_in = False
        self._leaving = False
        self._email = ""
        self.watchers: list[RoomWatcher] = []
        # Awaited before a logout or close ends the session (a last write, say).
        self.before_leave: list[Callable[[], Awaitable[None]]] = []
        login_form.on_submit(self._on_submit)
        status_bar.on_logout(self._on_logout)
        status_bar.on_reconnect(self._on_reconnect)

    @property
    def busy(self) -> bool:
        """Logged in, or logging in: no other login (or sign-up) may start."""
        return self.session is not None or self._logging_in

    def require_room(self) -> ChatRoom:
        """The open room.

        Raises:
            RuntimeError: not logged in.
        """
        if self.room is None or not self.live:
            raise RuntimeError("not logged in: call login() first")
        return self.room

    # -- what the widget's public coroutines do (on the owner loop) --------------------

    async def login(self, email: str, password: str) -> None:
        """Log in, open the chat and show it: see :meth:`ChatWidget.login`."""
        if self.busy:
            raise RuntimeError("already logged in (or logging in): log out first")
        self._logging_in = True
        self._login_form.busy = True
        self._login_form.show_error(None)
        try:
            await self._open(email.strip(), password)
        except BaseException as exc:
            logger.info("login failed", exc_info=exc)
            self._login_form.show_error(login_error_text(exc, self._url))
            raise
        finally:
            self._logging_in = False
            self._login_form.busy = False

    async def logout(self) -> None:
        """End the login here and on the server: see :meth:`ChatWidget.logout`."""
        if self.session is not None:
            await self._leave(self._logout_from_server)

    async def aclose(self) -> None:
        """Close the room and the session quietly (no logout), and stop all work."""
        await self._leave(lambda session: session.close())

    def close_soon(self) -> None:
        """Close a session still open in the background, from any thread (no waiting)."""
        room, session = self.room, self.session
        if session is not None:
            self._owner.call(self._close_in_background, room, session)

    async def _leave(self, end: Callable[[ChatSession], Awaitable[None]]) -> None:
        room, session = self.room, self.session
        self._leaving = True  # its CLOSED state is ours, not news
        try:
            for hook in list(self.before_leave):
                try:
                    await hook()
                except Exception:
                    logger.exception("a step before leaving the chat failed")
            self._detach()
            await self._tasks.cancel_all()
            await self._leave_watchers()
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
            self._tasks.spawn(self._close_all(room, session), "closing the session")

    async def _close_all(self, room: ChatRoom | None, session: ChatSession) -> None:
        await self._leave_watchers()
        await _close_quietly(room, session)

    async def _leave_watchers(self) -> None:
        for watcher in self.watchers:
            await watcher.leave()

    def _tell_shown(self, session: ChatSession, room: ChatRoom) -> None:
        for watcher in self.watchers:
            watcher.shown(session, room)

    # -- opening and dropping ---------------------------------------------------------

    async def _open(self, email: str, password: str) -> None:
        session = self._session_factory()
        self.session = session
        self._email = email
        self._unwatch.append(session.on_state_change(self._on_state))
        self.show_state()
        room = self._room_called(session, self.room_name)
        try:
            await session.login(email, password)
            self._list.own_id = _user_id(session.user)
            self._list.reset((), has_older=False)
            self.room = room
            self._unwatch_room = self._watch(room)
            await room.open()
        except BaseException:
            self._detach()
            await _close_quietly(room, session)
            raise
        self._feed.start(room.messages)
        self.live = True
        self._tell_shown(session, room)
        self._notice.show(None)
        self._show_stage("chat")
        self.show_state()

    def _room_called(self, session: ChatSession, name: str) -> ChatRoom:
        return ChatRoom(session, self._collection, room=name, page_size=self._page_size)

    async def switch(self, name: str) -> ChatRoom:
        """Show the room ``name`` instead of the open one: see :meth:`ChatWidget.switch_room`.

        The new room is opened first: if that fails, the old one stays shown.
        """
        old = self.require_room()
        assert self.session is not None
        room = self._room_called(self.session, name)
        await room.open()
        if self.room is not old or not self.live:  # logged out, or switched, meanwhile
            await room.close()
            raise RuntimeError("the chat changed while the room opened; not switched")
        self._drop_room()
        self.room_name, self.room = name, room
        self._list.reset(room.messages, has_older=room.has_older)
        self._unwatch_room = self._watch(room)
        self._feed.start(room.messages)
        self._tell_shown(self.session, room)
        await old.close()
        return room

    def _watch(self, room: ChatRoom) -> Callable[[], None]:
        """Listen to ``room``: its changes go to the feed, and it to each room watcher."""
        removers = [room.on_change(self._on_change), *(watch(room) for watch in self.room_watchers)]

        def unwatch() -> None:
            for remove in removers:
                remove()

        return unwatch

    def _drop_room(self) -> None:
        if self._unwatch_room is not None:
            self._unwatch_room()
            self._unwatch_room = None
        self._feed.stop()

    def _detach(self) -> None:
        """Forget the session and room and show the login form (no I/O)."""
        self._forget()
        self._list.clear()
        self._show_stage("login")
        self.show_state()

    def _forget(self) -> None:
        """Stop listening to the session and room, and drop them (no I/O, no view change)."""
        for remove in self._unwatch:
            remove()
        self._unwatch.clear()
        self._drop_room()
        self.session = None
        self.room = None
        self.live = False

    async def _session_lost(self, session: ChatSession) -> None:
        """The session closed under us (not by logout): back to the login form."""
        if self.session is not session:
            return
        room = self.room
        self._detach()
        self._login_form.show_error("The session was closed; please log in again.")
        await self._leave_watchers()
        if room is not None:
            await room.close()

    # -- the form and the status bar's buttons (synchronous: they start tasks) ------------

    def _on_submit(self, email: str, password: str) -> None:
        self._tasks.spawn(self._login_from_form(email, password), "logging in")

    async def _login_from_form(self, email: str, password: str) -> None:
        try:
            # On the owner loop, as ChatWidget.login runs.
            await self._owner.run(self.login(email, password))
        except (DirectusError, RuntimeError) as exc:
            # Already shown in the form; the log says why for whoever debugs.
            logger.info("login from the form failed: %s", exc)

    def _on_logout(self) -> None:
        self._tasks.spawn(self._logout_from_button(), "logging out")

    async def _logout_from_button(self) -> None:
        await self._owner.run(self.logout())  # on the owner loop, as ChatWidget.logout runs

    def _on_reconnect(self) -> None:
        if self.session is not None:
            self._tasks.spawn(self._reconnect(self.session), "reconnecting")

    async def _reconnect(self, session: ChatSession) -> None:
        try:
            await session.reconnect()
        except Exception as exc:
            # About the connection: it goes away once the session is connected.
            self._notice.report("reconnecting", exc, until_connected=True)

    # -- the session's and room's callbacks, and showing the state -------------------------

    def _on_state(self, state: SessionState) -> None:
        self.show_state()
        session = self.session
        if state is SessionState.CLOSED and not self._leaving and session is not None:
            self._tasks.spawn(self._session_lost(session), "closing the chat")

    def _on_change(self, change: StoreChange) -> None:
        room = self.room
        self._feed.apply(change, has_older=room.has_older if room is not None else None)

    def show_state(self) -> None:
        """Show the session's state and who is logged in; the composer only while open."""
        session = self.session
        state = session.state if session is not None else None
        name = display_name(session.user, self._email) if session is not None else None
        self._status_bar.show(state, name if self.room is not None else None)
        if state is SessionState.READY:
            self._notice.connected()
        # Only a logout disables typing: a reconnect holds sends instead, and a
        # box disabled even for a moment loses the reader's focus and keys.
        self._form.disabled = not self.live


async def _close_quietly(room: ChatRoom | None, session: ChatSession) -> None:
    if room is not None:
        await room.close()
    await session.close()


def _user_id(user: Mapping[str, Any] | None) -> str | None:
    value = user.get("id") if user is not None else None
    return value if isinstance(value, str) else None
