"""Replies: what a reply shows of the message it answers, kept current.

A message answers another through ``messages.reply_to`` (the parent's id, in
the same room; see :mod:`directus_chat_widget.local.reactions`). A reply shows
a :class:`Quote` of its parent: the author and the start of the text, taken
from the room's store when the parent is loaded, else read from the server
once (one read for every parent a page lacks). A parent that is deleted, or
that is not in this room, shows as gone.

:class:`RoomReplies` belongs to a ChatRoom (``room.replies``). It watches the
room's changes: when a parent is edited, deleted or read, the replies that
quote it are told (``on_change``), so a view redraws their quotes alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .._callbacks import CallbackList
from ..errors import DirectusError
from ._ports import SessionLike
from ._rows import Row, parse_row
from .message import MESSAGE_FIELDS, UNKNOWN_AUTHOR, ChatMessage, MessageStatus, StoreChange
from .rooms import in_room
from .store import MessageStore

__all__ = ["SNIPPET_LENGTH", "Quote", "RoomReplies", "snippet"]

logger = logging.getLogger(__name__)

SNIPPET_LENGTH = 100  # characters of the parent's text a quote shows


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """``text`` on one line, cut to ``length`` characters (with "…" when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else f"{flat[: length - 1]}…"


@dataclass(frozen=True)
class Quote:
    """What a reply shows of its parent.

    Attributes:
        id: the parent's id.
        key: the parent's key in the room's list, or ``id:<id>`` (the key it
            will have) when it is not loaded.
        author: the parent's author's first name ("" while not read yet).
        text: the start of the parent's text, on one line ("" when gone).
        gone: the parent was deleted (or is not in this room).
        loading: not read yet; the quote will change once it is.
    """

    id: int
    key: str
    author: str
    text: str
    gone: bool = False
    loading: bool = False


class RoomReplies:
    """The quotes of one room's replies. Made by ChatRoom; fed its changes and events."""

    def __init__(self, session: SessionLike, collection: str, store: MessageStore) -> None:
        self._session = session
        self._collection = collection
        self._store = store
        self.room_id: int | None = None  # set by the room once open
        self._read: dict[int, Row | None] = {}  # parents read from the server; None: gone
        self._children: dict[int, set[str]] = {}  # parent id -> keys of replies shown
        self._wanted: set[int] = set()  # parents to read
        self._reader: asyncio.Task[None] | None = None
        self._callbacks: CallbackList[[tuple[str, ...]]] = CallbackList("an on_quotes callback")

    def quote(self, message: ChatMessage) -> Quote | None:
        """What ``message`` shows of its parent; None if it is not a reply."""
        return None if message.reply_to is None else self.quote_of(message.reply_to)

    def quote_of(self, parent_id: int) -> Quote:
        """What a reply to the message ``parent_id`` shows of it."""
        parent = self._store.by_id(parent_id)
        if parent is not None and parent.status is MessageStatus.SENT:
            return Quote(parent_id, parent.key, _first_name(parent), snippet(parent.content))
        key = f"id:{parent_id}"
        if parent_id not in self._read:
            return Quote(parent_id, key, "", "", loading=True)
        row = self._read[parent_id]
        if row is None:
            return Quote(parent_id, key, "", "", gone=True)
        name = row.author.first_name or (row.author.name or UNKNOWN_AUTHOR).split()[0]
        return Quote(parent_id, key, name, snippet(row.content))

    def on_change(self, callback: Callable[[tuple[str, ...]], None]) -> Callable[[], None]:
        """Call ``callback(keys)`` when the quotes of the replies ``keys`` change."""
        return self._callbacks.add(callback)

    # -- fed by the room ---------------------------------------------------------------

    def seen(self, change: StoreChange) -> None:
        """A change of the room's list: index its replies, and tell those whose parent changed."""
        if change.kind == "reset":
            self._children.clear()
        gone = change.kind == "remove"
        touched: set[str] = set()
        for message in change.messages:
            if message.reply_to is not None:
                children = self._children.setdefault(message.reply_to, set())
                if gone:
                    children.discard(message.key)
                else:
                    children.add(message.key)
                    if self._store.by_id(message.reply_to) is None:
                        self._want(message.reply_to)
            if message.id is not None:
                if gone:
                    self._read[message.id] = None  # deleted: quoted as gone from now on
                touched |= self._children.get(message.id, set())
        self._tell(touched)

    def deleted(self, ids: Iterable[Any]) -> None:
        """The server deleted these messages (loaded or not): their replies quote them as gone."""
        touched: set[str] = set()
        for message_id in ids:
            known_gone = message_id in self._read and self._read[message_id] is None
            if not known_gone and (message_id in self._children or message_id in self._read):
                self._read[message_id] = None
                touched |= self._children.get(message_id, set())
        self._tell(touched)

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()

    # -- internals ----------------------------------------------------------------------

    def _want(self, parent_id: int) -> None:
        if parent_id in self._read:
            return
        self._wanted.add(parent_id)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_parents())

    async def _read_parents(self) -> None:
        """Read every parent wanted (in rounds: more may be wanted meanwhile)."""
        while self._wanted:
            ids, self._wanted = sorted(self._wanted), set()
            query = {
                "fields": list(MESSAGE_FIELDS),
                "filter": in_room(self.room_id, {"id": {"_in": ids}}),
                "limit": -1,
            }
            try:
                rows = await self._session.read(self._collection, query)
            except DirectusError as exc:
                logger.info("could not read the messages replied to (%s): %s", ids, exc)
                return  # they stay "loading"; a later page asks again
            found = {row.id: row for row in map(parse_row, rows) if row is not None}
            touched: set[str] = set()
            for parent_id in ids:
                self._read[parent_id] = found.get(parent_id)
                touched |= self._children.get(parent_id, set())
            self._tell(touched)

    def _tell(self, keys: set[str]) -> None:
        shown = tuple(sorted(key for key in keys if self._store.get(key) is not None))
        if shown:
            self._callbacks(shown)


def _first_name(message: ChatMessage) -> str:
    first = (message.author_first_name or "").strip()
    return first or (message.author_name.split() or [UNKNOWN_AUTHOR])[0]
