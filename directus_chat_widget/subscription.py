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
from typing import Any

from ._callbacks import CallbackList
from .errors import DirectusError
from .protocol import Event, Key, SubscriptionEvent

__all__ = ["Subscription", "with_id_field"]

logger = logging.getLogger(__name__)

Listener = Callable[[SubscriptionEvent], None]

# How many recent ids bound the backfill floor; events further out of order than
# this are not expected (Directus dispatches each event as soon as it is stored).
_RECENT = 32
# How many delivered ids are remembered for de-duplication.
_SEEN = 4096
# Events kept for iteration; past this the oldest go (listeners still see all).
_BUFFER = 1000


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

    def __repr__(self) -> str:
        state = "closed" if self.closed else "active" if self.active else "pending"
        return f"<Subscription {self.collection} event={self.event} {state} last_id={self.last_id}>"

    # -- public ---------------------------------------------------------------

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that removes it.

        A listener that raises is logged and kept; the others still run.
        """
        return self._listeners.add(callback)

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
    def backfill_floor(self) -> int | None:
        """Read rows with ids above this after a reconnect; None: nothing to go by."""
        if self._recent:
            return min(self._recent)
        return self.since

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
        elif event.event == "update":
            self._note_ids(event.keys)
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
        """Wake a waiting iteration with ``error`` (the session gave up)."""
        if self._waiting and not self.closed:
            self._queue.put_nowait(_End(error))

    def close(self) -> None:
        """The session closed: end iteration, deliver nothing more."""
        if not self.closed:
            self._finish(None)

    def _finish(self, error: DirectusError | None) -> None:
        self.closed = True
        self.active = False
        self._held = None
        self._queue.put_nowait(_End(error))

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
