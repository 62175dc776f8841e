"""Unread in the widget: the marker at the first unread message, counts per room, mentions.

After login the user's read positions are read from the server and the
unread counter opens (see :mod:`..chat.reads`, :mod:`..chat.unread`). Then:

- each view of the list is told where the open room's unread messages start,
  and draws a line there (``message_list.unread.js``); older pages are read
  first when the first unread message is older than the latest page (at most
  :data:`REACH` messages back). A new view (a reload, a re-displayed cell)
  asks with its snapshot and is told too;
- a view says which message the reader has seen once it shows the latest
  one, visible, at the bottom (``seen``); the position moves here at once and
  reaches the server debounced (:class:`..chat.reads.ReadPositions`);
- the room switcher shows every room's unread count and a badge of unread
  mentions, and a mention of the user becomes a browser notification where the
  page may show one (``room_bar.js``).

Messages between Python and the list's views (besides ``message_list.py``'s)::

    Python -> browser
      {"type": "unread", "view": id|None, "first": key|None, "count": n, "fresh": bool}
          where the unread messages start (None: nothing unread, or a room
          never read); fresh: the view was just (re)drawn, so it goes there
      {"type": "jump", "view": None}        every view jumps to the latest message
    browser -> Python
      {"type": "seen", "view": id, "key": key}   the reader saw ``key`` at the bottom
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._callbacks import CallbackList
from ..chat.reads import ReadPositions, first_unread, unread_after
from ..chat.rooms import list_rooms
from ..chat.store import MessageStatus
from ..chat.unread import Mentioned, UnreadRooms
from ..errors import DirectusError
from ._login import LoginFlow
from ._mentioning import Mentioning
from ._tasks import TaskKeeper
from .message_list import MessageList
from .room_bar import RoomBar

__all__ = ["MentionNews", "Unread"]

logger = logging.getLogger(__name__)

# How many messages back a room is read, at most, to show its first unread one.
REACH = 200


@dataclass(frozen=True)
class MentionNews:
    """A new message that mentions the logged-in user (what ``on_mention`` callbacks get)."""

    room: str
    message_id: int
    author: str
    author_id: str | None
    content: str


class Unread:
    """The read positions and unread counts of one widget's logged-in user.

    Args:
        login: the session and open room.
        tasks: keeps what the views' messages start.
        mentioning: the members mentions are matched against.
        message_list: the list whose views show the marker and report what was seen.
        room_bar: the switcher that shows the counts and the mentions badge.
        collection: the messages collection.
        quiet, most: when read positions are written (see :class:`ReadPositions`).
    """

    def __init__(
        self,
        login: LoginFlow,
        tasks: TaskKeeper,
        mentioning: Mentioning,
        message_list: MessageList,
        room_bar: RoomBar,
        collection: str,
        *,
        quiet: float = 2.0,
        most: float = 10.0,
    ) -> None:
        self._login = login
        self._tasks = tasks
        self._mentioning = mentioning
        self._list = message_list
        self._bar = room_bar
        self._collection = collection
        self.quiet, self.most = quiet, most
        self._reading_names = False
        self.positions: ReadPositions | None = None
        self.counter: UnreadRooms | None = None
        self._names: dict[int, str] = {}
        self.changes: CallbackList[[dict[str, int]]] = CallbackList("an on_unread callback")
        self.mentioned: CallbackList[[MentionNews]] = CallbackList("an on_mention callback")
        message_list.on_msg(self._on_view_msg)
        login.before_leave.append(self.stop)

    # -- reading ------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        """Unread messages by room name (rooms with none left out)."""
        return self._by_name(self.counter.counts if self.counter else {})

    @property
    def mentions(self) -> dict[str, int]:
        """Unread messages that mention the user, by room name."""
        return self._by_name(self.counter.mentions if self.counter else {})

    def position(self) -> int | None:
        """The open room's read position: the newest message id read (None: never read)."""
        room = self._login.room
        if self.positions is None or room is None or room.room is None:
            return None
        return self.positions.get(room.room.id)

    # -- from login to logout -------------------------------------------------------

    async def start(self, names: dict[int, str]) -> None:
        """Read the positions, open the counter, tell the views; ``names``: rooms by id.

        A server without read positions (an older schema) leaves the feature
        off, and says so in the log.
        """
        session = self._login.session
        if session is None or self.counter is not None:
            return
        self._names = dict(names)
        positions = ReadPositions(session, quiet=self.quiet, most=self.most)
        counter = UnreadRooms(
            session, positions, lambda: self._mentioning.directory, self._collection
        )
        try:
            await positions.load()
            await counter.open()
        except DirectusError as exc:
            logger.info("no read positions here (apply the chat schema?): %s", exc)
            await counter.close()
            return
        if self._login.session is not session:  # logged out meanwhile
            await counter.close()
            return
        self.positions, self.counter = positions, counter
        counter.on_change(self._show_counts)
        counter.on_mention(self._on_mention)
        self._show_counts()
        await self._arrive()

    async def stop(self) -> None:
        """Write what is pending and stop counting (before the session ends)."""
        counter, positions = self.counter, self.positions
        self.counter = self.positions = None
        if counter is not None:
            await counter.close()
        if positions is not None:
            await positions.close()
        self._bar.unread, self._bar.mentions = {}, {}

    def room_changed(self, _name: str) -> None:
        """Another room shows: its views learn where its unread messages start."""
        if self.counter is not None:
            self._tasks.spawn(self._arrive(), "finding the first unread message")
            self._tasks.spawn(self._refresh(self.counter), "counting unread messages")

    async def _arrive(self) -> None:
        """Read older pages until the first unread message is shown, then tell the views."""
        room = self._login.room
        if room is None or room.room is None or self.positions is None:
            return
        position = self.positions.get(room.room.id)
        read_back = 0
        while position is not None and room.has_older and read_back < REACH:
            oldest = next((m.id for m in room.messages if m.id is not None), None)
            if oldest is None or oldest <= position + 1:
                break  # the first unread one, if any, is here already
            added = await room.load_older()
            if not added or self._login.room is not room:
                break
            read_back += added
        if self._login.room is room:
            self._tell_views(None, fresh=True)

    # -- what the API does ------------------------------------------------------------

    async def mark_read(self) -> None:
        """The open room is read up to its newest message; written at once."""
        room = self._login.require_room()
        sent = [m.id for m in room.messages if m.status is MessageStatus.SENT and m.id]
        if self.counter is None or room.room is None or not sent:
            return
        self.counter.read_to(room.room.id, max(sent))
        if self.positions is not None:
            await self.positions.flush()

    def jump_to_latest(self) -> None:
        """Every view scrolls to the newest message."""
        self._list.send({"type": "jump", "view": None})

    # -- the views' messages --------------------------------------------------------------

    def _on_view_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        view = content.get("view")
        if content.get("type") == "snapshot" and isinstance(view, str):
            self._tell_views(view, fresh=True)  # after the list answered with the snapshot
        elif content.get("type") == "seen" and isinstance(content.get("key"), str):
            self.seen(content["key"])

    def seen(self, key: str) -> None:
        """The reader has seen the message ``key`` (and so all before it) in the open room."""
        room, counter = self._login.room, self.counter
        message = room.get(key) if room is not None else None
        if counter is None or room is None or room.room is None or message is None:
            return
        if message.id is None:
            return  # not stored yet: the next one seen will carry it
        later = unread_after(room.messages, message.id)
        mentioned = sum(self._mentioning.mentions_me(m.content) for m in later)
        counter.read_to(room.room.id, message.id, left=len(later), mentions_left=mentioned)

    def _tell_views(self, view: str | None, *, fresh: bool) -> None:
        room, counter = self._login.room, self.counter
        if room is None or room.room is None or counter is None or self.positions is None:
            return
        first = first_unread(room.messages, self.positions.get(room.room.id))
        count = counter.counts.get(room.room.id, 0)
        key = first.key if first is not None else None
        self._list.send(
            {"type": "unread", "view": view, "first": key, "count": count, "fresh": fresh}
        )

    # -- counts and mentions ---------------------------------------------------------------

    def _by_name(self, by_id: dict[int, int]) -> dict[str, int]:
        return {self._names[room]: n for room, n in by_id.items() if room in self._names and n}

    def _show_counts(self) -> None:
        counter = self.counter
        if counter is None:
            return
        if set(counter.counts) - set(self._names) and not self._reading_names:
            self._reading_names = True  # a room made since: learn its name
            self._tasks.spawn(self._read_names(), "reading the rooms")
        counts = self.counts
        self._bar.unread, self._bar.mentions = counts, self.mentions
        self.changes(counts)

    def _on_mention(self, mentioned: Mentioned) -> None:
        name = self._names.get(mentioned.room, "")
        news = MentionNews(
            name, mentioned.message_id, mentioned.author, mentioned.author_id, mentioned.content
        )
        current = self._login.room_name == name
        self._bar.notify(f"id:{news.message_id}", name, news.author, news.content, current)
        self.mentioned(news)

    async def _read_names(self) -> None:
        session = self._login.session
        try:
            if session is None:
                return
            rooms = await list_rooms(session)
        finally:
            self._reading_names = False
        self._names = {room.id: room.name for room in rooms}
        self._bar.rooms = [room.name for room in rooms]
        if self.counter is not None:
            self._bar.unread, self._bar.mentions = self.counts, self.mentions

    async def _refresh(self, counter: UnreadRooms) -> None:
        try:
            await counter.refresh()
        except DirectusError as exc:
            logger.info("counting unread messages failed: %s", exc)


UnreadCallback = Callable[[dict[str, int]], None]
MentionCallback = Callable[[MentionNews], None]
