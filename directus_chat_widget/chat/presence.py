"""RoomPresence: who is online in a room and who is typing, over the room's session. No UI.

Directus has no presence, so it is kept in rows (see
:mod:`directus_chat_widget.local.presence`): one per user and room, refreshed
by its user every few seconds and judged by the server's timestamps::

    async with RoomPresence(session, "general") as presence:
        presence.on_change(lambda now: print([u.name for u in now.online], now.typing_text()))
        presence.keystroke()        # call on every key: writes are throttled
        presence.stop_typing()      # sent, or the box emptied: one write

What arrives live comes over a subscription on the session's socket (every
event kind; after a reconnect gap the session reads back what was missed).
Nobody is trusted to say goodbye: a row the server has not stamped for
``online_for`` seconds is someone gone, found on the reader's side by
timestamp (see :mod:`._presence_book` for the clock). Closing deletes one's
own row, so the others see one leave at once. Beside :class:`ChatRoom`, not
inside it: a view opens both over one session and one room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from .._callbacks import CallbackList
from ..errors import DirectusError, Forbidden, SessionClosed
from ._ports import SessionLike, SubscriptionEventLike, SubscriptionLike
from ._presence_book import Presence, PresenceBook, PresentUser, ServerClock, stamp_of
from ._typing import PresenceTiming, WritePlan
from .rooms import Room, find_room

__all__ = [
    "PRESENCE",
    "PRESENCE_FIELDS",
    "Presence",
    "PresenceTiming",
    "PresentUser",
    "RoomPresence",
]

logger = logging.getLogger(__name__)

PRESENCE = "presence"
# What a reader needs of a row (names through the author, as on messages).
PRESENCE_FIELDS = (
    "id",
    "typing",
    "date_created",
    "date_updated",
    "user_created.id",
    "user_created.first_name",
    "user_created.last_name",
)
# Leaving deletes one's row; a server that does not answer by then lets it expire.
_LEAVE_TIMEOUT = 3.0


class RoomPresence:
    """One user's presence in one room, and everyone else's as the server stamps it.

    Args:
        session: a logged-in RealtimeSession (not owned: closing leaves it open).
        room: the room, or its name (looked up on :meth:`open`).
        timing: how often rows are written and how long they are believed.

    Raises:
        TypeError: ``room`` is neither a :class:`Room` nor a name.
    """

    def __init__(
        self, session: SessionLike, room: Room | str, timing: PresenceTiming | None = None
    ) -> None:
        if not isinstance(room, Room | str):
            raise TypeError(f"room must be a Room or a room's name, not {type(room).__name__}")
        self._session = session
        self._room_asked = room
        self.room: Room | None = room if isinstance(room, Room) else None
        self.timing = timing or PresenceTiming()
        user_id = (session.user or {}).get("id")
        self._own_id = user_id if isinstance(user_id, str) else None
        self._plan = WritePlan(self.timing)
        self._clock = ServerClock()
        self._book = PresenceBook(self.timing, self._own_id)
        self._callbacks: CallbackList[[Presence]] = CallbackList("an on_change presence callback")
        self._current = Presence()
        self._row_id: int | None = None
        self._subscription: SubscriptionLike | None = None
        self._removers: list[Callable[[], Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._opened = False
        self._closed = False
        self.writes = 0  # rows written (creates and updates), for the curious and the bench

    # -- state ----------------------------------------------------------------

    @property
    def current(self) -> Presence:
        """Who is online and typing now (empty before :meth:`open` and after :meth:`close`)."""
        return self._current

    @property
    def is_open(self) -> bool:
        return self._opened and not self._closed

    def on_change(self, callback: Callable[[Presence], None]) -> Callable[[], None]:
        """Call ``callback(presence)`` whenever someone comes, goes, starts or stops typing;
        returns a function that stops it."""
        return self._callbacks.add(callback)

    # -- typing -----------------------------------------------------------------

    def keystroke(self) -> None:
        """The user typed a key. Cheap: writes follow the throttle, never the keys."""
        if self.is_open:
            self._plan.keystroke(_now())
            self._wake.set()

    def stop_typing(self) -> None:
        """The user stopped typing (sent, or emptied the box): the mark is cleared at once."""
        if self.is_open:
            self._plan.stop()
            self._wake.set()

    # -- lifecycle --------------------------------------------------------------

    async def open(self) -> None:
        """Say one is here, subscribe to the room's presence, read who is here already.

        Raises:
            RuntimeError: already open, or closed.
            RuntimeError: the session has no logged-in user.
            LookupError: no room has that name.
            DirectusError: the server refused (a server without the presence
                collection says Forbidden); nothing is left behind.
        """
        if self._opened or self._closed:
            raise RuntimeError("this presence is already open (or closed); make a new one")
        if self._own_id is None:
            raise RuntimeError("log the session in first: presence needs a user")
        if self.room is None:
            assert isinstance(self._room_asked, str)
            self.room = await find_room(self._session, self._room_asked)
            if self.room is None:
                raise LookupError(f"no room called {self._room_asked!r}")
        try:
            await self._write(self._plan.due(_now()) or False)
            await self._subscribe()
            self._book.apply(await self._session.read(PRESENCE, self._recent_query()))
        except BaseException:
            await self._leave()
            raise
        self._opened = True
        self._writer = asyncio.get_running_loop().create_task(
            self._write_loop(), name=f"dcw-presence: {self.room.name}"
        )
        self._judge()

    async def close(self) -> None:
        """Leave: one's row is deleted (the others see it at once), nothing more is shown.

        Idempotent. Never raises for the server: a row it did not delete expires.
        """
        if self._closed:
            return
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        await self._leave()
        self._book.clear()
        self._show(Presence())

    async def __aenter__(self) -> RoomPresence:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- writing one's own row ----------------------------------------------------

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            typing = self._plan.due(loop.time())
            if typing is not None:
                try:
                    await self._write(typing)
                except SessionClosed:
                    return  # the session is gone for good; the row expires
                continue
            self._wake.clear()
            delay = self._plan.next_check(loop.time()) - loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(delay, 0.0))

    async def _write(self, typing: bool) -> None:
        """Write one's row with ``typing`` (made or found first); a failure waits for a retry."""
        now = _now()
        try:
            row = await self._store(typing)
        except DirectusError as exc:
            if not self._opened or isinstance(exc, SessionClosed):
                raise
            logger.info("presence in %s not written: %s", self._room_label(), exc)
            self._plan.failed(now)
            return
        self.writes += 1
        self._plan.wrote(now, typing)
        self._clock.note(stamp_of(row))
        self._judge()

    async def _store(self, typing: bool) -> Mapping[str, Any]:
        if self._row_id is not None:
            try:
                return await self._session.update(
                    self._row_id, {"typing": typing}, collection=PRESENCE
                )
            except Forbidden:
                # Gone: deleted by this user's other view of the room as it closed.
                self._row_id = None
        assert self.room is not None and self._own_id is not None
        key = f"{self._own_id}@{self.room.id}"
        found = await self._row_keyed(key)
        if found is None:
            try:
                row = await self._session.create(
                    {"key": key, "room": self.room.id, "typing": typing}, collection=PRESENCE
                )
            except DirectusError as exc:
                # Made meanwhile by this user's other view: use that one.
                if exc.code != "RECORD_NOT_UNIQUE" or (found := await self._row_keyed(key)) is None:
                    raise
            else:
                self._row_id = int(row["id"])
                return row
        self._row_id = found
        return await self._session.update(found, {"typing": typing}, collection=PRESENCE)

    async def _row_keyed(self, key: str) -> int | None:
        query = {"filter": {"key": {"_eq": key}}, "fields": ["id"], "limit": 1}
        rows = await self._session.read(PRESENCE, query)
        return int(rows[0]["id"]) if rows else None

    async def _leave(self) -> None:
        """Delete one's row and stop listening; quiet about a server that cannot be told."""
        for remove in self._removers:
            remove()
        self._removers.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        row_id, self._row_id = self._row_id, None
        if row_id is not None:
            try:
                await asyncio.wait_for(
                    self._session.delete(row_id, collection=PRESENCE), _LEAVE_TIMEOUT
                )
            except (DirectusError, TimeoutError) as exc:
                logger.info("presence row %s not deleted (it expires): %r", row_id, exc)
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(DirectusError, TimeoutError):
                await asyncio.wait_for(subscription.unsubscribe(), _LEAVE_TIMEOUT)

    # -- reading everyone's rows --------------------------------------------------

    async def _subscribe(self) -> None:
        assert self.room is not None
        query = {"fields": list(PRESENCE_FIELDS), "filter": {"room": {"_eq": self.room.id}}}
        subscription = await self._session.subscribe(PRESENCE, query=query)
        self._subscription = subscription
        remover = subscription.add_listener(self._on_event)
        if callable(remover):
            self._removers.append(remover)
        track = getattr(subscription, "track", None)
        if callable(track):  # after a gap, rows held that are gone come as deletes
            track(lambda: self._book.ids)

    def _recent_query(self) -> dict[str, Any]:
        """The room's rows the server stamped within ``online_for``, by the server's ``$NOW``."""
        assert self.room is not None
        since = {"_gte": f"$NOW(-{self.timing.online_for:g} seconds)"}
        recent = {"_or": [{"date_updated": since}, {"date_created": since}]}
        return {
            "fields": list(PRESENCE_FIELDS),
            "filter": {"_and": [{"room": {"_eq": self.room.id}}, recent]},
            "limit": -1,
        }

    def _on_event(self, event: SubscriptionEventLike) -> None:
        if self._closed:
            return
        if event.event in ("create", "update"):
            self._book.apply(event.data)
        elif event.event == "delete":
            self._book.remove(event.keys)
        self._judge()

    def _judge(self) -> None:
        """Show who is here now, and look again when the next row or mark runs out."""
        if self._closed or not self._opened:
            return  # open() judges once it has read who is here
        now = self._clock.now()
        self._show(self._book.judge(now))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wait = self._book.next_change(now)
        if wait is not None:
            # A hair past the limit, so the look finds it passed.
            self._timer = asyncio.get_running_loop().call_later(wait + 0.01, self._judge)

    def _show(self, presence: Presence) -> None:
        if presence != self._current:
            self._current = presence
            self._callbacks(presence)

    def _room_label(self) -> str:
        return self.room.name if self.room is not None else str(self._room_asked)


def _now() -> float:
    return asyncio.get_running_loop().time()
