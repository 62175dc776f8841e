"""Requests waiting for their reply, matched by ``uid``; and the queue of those not yet sent.

One :class:`Request` per call. It is registered in :class:`PendingTable` by the
caller, whose ``finally`` always removes it again (:meth:`PendingTable.discard`),
whatever happens: reply, error, timeout, cancellation. The table never holds a
request nobody waits for.

A request moves through ``queued`` (held: not authenticated, throttled...),
``sent`` (on one socket, ``link`` says which), and, for a create whose socket
died before the reply, ``in_doubt`` (the row may or may not be stored). The
session decides the moves; this module only keeps order and books.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["LinkLost", "PendingTable", "Request", "gate_of"]

RequestState = Literal["queued", "sent", "in_doubt"]

_sequence = itertools.count()


def gate_of(kind: str) -> str | None:
    """Which requests share one slot on a socket: those a uid-less error can answer.

    Every items request can earn a uid-less FORBIDDEN (RECORD_NOT_UNIQUE too, for
    a create); a subscribe a uid-less FORBIDDEN. Auth and unsubscribe errors
    carry their uid.
    """
    if kind.startswith("items:"):
        return "items"
    if kind == "subscribe":
        return "subscribe"
    return None


class LinkLost(Exception):
    """The socket died under a request the session sent for itself (never leaves the kit)."""


@dataclass(eq=False)
class Request:
    """One request and the future its caller awaits.

    Attributes:
        uid: echoed by the server on the reply.
        frame: the dict to send (already carries ``uid``).
        kind: ``items:create``, ``items:read``, ``subscribe``, ``unsubscribe``, ``auth``...
        control: sent by the session itself while (re)connecting: bypasses the
            hold, and fails instead of being resent when its socket dies.
        dedupe: the value of the create's de-duplication field, if any.
        watermark: the highest id the session knew of when the request was made.
        label: what the request is for, in error messages (default from kind).
        text: ``frame`` encoded once, when the request was made (checked sendable).
    """

    uid: str
    frame: dict[str, Any]
    kind: str
    future: asyncio.Future[Any]
    control: bool = False
    dedupe: str | None = None
    watermark: int | None = None
    label: str | None = None
    text: str | None = field(default=None, repr=False)
    seq: int = field(default_factory=lambda: next(_sequence))
    state: RequestState = "queued"
    link: int | None = None
    sends: int = 0
    sent_at: float = 0.0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def collection(self) -> str | None:
        value = self.frame.get("collection")
        return value if isinstance(value, str) else None

    @property
    def what(self) -> str:
        """How errors name this request: ``items/create on messages``."""
        if self.label:
            return self.label
        verb = "subscribe to" if self.kind == "subscribe" else self.kind.replace(":", "/") + " on"
        return f"{verb} {self.collection or '?'}"

    @property
    def idempotent(self) -> bool:
        """Safe to send twice: everything but a create."""
        return self.kind != "items:create"

    def disarm(self) -> None:
        """Cancel the reply timeout, if armed."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def settle(self, result: Any = None, error: BaseException | None = None) -> bool:
        """Resolve the future once; returns False if it was already done."""
        self.disarm()
        if self.future.done():
            return False
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)
        return True


class PendingTable:
    """Requests by uid, plus the ordered outbox of those waiting to be sent."""

    def __init__(self) -> None:
        self._by_uid: dict[str, Request] = {}
        self._outbox: deque[Request] = deque()

    def __len__(self) -> int:
        return len(self._by_uid)

    def __iter__(self) -> Iterator[Request]:
        return iter(list(self._by_uid.values()))

    def get(self, uid: str | None) -> Request | None:
        return None if uid is None else self._by_uid.get(uid)

    def add(self, request: Request, *, queue: bool) -> None:
        """Register ``request``; with ``queue`` it also joins the outbox (in seq order)."""
        if request.uid in self._by_uid:
            raise ValueError(f"duplicate request uid {request.uid}")
        self._by_uid[request.uid] = request
        if queue:
            self.enqueue(request)

    def discard(self, request: Request) -> None:
        """Forget ``request`` everywhere (the caller's ``finally``). Safe to call twice."""
        request.disarm()
        if self._by_uid.get(request.uid) is request:
            del self._by_uid[request.uid]
        if request.state == "queued":
            with contextlib.suppress(ValueError):  # already popped by the writer
                self._outbox.remove(request)

    # -- the outbox ---------------------------------------------------------

    @property
    def outbox_size(self) -> int:
        return len(self._outbox)

    def enqueue(self, request: Request) -> None:
        """Put ``request`` back in the outbox at its place by seq (older first)."""
        request.disarm()
        request.state = "queued"
        request.link = None
        if request in self._outbox:
            return
        if not self._outbox or self._outbox[-1].seq < request.seq:
            self._outbox.append(request)
            return
        ordered = sorted([*self._outbox, request], key=lambda one: one.seq)
        self._outbox = deque(ordered)

    def peek_queued(self) -> Request | None:
        """The oldest queued request whose caller still waits (left in the outbox)."""
        while self._outbox:
            request = self._outbox[0]
            if not request.future.done() and self._by_uid.get(request.uid) is request:
                return request
            self._outbox.popleft()
        return None

    def pop_queued(self, request: Request) -> None:
        """Take ``request`` (the one :meth:`peek_queued` gave) out of the outbox."""
        if self._outbox and self._outbox[0] is request:
            self._outbox.popleft()

    def next_queued(self) -> Request | None:
        """Pop the oldest queued request whose caller still waits."""
        while self._outbox:
            request = self._outbox.popleft()
            if not request.future.done() and self._by_uid.get(request.uid) is request:
                return request
        return None

    # -- what a socket had in flight -----------------------------------------

    def sent_on(self, link: int) -> list[Request]:
        """Requests sent on ``link`` still waiting for a reply, oldest first."""
        found = [r for r in self._by_uid.values() if r.state == "sent" and r.link == link]
        return sorted(found, key=lambda one: one.seq)

    def in_doubt(self) -> list[Request]:
        found = [r for r in self._by_uid.values() if r.state == "in_doubt"]
        return sorted(found, key=lambda one: one.seq)

    def fail_all(self, error: BaseException, *, control_only: bool = False) -> None:
        """Settle every waiting request (or only the control ones) with ``error``."""
        for request in list(self._by_uid.values()):
            if control_only and not request.control:
                continue
            request.settle(error=error)
