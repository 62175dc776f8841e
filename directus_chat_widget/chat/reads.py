"""How far the user has read in each room, kept on the server and written sparingly.

One row per (user, room) in ``read_positions`` (see
:mod:`directus_chat_widget.local.reads`): ``last_read`` is the id of the
newest message the user has seen in that room. Another notebook, a Voila page
or a reload reads it back with :meth:`ReadPositions.load`.

Writes: never one per message seen. :meth:`ReadPositions.advance` moves the
position here at once and asks for a write; the write goes out once no
advance has come for ``quiet`` seconds, and at the latest ``most`` seconds
after the first advance it carries. With the defaults (2 s, 10 s) a reader
watching a busy room costs at most 6 writes a minute, a quiet room one write
per burst, and an idle one none. What is pending is written by :meth:`flush`
(on a room switch, logout and close) and lost only if the process dies first.

A position only moves forward. A user's first write in a room creates the
row; a create refused because the row exists (another notebook made it
meanwhile) reads it back and updates it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from ..errors import DirectusError, SessionClosed
from ._ports import SessionLike
from .message import ChatMessage, MessageStatus

__all__ = ["READS", "ReadPositions", "first_unread", "slot_of", "unread_after"]

logger = logging.getLogger(__name__)

READS = "read_positions"
_FIELDS = ["id", "room", "last_read"]


def slot_of(user_id: str, room_id: int) -> str:
    """The unique key of a user's row for a room: ``"<user id>/<room id>"``."""
    return f"{user_id}/{room_id}"


def unread_after(messages: Iterable[ChatMessage], position: int) -> list[ChatMessage]:
    """The messages of others, stored on the server, newer than ``position``."""
    return [
        message
        for message in messages
        if message.status is MessageStatus.SENT
        and message.id is not None
        and message.id > position
        and not message.own
    ]


def first_unread(messages: Iterable[ChatMessage], position: int | None) -> ChatMessage | None:
    """The oldest unread message in ``messages`` (None: all read, or never read at all).

    A room never read has no position: all of it is new, and no marker is drawn.
    """
    if position is None:
        return None
    found = unread_after(messages, position)
    return found[0] if found else None


class ReadPositions:
    """The logged-in user's read position in every room, kept on the server.

    Args:
        session: a logged-in session (the room's).
        quiet: write once no advance has come for this many seconds.
        most: write at the latest this many seconds after the first advance waiting.

    Attributes:
        writes: how many writes went to the server (creates and updates).
    """

    def __init__(self, session: SessionLike, *, quiet: float = 2.0, most: float = 10.0) -> None:
        if quiet <= 0 or most < quiet:
            raise ValueError(f"need 0 < quiet <= most, got quiet={quiet}, most={most}")
        self._session = session
        self.quiet = quiet
        self.most = most
        self.writes = 0
        self._positions: dict[int, int] = {}
        self._stored: dict[int, int] = {}  # what the server holds, as far as we know
        self._rows: dict[int, int] = {}  # room -> the id of our row for it
        self._pending_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._writing = asyncio.Lock()
        self._flushes: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def user_id(self) -> str:
        user_id = (self._session.user or {}).get("id")
        if not isinstance(user_id, str):
            raise RuntimeError("read positions need a logged-in session")
        return user_id

    def get(self, room_id: int) -> int | None:
        """The id of the newest message read in ``room_id``; None if never read there."""
        return self._positions.get(room_id)

    @property
    def known(self) -> dict[int, int]:
        """Every room's position (rooms never read left out)."""
        return dict(self._positions)

    @property
    def pending(self) -> dict[int, int]:
        """The positions moved here that the server does not hold yet, by room."""
        return {
            room: value
            for room, value in self._positions.items()
            if value > self._stored.get(room, -1)
        }

    async def load(self) -> dict[int, int]:
        """Read the user's positions from the server; returns them by room id.

        Raises:
            Forbidden: the server has no read positions, or the user may not read them.
            DirectusError: the read failed.
        """
        query = {
            "fields": _FIELDS,
            # The policy shows a chat user their own rows only; an administrator sees all.
            "filter": {"slot": {"_starts_with": slot_of(self.user_id, 0)[:-1]}},
            "limit": -1,
        }
        for row in await self._session.read(READS, query):
            room, value, row_id = row.get("room"), row.get("last_read"), row.get("id")
            if isinstance(room, int) and isinstance(value, int) and isinstance(row_id, int):
                self._rows[room] = row_id
                self._note_stored(room, value)
        return dict(self._positions)

    def advance(self, room_id: int, message_id: int) -> bool:
        """The user has seen ``message_id`` in ``room_id``: move the position there.

        Returns False (nothing changes) when the position is already there or
        further. Otherwise the server hears of it within ``most`` seconds.
        """
        if self._closed or message_id <= self._positions.get(room_id, -1):
            return False
        self._positions[room_id] = message_id
        self._schedule()
        return True

    async def flush(self) -> None:
        """Write every pending position now (one write per room that moved).

        A failed write stays pending and is tried again later; nothing raises.
        """
        self._cancel_timer()
        self._pending_since = None
        async with self._writing:
            for room, value in sorted(self.pending.items()):
                try:
                    await self._write(room, value)
                except SessionClosed:
                    return
                except DirectusError as exc:
                    logger.info("read position of room %s not written: %s", room, exc)
                    self._schedule()  # tried again later

    async def close(self) -> None:
        """Write what is pending, then stop (later advances are ignored)."""
        if self._closed:
            return
        await self.flush()
        self._closed = True
        self._cancel_timer()
        for task in list(self._flushes):
            task.cancel()

    # -- internals ----------------------------------------------------------------

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: only flush() writes
        now = loop.time()
        if self._pending_since is None:
            self._pending_since = now
        due = min(now + self.quiet, self._pending_since + self.most)
        self._cancel_timer()
        self._timer = loop.call_at(due, self._flush_soon)

    def _flush_soon(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush(), name="dcw: read positions")
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _write(self, room: int, value: int) -> None:
        row_id = self._rows.get(room)
        if row_id is None:
            row_id, stored = await self._create(room, value)
            self._note_stored(room, stored)
            if stored >= value:
                return
        await self._session.update(row_id, {"last_read": value}, collection=READS)
        self.writes += 1
        self._note_stored(room, value)

    def _note_stored(self, room: int, value: int) -> None:
        self._stored[room] = max(value, self._stored.get(room, value))
        if value > self._positions.get(room, -1):
            self._positions[room] = value  # another view of ours read further

    async def _create(self, room: int, value: int) -> tuple[int, int]:
        """Make our row for ``room``: its id and the position it holds.

        If it exists already (another view of ours made it meanwhile), that
        row is read back, and it may hold less or more than ``value``.
        """
        slot = slot_of(self.user_id, room)
        data: dict[str, Any] = {"slot": slot, "room": room, "last_read": value}
        try:
            row = await self._session.create(data, collection=READS)
        except DirectusError as exc:
            if exc.code != "RECORD_NOT_UNIQUE":
                raise
            self.writes += 1  # refused, yet a write all the same
            query = {"fields": _FIELDS, "filter": {"slot": {"_eq": slot}}, "limit": 1}
            rows = await self._session.read(READS, query)
            if not rows or not isinstance(rows[0].get("id"), int):
                raise
            row = rows[0]
        else:
            self.writes += 1
            row = {**row, "last_read": row.get("last_read", value)}
        if not isinstance(row.get("id"), int):
            raise DirectusError(f"the read position of room {room} came back without an id")
        self._rows[room] = row["id"]
        stored = row.get("last_read")
        return row["id"], stored if isinstance(stored, int) else 0
