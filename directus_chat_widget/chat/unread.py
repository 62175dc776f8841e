"""Unread messages and unread mentions of the user, counted for every room, kept live.

The counts come from the server when :meth:`UnreadRooms.open` (or
:meth:`~UnreadRooms.refresh`) runs: one grouped count of the messages of
others newer than the user's position in each room (a room never read counts
whole), and the unread messages that may mention the user (narrowed by the
server with ``_icontains``, then confirmed with :mod:`.mentions`, the rules
the widget highlights by). From then on one subscription to new messages in
every room (their id, room, author and text) keeps them current, and a
mention of the user is told to the ``on_mention`` callbacks. The server
evaluates that subscription for every new message, as it does the open
room's: two per chat user instead of one. Edits and deletes are not
followed; the next refresh (a room switch, a login) counts them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._callbacks import CallbackList
from ._ports import SessionLike, SubscriptionEventLike, SubscriptionLike
from ._rows import author_of
from .mentions import Directory
from .message import UNKNOWN_AUTHOR
from .reads import ReadPositions

__all__ = ["Mentioned", "UnreadRooms"]

logger = logging.getLogger(__name__)

EVENT_FIELDS = (
    "id",
    "room",
    "content",
    "user_created.id",
    "user_created.first_name",
    "user_created.last_name",
)
# The newest candidates a refresh confirms; older mentions are not counted.
MENTION_CANDIDATES = 500


@dataclass(frozen=True)
class Mentioned:
    """A new message that mentions the user."""

    room: int
    message_id: int
    author: str
    author_id: str | None
    content: str


class UnreadRooms:
    """The unread count and unread mentions of every room, for one logged-in user.

    Args:
        session: the logged-in session.
        positions: the user's read positions (loaded, or loaded by :meth:`open`).
        directory: gives the members mentions are matched against (it may grow).
        collection: the messages collection.
    """

    def __init__(
        self,
        session: SessionLike,
        positions: ReadPositions,
        directory: Callable[[], Directory],
        collection: str = "messages",
    ) -> None:
        self._session = session
        self._positions = positions
        self._directory = directory
        self._collection = collection
        self._counts: dict[int, int] = defaultdict(int)
        self._mentions: dict[int, int] = defaultdict(int)
        self._counted: dict[int, int] = {}  # room -> the newest id counted
        self._subscription: SubscriptionLike | None = None
        self._changes: CallbackList[[]] = CallbackList("an unread on_change callback")
        self._mentioned: CallbackList[[Mentioned]] = CallbackList("an on_mention callback")

    @property
    def counts(self) -> dict[int, int]:
        """Unread messages by room id (rooms with none left out)."""
        return {room: count for room, count in self._counts.items() if count}

    @property
    def mentions(self) -> dict[int, int]:
        """Unread messages that mention the user, by room id (rooms with none left out)."""
        return {room: count for room, count in self._mentions.items() if count}

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever a count changes; returns a remover."""
        return self._changes.add(callback)

    def on_mention(self, callback: Callable[[Mentioned], None]) -> Callable[[], None]:
        """Call ``callback(mentioned)`` for each new message that mentions the user."""
        return self._mentioned.add(callback)

    @property
    def _own_id(self) -> str | None:
        own = (self._session.user or {}).get("id")
        return own if isinstance(own, str) else None

    async def open(self) -> None:
        """Subscribe to new messages in every room, then count from the server.

        Raises:
            DirectusError: the subscription or a read failed.
        """
        query = {"fields": list(EVENT_FIELDS)}
        subscription = await self._session.subscribe(self._collection, query=query, event="create")
        subscription.add_listener(self._on_event)
        self._subscription = subscription
        await self.refresh()

    async def refresh(self) -> None:
        """Count unread messages and mentions from the server, in every room.

        Raises:
            DirectusError: a read failed (the counts stay as they were).
        """
        unread = self._unread_filter()
        query = {
            "aggregate": {"count": "*", "max": ["id"]},
            "groupBy": ["room"],
            "filter": unread,
            "limit": -1,
        }
        rows = await self._session.read(self._collection, query)
        mentions = await self._count_mentions(unread)
        self._counts.clear()
        for row in rows:
            room, count, newest = row.get("room"), _number(row.get("count")), row.get("max")
            if isinstance(room, int):
                self._counts[room] = count
                if isinstance(newest, Mapping) and isinstance(newest.get("id"), int):
                    self._counted[room] = max(newest["id"], self._counted.get(room, 0))
        self._mentions.clear()
        self._mentions.update(mentions)
        self._changes()

    def read_to(self, room: int, message_id: int, *, left: int = 0, mentions_left: int = 0) -> None:
        """The user has read ``room`` up to ``message_id``; ``left`` newer ones are unread.

        Moves the read position (written to the server later, see :mod:`.reads`).
        """
        self._positions.advance(room, message_id)
        before = (self._counts.get(room, 0), self._mentions.get(room, 0))
        self._counts[room], self._mentions[room] = left, mentions_left
        self._counted[room] = max(message_id, self._counted.get(room, 0))
        if before != (left, mentions_left):
            self._changes()

    async def close(self) -> None:
        """Stop listening (the positions are the caller's to close)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            try:
                await subscription.unsubscribe()
            except Exception as exc:  # the session may be gone: so is the subscription
                logger.debug("unsubscribing the unread counter failed: %s", exc)

    # -- internals ----------------------------------------------------------------

    def _unread_filter(self) -> dict[str, Any]:
        others = {"user_created": {"_neq": self._own_id}}
        read = self._positions.known
        if not read:
            return others
        parts: list[dict[str, Any]] = [
            {"_and": [{"room": {"_eq": room}}, {"id": {"_gt": value}}]}
            for room, value in sorted(read.items())
        ]
        parts.append({"room": {"_nin": sorted(read)}})  # never read: all of it
        return {"_and": [others, {"_or": parts}]}

    async def _count_mentions(self, unread: dict[str, Any]) -> dict[int, int]:
        own = self._own_id
        directory = self._directory()
        me = next((member for member in directory.members if member.id == own), None)
        if me is None:
            return {}
        word = (me.first_name or me.last_name).split(" ", 1)[0]
        query = {
            "fields": ["id", "room", "content"],
            "filter": {"_and": [unread, {"content": {"_icontains": f"@{word}"}}]},
            "sort": ["-id"],
            "limit": MENTION_CANDIDATES,
        }
        counts: dict[int, int] = defaultdict(int)
        for row in await self._session.read(self._collection, query):
            room, content = row.get("room"), row.get("content")
            mentioned = isinstance(content, str) and directory.find(content).of(own)
            if isinstance(room, int) and mentioned:
                counts[room] += 1
        return dict(counts)

    def _on_event(self, event: SubscriptionEventLike) -> None:
        if event.event != "create":
            return
        own, changed = self._own_id, False
        for row in event.data:
            room, message_id = row.get("room"), row.get("id")
            author = author_of(row.get("user_created"))
            if not isinstance(room, int) or not isinstance(message_id, int) or author.id == own:
                continue
            read = self._positions.get(room)
            if message_id <= max(read or 0, self._counted.get(room, 0)):
                continue  # read already, or counted (a replay after a gap)
            self._counted[room] = message_id
            self._counts[room] += 1
            changed = True
            content = row.get("content")
            if isinstance(content, str) and self._directory().find(content).of(own):
                self._mentions[room] += 1
                name = author.name or UNKNOWN_AUTHOR
                self._mentioned(Mentioned(room, message_id, name, author.id, content))
        if changed:
            self._changes()


def _number(value: Any) -> int:
    """A count as Directus sends it: a number, a numeric string, or ``{"id": n}``."""
    if isinstance(value, Mapping):
        value = next(iter(value.values()), 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
