"""A live subscription: an async iterator of events, plus listeners.

A :class:`Subscription` outlives the socket it was made on: after a reconnect
the session subscribes again under the same uid and reads what was created
meanwhile (ids above what this subscription has seen), delivering those rows as
``create`` events marked ``replayed``. Create events are de-duplicated by id,
so a row is delivered once even when it comes both live and from the backfill.

The bookkeeping for that is pure and lives here: which ids were seen, and from
which id a backfill must read (:attr:`Subscription.backfill_floor`). Events from
the server can arrive slightly out of id order (Directus re-reads each event's
rows concurrently), so the floor is the lowest of the last few ids seen, not
the highest: a row still in flight below the highest is read again, and the
de-duplication drops what was already delivered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._callbacks import CallbackList
from ..errors import DirectusError
from .protocol import Event, Key, SubscriptionEvent

__all__ = ["Subscription", "SubscriptionStatus", "with_id_field"]

logger = logging.getLogger(__name__)

Listener = Callable[[SubscriptionEvent], None]
StatusListener = Callable[["SubscriptionStatus"], None]


@dataclass(frozen=True)
class SubscriptionStatus:
    """News about a subscription itself, not about a row.

    Attributes:
        kind: ``gap``: the socket was lost, events may be missing until
            ``restored``; ``restored``: subscribed again, and what the gap hid
            was delivered (as events marked ``replayed``); ``refused``: the
            server refused to send an event (FORBIDDEN: the fields or rows it
            names are no longer readable); ``ended``: gone for good (``error``
            says why, None after unsubscribe or close).
        error: the server's refusal, for ``refused`` and a failed ``ended``.
    """

    kind: Literal["gap", "restored", "refused", "ended"]
    error: DirectusError | None = None


# How many recent ids bound the backfill floor; events further out of order than
# this are not expected (Directus dispatches each event as soon as it is stored).
_RECENT = 32
# How many delivered ids are remembered for de-duplication.
_SEEN = 4096
# Events kept for iteration; past this the oldest go (listeners still see all).
_BUFFER = 1000
# The field whose value says when a row last changed; a gap is read back from it.
UPDATED_FIELD = "date_updated"


class _End:
    """Queued to wake iterators: the subscription is over, or the session gave up."""

    def __init__(self, error: DirectusError | None) -> None:
        self.error = error


class Subscription:
    """Events of one collection; made by :meth:`RealtimeSession.subscribe`.

    Iterate it (``async for event in subscription``) or add listeners; both see
    every event. Iteration ends after :meth:`unsubscribe` or when the session
    closes; if the session gives up reconnecting, a waiting iteration raises
    :class:`SessionGaveUp` (iterate again after ``session.reconnect()``).

    Attributes:
        uid: the subscription's id on the socket (kept across reconnects).
        collection, query, event: what was asked for.
        last_id: the highest row id delivered so far (None before the first).
        initial: the rows of the first ``init`` reply (only without an ``event``).
    """

    def __init__(
        self,
        uid: str,
        collection: str,
        *,
        query: Mapping[str, Any] | None,
        event: Event | None,
        unsubscribe: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        self.uid = uid
        self.collection = collection
        self.query: dict[str, Any] | None = dict(query) if query is not None else None
        self.event = event
        self.last_id: int | None = None
        self.active = False
        self.closed = False
        self.since: int | None = None
        self.initial: tuple[dict[str, Any], ...] | None = None
        self._unsubscribe = unsubscribe
        self._listeners: CallbackList[[SubscriptionEvent]] = CallbackList(
            f"a listener of the {collection} subscription"
        )
        # Filled from the start, so an event that comes before the first
        # iteration is not lost; bounded, so a listener-only user leaks nothing.
        self._queue: asyncio.Queue[SubscriptionEvent | _End] = asyncio.Queue()
        self._overflowed = False
        self._waiting = 0
        self._seen: OrderedDict[Key, None] = OrderedDict()
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._held: list[SubscriptionEvent] | None = None
        self._status: CallbackList[[SubscriptionStatus]] = CallbackList(
            f"a status listener of the {collection} subscription"
        )
        # Set while the session has given up: every iteration raises it, the
        # ones waiting now and any started later, until the session is back.
        self._failure: DirectusError | None = None
        self._in_gap = False
        # The newest UPDATED_FIELD value delivered (ISO text), per row and overall.
        self._versions: OrderedDict[Key, str] = OrderedDict()
        self.updated_mark: str | None = None
        self.updates_known = False  # updated_mark was set from the server at least once
        self._tracker: Callable[[], list[Key]] | None = None
        # Floors owed a read-back (see owe()), by a number that pays each one back.
        self._owed: dict[int, int] = {}
        self._next_debt = 0

    def __repr__(self) -> str:
        state = "closed" if self.closed else "active" if self.active else "pending"
        return f"<Subscription {self.collection} event={self.event} {state} last_id={self.last_id}>"

    # -- public ---------------------------------------------------------------

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that removes it.

        A listener that raises is logged and kept; the others still run.
        """
        return self._listeners.add(callback)

    def on_status(self, callback: StatusListener) -> Callable[[], None]:
        """Call ``callback(status)`` on a gap, its end, a refusal; returns a remover."""
        return self._status.add(callback)

    async def unsubscribe(self) -> None:
        """Stop this subscription (on the server too, when connected). Idempotent.

        Raises:
            RequestTimeout: the server did not confirm in time (it is gone locally anyway).
        """
        if self.closed:
            return
        self._finish(None)
        await self._unsubscribe(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> SubscriptionEvent:
        if self._failure is not None and self._queue.empty():
            raise self._failure
        self._waiting += 1
        try:
            item = await self._queue.get()
        finally:
            self._waiting -= 1
        if isinstance(item, _End):
            if item.error is None:
                self._queue.put_nowait(item)  # every later call ends too
                raise StopAsyncIteration
            raise item.error
        return item

    # -- bookkeeping for the session -----------------------------------------

    @property
    def backfills(self) -> bool:
        """Whether missed rows can be read back: create events, and ids to count from."""
        return self.event in (None, "create")

    @property
    def wants_updates(self) -> bool:
        """Whether changes missed in a gap are read back (by :data:`UPDATED_FIELD`)."""
        if self.event not in (None, "update"):
            return False
        fields = (self.query or {}).get("fields")
        return fields is None or "*" in fields or UPDATED_FIELD in fields

    @property
    def wants_deletes(self) -> bool:
        return self.event in (None, "delete")

    def track(self, known: Callable[[], list[Key]] | None) -> None:
        """Which rows a listener shows: after a gap those that are gone come as deletes.

        Without one, the ids this subscription delivered (the last few thousand).
        """
        self._tracker = known

    def known_ids(self) -> list[Key]:
        if self._tracker is not None:
            return list(self._tracker())
        return list(self._seen)

    def note_updated(self, mark: str | None) -> None:
        """The newest change the server had when the subscription started (None: none)."""
        self.updates_known = True
        if mark is not None and (self.updated_mark is None or mark > self.updated_mark):
            self.updated_mark = mark

    @property
    def backfill_floor(self) -> int | None:
        """Read rows with ids above this after a reconnect; None: nothing to go by.

        Never above a floor still owed a read-back (:meth:`owe`).
        """
        floor = min(self._recent) if self._recent else self.since
        if self._owed:
            lowest = min(self._owed.values())
            return lowest if floor is None else min(floor, lowest)
        return floor

    def owe(self) -> tuple[int, int] | None:
        """Rows above today's floor may have been dropped: keep the floor until repaid.

        Returns ``(debt, floor)``: read the rows above ``floor``, then
        :meth:`repay` ``debt``. Until then :attr:`backfill_floor` stays at or
        below it, so a read-back that fails (the socket is lost in the middle)
        is done by the next reconnect's. None: there is no floor to go by.
        """
        floor = self.backfill_floor
        if floor is None:
            return None
        self._next_debt += 1
        self._owed[self._next_debt] = floor
        return self._next_debt, floor

    def owing(self) -> tuple[int, ...]:
        """The debts not yet repaid (a backfill from :attr:`backfill_floor` repays them all)."""
        return tuple(self._owed)

    def repay(self, *debts: int) -> None:
        """The read-backs of ``debts`` are done."""
        for debt in debts:
            self._owed.pop(debt, None)

    def note_since(self, since: int | None) -> None:
        """The highest id that existed when the subscription started (None: empty)."""
        self.since = since if since is not None else 0

    def hold(self) -> None:
        """Buffer live events while a backfill runs, so rows come out in id order."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Deliver what :meth:`hold` buffered (de-duplicated) and go live again."""
        held, self._held = self._held, None
        for event in held or ():
            self.deliver(event)

    def deliver(self, event: SubscriptionEvent) -> bool:
        """Hand ``event`` to listeners and iterators; False if nothing new was in it."""
        if self.closed:
            return False
        if self._held is not None and not event.replayed:
            self._held.append(event)
            return False
        if event.event == "create":
            event = self._fresh(event)
            if not event.data:
                return False
            self._note_versions(event.data)
        elif event.event == "update":
            event = self._newer(event)
            if not event.data:
                return False
        else:
            for key in event.keys:
                self._versions.pop(key, None)
        self._listeners(event)
        self._enqueue(event)
        return True

    def _enqueue(self, event: SubscriptionEvent) -> None:
        if self._queue.qsize() >= _BUFFER:
            self._queue.get_nowait()
            if not self._overflowed:
                logger.debug(
                    "%r: nobody iterates; keeping only the last %d events (listeners see all)",
                    self,
                    _BUFFER,
                )
                self._overflowed = True
        self._queue.put_nowait(event)

    def interrupt(self, error: DirectusError) -> None:
        """The session gave up: every iteration, waiting or later, raises ``error``."""
        if self.closed:
            return
        self._failure = error
        for _ in range(self._waiting):
            self._queue.put_nowait(_End(error))

    def resume(self) -> None:
        """The session is back: iteration waits for events again."""
        self._failure = None
        stale = [item for item in _drain(self._queue) if not isinstance(item, _End)]
        for item in stale:
            self._queue.put_nowait(item)

    def gap(self) -> None:
        """The socket is gone: events may be missed until :meth:`restored`."""
        if not self._in_gap and not self.closed:
            self._in_gap = True
            self._status(SubscriptionStatus("gap"))

    def restored(self) -> None:
        """Subscribed again and what the gap hid was delivered."""
        if self._in_gap and not self.closed:
            self._in_gap = False
            self._status(SubscriptionStatus("restored"))

    def refused(self, error: DirectusError) -> None:
        """The server would not send an event to this subscription (per-event FORBIDDEN)."""
        if not self.closed:
            self._status(SubscriptionStatus("refused", error))

    def close(self) -> None:
        """The session closed: end iteration, deliver nothing more."""
        if not self.closed:
            self._finish(None)

    def _finish(self, error: DirectusError | None) -> None:
        self.closed = True
        self.active = False
        self._held = None
        self._failure = None
        self._queue.put_nowait(_End(error))
        self._status(SubscriptionStatus("ended", error))

    def _fresh(self, event: SubscriptionEvent) -> SubscriptionEvent:
        rows, keys = [], []
        for row in event.data:
            key = row.get("id")
            if isinstance(key, (int, str)) and not isinstance(key, bool):
                if key in self._seen:
                    continue
                keys.append(key)
            rows.append(row)
        self._note_ids(keys)
        if len(rows) == len(event.data):
            return event
        return SubscriptionEvent(event.uid, "create", tuple(rows), tuple(keys), event.replayed)

    def _newer(self, event: SubscriptionEvent) -> SubscriptionEvent:
        """``event`` without rows already delivered at the same version."""
        rows = [
            row
            for row in event.data
            if not (
                isinstance(row.get(UPDATED_FIELD), str)
                and self._versions.get(row.get("id", "")) == row[UPDATED_FIELD]
            )
        ]
        self._note_versions(rows)
        for row in rows:  # an update makes a row known, but never moves the floor
            key = row.get("id")
            if isinstance(key, (int, str)) and not isinstance(key, bool):
                self._seen[key] = None
        if len(rows) == len(event.data):
            return event
        keys = tuple(row["id"] for row in rows if row.get("id") is not None)
        return SubscriptionEvent(event.uid, "update", tuple(rows), keys, event.replayed)

    def _note_versions(self, rows: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> None:
        for row in rows:
            stamp, key = row.get(UPDATED_FIELD), row.get("id")
            if not isinstance(stamp, str) or key is None:
                continue
            self._versions[key] = stamp
            self._versions.move_to_end(key)
            if self.updated_mark is None or stamp > self.updated_mark:
                self.updated_mark = stamp
        while len(self._versions) > _SEEN:
            self._versions.popitem(last=False)

    def _note_ids(self, keys: tuple[Key, ...] | list[Key]) -> None:
        for key in keys:
            self._seen[key] = None
            self._seen.move_to_end(key)
            if isinstance(key, int):
                self._recent.append(key)
                if self.last_id is None or key > self.last_id:
                    self.last_id = key
        while len(self._seen) > _SEEN:
            self._seen.popitem(last=False)


def with_id_field(query: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``query`` with ``id`` among its ``fields`` (when it names fields at all)."""
    if query is None:
        return None
    result = dict(query)
    fields = result.get("fields")
    if isinstance(fields, str):
        fields = [part.strip() for part in fields.split(",") if part.strip()]
    if isinstance(fields, list) and "*" not in fields and "id" not in fields:
        result["fields"] = [*fields, "id"]
    return result


def _drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
