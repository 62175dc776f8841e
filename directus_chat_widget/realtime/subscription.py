"""A live subscription: an async iterator of events, plus listeners.

A :class:`Subscription` outlives the socket it was made on: after a reconnect
the session subscribes again under the same uid and reads back what was
missed, delivering it as events marked ``replayed``. Create events are
de-duplicated by id and updates by ``date_updated``, so a change is delivered
once even when it comes both live and from the backfill. That bookkeeping is
pure and lives in :class:`._marks.RowMarks` (``subscription.marks``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._callbacks import CallbackList
from ..errors import DirectusError
from ._marks import UPDATED_FIELD, RowMarks
from .protocol import Event, Key, SubscriptionEvent

__all__ = ["UPDATED_FIELD", "Subscription", "SubscriptionStatus", "with_id_field"]

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
        self.active = False
        self.closed = False
        self.marks = RowMarks()
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
        self._held: list[SubscriptionEvent] | None = None
        self._status: CallbackList[[SubscriptionStatus]] = CallbackList(
            f"a status listener of the {collection} subscription"
        )
        # Set while the session has given up: every iteration raises it, the
        # ones waiting now and any started later, until the session is back.
        self._failure: DirectusError | None = None
        self._in_gap = False
        self._tracker: Callable[[], list[Key]] | None = None

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
        return self.marks.known()

    @property
    def last_id(self) -> int | None:
        return self.marks.last_id

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
            event = self.marks.fresh(event)
            if not event.data:
                return False
        elif event.event == "update":
            event = self.marks.newer(event)
            if not event.data:
                return False
        else:
            self.marks.forget_versions(event.keys)
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
