"""ChatRoom: one chat collection seen through a realtime session. No UI.

The room ties a :class:`~directus_chat_widget.store.MessageStore` to a
session: it subscribes to new, edited and deleted messages, reads the latest
page and older ones on demand, sends with an optimistic entry that the
server's reply or the subscription event (whichever comes first) confirms, and
edits or deletes the user's own messages::

    async with ChatRoom(session) as room:
        room.on_change(lambda change: print(change.kind, change.messages))
        await room.send("hello")
        while room.has_older:
            await room.load_older()

Every change to the list reaches the ``on_change`` callbacks as one
:class:`~directus_chat_widget.store.StoreChange`, so a UI can render
incrementally. A callback that raises is logged and the others still run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .._callbacks import CallbackList
from ._authors import AuthorNames
from ._create import deliver
from ._edits import OwnChanges
from ._ports import SessionLike, SubscriptionEventLike, SubscriptionLike, attach, detach
from ._posting import RoomFiles, post
from ._reacting import RoomReactions
from .message import MESSAGE_FIELDS, check_text
from .replies import RoomReplies
from .rooms import DEFAULT_ROOM, Room, find_room, in_room
from .store import ChatMessage, MessageStatus, MessageStore, StoreChange

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_PAGE_SIZE",
    "MESSAGE_FIELDS",
    "ChatRoom",
    "SessionLike",
    "SubscriptionEventLike",
    "SubscriptionLike",
]

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 20
DEFAULT_MAX_LENGTH = 5_000


class ChatRoom:
    """The messages of one collection: live, paged, with optimistic sends.

    Args:
        session: a logged-in RealtimeSession (or anything with its
            ``subscribe``/``create``/``read``/``user``). The room does not own it:
            closing the room leaves the session open.
        collection: the messages collection (default: the session's configured one).
        room: the room's name (default ``general``, the tutorial's one room);
            history, live events and backfill are this room's alone, and sends
            go to it. None: a collection without rooms, every message.
        page_size: rows per history read (the latest page and each older one).
        max_length: the longest message :meth:`send` accepts, in characters.

    Raises:
        ValueError: ``page_size`` or ``max_length`` below 1.
    """

    room: Room | None = None  # the room's id and name, once open

    def __init__(
        self,
        session: SessionLike,
        collection: str | None = None,
        *,
        room: str | None = DEFAULT_ROOM,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        self._session = session
        config = getattr(session, "config", None)
        self.collection: str = collection or getattr(config, "collection", None) or "messages"
        self.page_size = page_size
        self.room_name = room
        self.max_length = max_length
        self._store = MessageStore()
        self._callbacks: CallbackList[[StoreChange]] = CallbackList(
            "a chat room on_change callback"
        )
        self._subscription: SubscriptionLike | None = None
        self._remove_listener: Callable[[], Any] | None = None
        self._has_older = False
        self._opened = False
        self._closed = False
        self._paging = asyncio.Lock()  # one history read at a time: no page read twice
        # One client uid per unsettled send, reused by every retry: a send that
        # failed without its reply may have been stored, and the server's unique
        # constraint on the session's dedupe field then refuses the copy.
        self._client_uids: dict[str, str] = {}
        self._changes = OwnChanges(session, self.collection, self._store, self._emit)
        self.files = RoomFiles(session)  # the files of posts (see _posting.py)
        self.reactions = RoomReactions(session, self._store)  # live once open
        self.replies = RoomReplies(session, self.collection, self._store)
        self._authors = AuthorNames(session, self.collection, self._on_event)

    # -- state ---------------------------------------------------------------

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """Everything shown: oldest first, then our unconfirmed or failed sends."""
        return self._store.messages

    @property
    def has_older(self) -> bool:
        """True while the last history read came back full (there may be more)."""
        return self._has_older

    @property
    def is_open(self) -> bool:
        """True between a successful :meth:`open` and :meth:`close`."""
        return self._opened and not self._closed

    def get(self, key: str) -> ChatMessage | None:
        """The message under ``key``, or None."""
        return self._store.get(key)

    def on_change(self, callback: Callable[[StoreChange], None]) -> Callable[[], None]:
        """Call ``callback`` with every change to the list; returns a function that stops it."""
        return self._callbacks.add(callback)

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Subscribe to new messages, then read the latest page.

        Subscribing first means nothing created meanwhile falls between the two:
        a message in both is shown once.

        Raises:
            RuntimeError: the room is already open, or closed.
            LookupError: no room has that name.
            DirectusError: the subscription or the read failed (the room stays closed).
        """
        self._check_usable()
        if self._opened:
            raise RuntimeError("the chat room is already open")
        own_id = (self._session.user or {}).get("id")
        self._store.own_id = own_id if isinstance(own_id, str) else None
        if self.room_name is not None:
            self.room = await find_room(self._session, self.room_name)
            if self.room is None:
                raise LookupError(f"no room called {self.room_name!r}")
        # Filtered on the server: another room's traffic never reaches this one.
        # Every kind: new messages, edits and deletes (each read back after a gap);
        # authors as bare ids, named from a cache (no join per subscriber per event).
        query = self._authors.subscribing(self._query(), self._session.user)
        subscription = await self._session.subscribe(self.collection, query=query)
        self._remove_listener = attach(subscription, self._authors.take, lambda: self._store.ids)
        self._subscription = subscription
        try:
            rows = await self._session.read(self.collection, self._page_query())
        except BaseException:
            await self._unsubscribe()
            raise
        self._opened = True
        self._has_older = len(rows) >= self.page_size
        self.replies.room_id = room_id = self.room.id if self.room is not None else None
        self._authors.learn(rows)
        self._emit(self._store.add_rows(rows))
        await self.reactions.open(room_id, rows)  # without reactions on the server: none

    async def close(self) -> None:
        """Stop listening. Idempotent; the session stays open (it is not the room's)."""
        if self._closed:
            return
        self._closed = True
        await self.reactions.close()
        await self.replies.close()
        await self._unsubscribe()

    async def __aenter__(self) -> ChatRoom:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- history -------------------------------------------------------------

    async def load_older(self) -> int:
        """Read the page before the oldest message shown and prepend it.

        Returns:
            how many messages were added (0 at the start of the history).

        Raises:
            RuntimeError: the room is not open.
            DirectusError: the read failed.
        """
        self._check_open()
        async with self._paging:
            oldest = self._store.oldest_id
            if oldest is None:
                self._has_older = False
                return 0
            rows = await self._session.read(self.collection, self._page_query(before=oldest))
            self._has_older = len(rows) >= self.page_size
            self._authors.learn(rows)
            change = self._store.add_rows(rows)
            self._emit(change)
            await self.reactions.load(rows)
            return len(change.messages)

    def _page_query(self, *, before: int | None = None) -> dict[str, Any]:
        older = {"id": {"_lt": before}} if before is not None else None
        return {**self._query(older), "sort": ["-id"], "limit": self.page_size}

    def _query(self, query_filter: dict[str, Any] | None = None) -> dict[str, Any]:
        """The fields a message needs, and ``query_filter`` narrowed to this room."""
        query: dict[str, Any] = {"fields": list(MESSAGE_FIELDS)}
        narrowed = in_room(self.room.id if self.room is not None else None, query_filter)
        if narrowed:
            query["filter"] = narrowed
        return query

    # -- sending -------------------------------------------------------------

    async def send(self, text: str, *, reply_to: str | None = None) -> ChatMessage:
        """Send ``text`` (stripped), shown at once as PENDING; ``reply_to``: a SENT message's key.

        Returns:
            the message once settled: SENT, or FAILED with the server's error
            (a failed send stays in the list; :meth:`retry` sends it again).

        Raises:
            ValueError: the text is blank, or longer than ``max_length``; the
                message replied to is not sent yet.
            KeyError: no message under ``reply_to``.
            RuntimeError: the room is closed.
        """
        self._check_usable()
        content = self.check_text(text)
        parent = self._store.get(reply_to) if reply_to is not None else None
        if reply_to is not None and (parent is None or parent.id is None):
            raise KeyError(reply_to) if parent is None else ValueError("reply to a sent message")
        change = self._store.add_pending(
            content, self._session.user, reply_to=parent.id if parent else None
        )
        self._emit(change)
        return await self._deliver(change.messages[0].key, content)

    async def retry(self, key: str) -> ChatMessage:
        """Send a FAILED message again.

        Every try of one message carries the same client uid (in the session's
        dedupe field, when the collection has one), so a try that was stored
        although it failed is confirmed with that row instead of stored twice.

        Raises:
            KeyError: no message under ``key``.
            ValueError: that message is not FAILED.
            RuntimeError: the room is closed.
        """
        self._check_usable()
        message = self._store.get(key)
        if message is None:
            raise KeyError(key)
        self._emit(self._store.retrying(key))
        return await self._deliver(key, message.content)

    post = post  # send a figure, a table, an image or a file: see _posting.py

    def discard(self, key: str) -> None:
        """Drop a FAILED message from the list (give up on it).

        Raises:
            KeyError: no message under ``key``.
            ValueError: that message is not FAILED.
        """
        message = self._store.get(key)
        if message is None:
            raise KeyError(key)
        if message.status is not MessageStatus.FAILED:
            status = message.status.value
            raise ValueError(f"only a failed message can be discarded; {key} is {status}")
        self._client_uids.pop(key, None)
        self.files.forget(key)
        self._emit(self._store.remove(key))

    async def edit(self, key: str, text: str) -> ChatMessage:
        """Change your own SENT message ``key`` to ``text`` (stripped, checked as :meth:`send`).

        The new text shows at once with ``saving="edit"``; once stored the
        message is ``edited``. Refused or failed, it shows as it was and the
        error is raised. The same text again is no change (no request).

        Raises:
            KeyError: no message under ``key``.
            ValueError: bad text (as :meth:`send`); the message is not SENT, or
                a change to it is on its way.
            Forbidden: someone else's message (checked before any request), or
                the server refused.
            RuntimeError: the room is not open.
            DirectusError: the update failed.
        """
        self._check_open()
        return await self._changes.edit(key, self.check_text(text))

    async def delete(self, key: str) -> None:
        """Delete your own SENT message ``key``: removed once the server has deleted it.

        It shows ``saving="delete"`` meanwhile; refused or failed, it stays
        as it was and the error is raised.

        Raises:
            KeyError, ValueError, Forbidden, RuntimeError, DirectusError: as :meth:`edit`.
        """
        self._check_open()
        await self._changes.delete(key)

    def check_text(self, text: str) -> str:
        """``text`` as it would be sent (stripped), if :meth:`send` would take it.

        Raises:
            ValueError: blank, longer than ``max_length``, or not valid Unicode
                (a lone surrogate cannot be sent as UTF-8).
        """
        return check_text(text, self.max_length)

    async def _deliver(self, key: str, content: str) -> ChatMessage:
        message = self._store.get(key)
        data: dict[str, Any] = {"content": content}
        if self.room is not None:
            data["room"] = self.room.id
        if message is not None and message.reply_to is not None:
            data["reply_to"] = message.reply_to
        store, uids, files = self._store, self._client_uids, self.files
        return await deliver(
            self._session,
            self.collection,
            store,
            self._emit,
            key,
            data,
            uids,
            extra=lambda: files.fields_for(key),  # a post's file goes up first
            on_stored=lambda: files.stored(key),
        )

    # -- events --------------------------------------------------------------

    def _on_event(self, event: SubscriptionEventLike) -> None:
        if self._closed:
            return
        if event.event in ("create", "update"):
            self._emit(self._store.add_rows(event.data))
        elif event.event == "delete":
            self._emit(self._store.remove_ids(event.keys))
            self.replies.deleted(event.keys)  # also those not loaded
        else:
            logger.debug("ignoring a %r event on %s", event.event, self.collection)

    def _emit(self, change: StoreChange) -> None:
        if change.is_empty:
            return
        self.reactions.forget(change)
        self.replies.seen(change)
        self._callbacks(change)

    async def _unsubscribe(self) -> None:
        self._authors.close()
        remover, self._remove_listener = self._remove_listener, None
        subscription, self._subscription = self._subscription, None
        await detach(subscription, remover, self.collection)

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError("the chat room is closed")

    def _check_open(self) -> None:
        self._check_usable()
        if not self._opened:
            raise RuntimeError("open() the chat room first")
