"""ChatWidget: login form, message list, message box and status line in one VBox.

    from directus_chat_widget.widget import ChatWidget
    chat = ChatWidget()              # URL from DIRECTUS_URL / .env, or ChatWidget(url=...)
    chat                             # display it; or drive it from code:
    await chat.login("ada@example.com", "...")
    await chat.send_message("hello")
    await chat.edit_message(chat.messages[-1], "hello, edited")   # your own messages only
    await chat.delete_message(chat.messages[-1])
    await chat.switch_room("ops")    # chat.room, chat.create_room(name), chat.on_room_change(f)
    chat.presence.online             # who is in the room now; chat.on_presence(f) when it changes
    await chat.post(fig)             # a figure, a DataFrame, a Path, an image: see post()
    await chat.react(chat.messages[-1], "👍")            # unreact, toggle_reaction, on_reaction
    await chat.send_message("yes!", reply_to=chat.messages[-1])   # quote(m), on_reply
    chat.unread, chat.mentions       # by room; chat.mark_read(), chat.on_mention(f)...

The widget holds no network code: a session (a :class:`RealtimeSession` by
default, one per login) does the talking and a :class:`ChatRoom` keeps the
list; the widget renders the room's changes and turns clicks into coroutines,
started as tasks that are kept and whose failures are shown in the widget.

The work is done by objects the widget composes, one job each (the package
docstring lists them); the widget itself is the public API.

Threads: everything the browser sends (clicks, submits, typed state) and every
public coroutine runs on one event loop, the widget's owner (see ``_owner.py``
for why a kernel may deliver widget messages on another thread).

Secrets: the password is read from the form, cleared from it at once and
passed to ``session.login``; it is never stored, and no token ever reaches a
widget's synced state.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Any

import ipywidgets as widgets
import traitlets

from ..chat.attachments import DEFAULT_MAX_ATTACHMENT_BYTES
from ..chat.presence import Presence, PresenceTiming
from ..chat.room import DEFAULT_PAGE_SIZE
from ..chat.rooms import DEFAULT_ROOM
from ..chat.store import ChatMessage
from ..config import ChatConfig, load_config
from ..realtime.session import RealtimeSession, SessionState
from ._assembly import Parts, assemble
from ._editing import key_of
from ._group_api import GroupApi
from ._login import ChatSession, SessionFactory
from ._news import MessageCallback
from ._owner import on_owner_loop
from ._presence import PresenceCallback
from ._rooms import RoomCallback
from ._signup import Registrar
from ._unread_api import UnreadMentionsAPI
from .message_list import DEFAULT_MAX_NODES

__all__ = ["ChatSession", "ChatWidget"]


class ChatWidget(GroupApi, UnreadMentionsAPI, widgets.VBox):  # type: ignore[misc]
    """A realtime Directus chat for notebooks (JupyterLab, Notebook 7, Voila).

    Args:
        url: the Directus URL; None reads ``DIRECTUS_URL`` (environment or ``.env``).
        collection: the messages collection (None: the config's, else ``messages``).
        config: a ready :class:`ChatConfig` instead of ``url``/``collection``.
        room: the room to show after login (default ``general``).
        session_factory: makes a fresh, logged-out session for each login
            (default: ``RealtimeSession(config)``).
        page_size: messages per history read.
        max_nodes: the most messages a browser view keeps in its page.
        markdown: render messages as (sanitized) Markdown; False shows raw text.
        registrar: where sign-up goes (default: the URL's Directus; none
            without a URL); the form offers it only when the server allows it.
        presence: show who is online and typing, and tell the others (True);
            a :class:`PresenceTiming` to tune it; False writes and shows none.

    Raises:
        ConfigError: no ``session_factory`` and no usable URL.

    Attributes:
        status_bar, login_form, room_bar, message_list, presence_bar, message_form, notice: parts.
        stage: ``"login"`` or ``"chat"``: which parts are shown.
        markdown: the Markdown switch, live (the list follows it).
        max_attachment_bytes: the largest file :meth:`post` sends (default 10 MB).
    """

    stage = traitlets.Unicode("login")
    markdown = traitlets.Bool(True)
    max_attachment_bytes = traitlets.Int(DEFAULT_MAX_ATTACHMENT_BYTES)

    def __init__(
        self,
        url: str | None = None,
        collection: str | None = None,
        *,
        config: ChatConfig | None = None,
        room: str = DEFAULT_ROOM,
        session_factory: SessionFactory | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_nodes: int = DEFAULT_MAX_NODES,
        markdown: bool = True,
        registrar: Registrar | None = None,
        presence: PresenceTiming | bool = True,
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
        server_url = config.url if config is not None else None
        self._parts = parts = Parts.new(max_nodes=max_nodes, url=server_url)
        self.status_bar, self.login_form = parts.status_bar, parts.login_form
        self.room_bar, self.message_list = parts.room_bar, parts.message_list
        self.message_form, self._notice = parts.message_form, parts.notice
        self.presence_bar = parts.presence_bar
        self.notice = self._notice.widget
        super().__init__(markdown=markdown, **kwargs)
        traitlets.dlink((self, "markdown"), (self.message_list, "markdown"))
        self.add_class("dcw-chat")
        flows = assemble(
            parts,
            session_factory=session_factory,
            collection=self.collection,
            page_size=page_size,
            url=server_url,
            room=room,
            registrar=registrar,
            show_stage=self._show_stage,
            presence=presence,
            max_attachment_bytes=lambda: self.max_attachment_bytes,
        )
        self._owner, self._tasks, self._feed = flows.owner, flows.tasks, flows.feed
        self._login, self._rooms, self._sending = flows.login, flows.rooms, flows.sending
        self._signup, self._paging, self._editing = flows.signup, flows.paging, flows.editing
        self._presence = flows.presence
        self._reactions, self._replies, self._news = flows.reactions, flows.replies, flows.feed.news
        self._mentioning, self._unread = flows.mentioning, flows.unread
        self._signup.check_soon()
        self._layout_for(self.stage)

    # -- reading -------------------------------------------------------------------

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """The messages shown, oldest first (then our unconfirmed sends); () when logged out."""
        room = self._login.room
        return room.messages if room is not None else ()

    @property
    def user(self) -> dict[str, Any] | None:
        """The logged-in user (``id``, ``first_name``, ``last_name``), or None."""
        session = self._login.session
        if session is None or self._login.room is None:
            return None
        user = session.user
        return dict(user) if user is not None else None

    @property
    def state(self) -> SessionState | None:
        """The session's state, None when logged out."""
        session = self._login.session
        return session.state if session is not None else None

    @property
    def is_logged_in(self) -> bool:
        """True once a login has opened the chat, until logout."""
        return self._login.room is not None and self._login.live

    @property
    def last_error(self) -> str:
        """What the notice under the chat says ("" for nothing): the last failure, in words."""
        return self._notice.text

    # -- the embedding API ----------------------------------------------------------

    @on_owner_loop
    async def login(self, email: str, password: str) -> None:
        """Log in, open the chat and show it (what the form does).

        Raises:
            InvalidCredentials: wrong email or password.
            ServerUnreachable: the server does not answer.
            DirectusError: any other refusal (the chat collection is unreadable...).
            RuntimeError: already logged in, or a login is running.
        """
        await self._login.login(email, password)
        await self._opened()

    @on_owner_loop
    async def register(self, email: str, password: str, name: str = "") -> None:
        """Create an account on the server (public sign-up), then log in with it.

        Raises:
            RegistrationClosed: the server lets nobody sign up (or not this email).
            RegistrationRefused: an invalid email, an empty or weak password
                (the server's reason is the message).
            EmailTaken: the email already has an account (the sign-up changed nothing).
            ServerUnreachable: the server does not answer.
            RuntimeError: already logged in, or a login is running.
        """
        await self._signup.register(email, password, name)
        await self._opened()

    @on_owner_loop
    async def check_signup(self) -> bool:
        """Ask the server whether it lets people sign up; the form follows the answer."""
        return await self._signup.check()

    def send_message(
        self, text: str, *, reply_to: str | ChatMessage | None = None
    ) -> Awaitable[ChatMessage] | concurrent.futures.Future[ChatMessage]:
        """Send a chat message; it shows at once as pending, and goes out even if not awaited.

        ``await chat.send_message("hello")`` returns the message once settled:
        SENT, or FAILED (kept in the list with a Retry button, and never raised).
        ``reply_to`` (a sent message, or its key) makes it a reply that quotes it.

        An ``@name`` that names no member is sent as plain text, and the notice says so.

        Raises:
            ValueError: the text is blank, or longer than the limit; ``reply_to``
                is not sent yet (at once).
            KeyError: no such ``reply_to``.  RuntimeError: not logged in (at once).
        """
        parent = key_of(reply_to) if reply_to is not None else None
        sending = self._sending.send(text, parent)
        self._mentioning.check(text)
        return sending

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

    @on_owner_loop
    async def post(
        self, obj: Any, *, text: str | None = None, name: str | None = None
    ) -> ChatMessage:
        """Send a figure, a DataFrame, a Path, bytes, an object with ``_repr_png_``/``_svg_``/
        ``_markdown_``, or text (``text``: a file's caption); returns it. See ChatRoom.post.

        Raises:
            AttachmentRefused: over ``max_attachment_bytes``, or not an image (nothing sent).
            TypeError, ValueError, RuntimeError: as :meth:`ChatRoom.post` (not logged in).
        """
        room = self._login.require_room()
        return await room.post(obj, text=text, name=name, max_bytes=self.max_attachment_bytes)

    @on_owner_loop
    async def retry(self, key: str) -> ChatMessage:
        """Send the FAILED message ``key`` again.

        Raises:
            KeyError: no such message.  ValueError: it is not FAILED.
            RuntimeError: not logged in.
        """
        return await self._sending.retry(key)

    @on_owner_loop
    async def load_older(self) -> int:
        """Read one page of older messages; returns how many were added.

        Raises:
            RuntimeError: not logged in.  DirectusError: the read failed.
        """
        return await self._paging.load_older()

    @on_owner_loop
    async def logout(self) -> None:
        """Close the chat and the session, end the login on the server, show the login form.

        Safe to call when logged out.

        Raises:
            ServerUnreachable: the server could not be told (the session is closed anyway).
        """
        await self._login.logout()

    @property
    def room(self) -> str:
        """The room shown (before login: the one the login opens)."""
        return self._rooms.name

    @on_owner_loop
    async def switch_room(self, name: str) -> None:
        """Show the room ``name``: its latest page, then what arrives in it alone.

        Raises:
            ValueError: a blank name.  LookupError: no room has that name.
            RuntimeError: not logged in.  DirectusError: the read failed (nothing changes).
        """
        await self._rooms.switch(name)

    @on_owner_loop
    async def create_room(self, name: str) -> None:
        """Create the room ``name`` (stripped) and show it.

        Raises:
            ValueError: blank, too long, or taken (nothing is created).
            Forbidden, RuntimeError, DirectusError: not allowed; as :meth:`switch_room`.
        """
        await self._rooms.create(name)

    def on_room_change(self, callback: RoomCallback) -> Callable[[], None]:
        """Call ``callback(name)`` each time another room is shown; returns a remover."""
        return self._rooms.changes.add(callback)

    @property
    def presence(self) -> Presence:
        """Who is online in the room shown (you too) and who is typing; empty when logged out."""
        return self._presence.current

    def on_presence(self, callback: PresenceCallback) -> Callable[[], None]:
        """Call ``callback(presence)`` when someone comes, goes, starts or stops typing."""
        return self._presence.changes.add(callback)

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

    @on_owner_loop
    async def settle(self) -> None:
        """Wait until what clicks and submits started (login, sends, paging) has finished."""
        await self._tasks.settle()

    @on_owner_loop
    async def aclose(self) -> None:
        """Close the session quietly (no logout), stop all work and close the widgets."""
        await self._login.aclose()
        for part in self._parts.all():
            part.close()
        self.close()

    def close(self) -> None:
        """Close the widget; a session still open is closed in the background.

        Use :meth:`aclose` to wait for that (and to close the parts too).
        """
        # getattr: ipywidgets calls close() from __del__, also on an instance
        # whose __init__ raised (no URL) before its parts existed.
        login = getattr(self, "_login", None)
        if login is not None:
            login.close_soon()
        super().close()

    # -- showing ------------------------------------------------------------------

    def _show_stage(self, stage: str) -> None:
        self.stage = stage

    @traitlets.observe("stage")
    def _stage_changed(self, change: dict[str, Any]) -> None:
        self._layout_for(change["new"])
        if change["new"] == "chat":  # on the owner: the login that opened the chat runs there
            self._opening = self._tasks.spawn(self._chat_opened(), "reading the rooms")
        else:
            self._tasks.spawn(self._chat_closed(), "closing the chat")

    def _layout_for(self, stage: str) -> None:
        if stage == "chat":
            body: tuple[Any, ...] = self._parts.chat_stage()
        else:
            body = (self.login_form,)
        self.children = (self.status_bar, *body, self.notice)
