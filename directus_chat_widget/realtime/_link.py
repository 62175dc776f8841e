"""One websocket ("link") and what the session tracks about it.

A session has one link at a time; a reconnect makes a new one. The link keeps
its socket, the tasks serving it, the one request in flight per gate (see
:func:`._pending.gate_of`), and the moments of a token expiry on it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection

from ._closing import SocketClosed
from ._pending import Request, gate_of

__all__ = ["Link"]


@dataclass(eq=False)
class Link:
    """One websocket and the tasks that serve it.

    From a ``TOKEN_EXPIRED`` until the next ``auth ok`` the server handles the
    socket as the public (``expired_at`` set, ``reauthed_at`` None): requests
    get FORBIDDEN and subscription events are dropped. What was sent before
    ``reauthed_at`` may have been handled that way (:meth:`exposed`).
    """

    number: int
    ws: ClientConnection
    last_rx: float
    lost: asyncio.Future[None]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ping_uid: str | None = None
    over: bool = False
    expired_at: float | None = None
    reauthed_at: float | None = None
    # What each subscription owes a read-back since the token expired: uid -> (debt, floor).
    floors_at_expiry: dict[str, tuple[int, int]] | None = None
    # A FORBIDDEN earned as the public: resend what was unanswered when it came.
    refused_at: float = 0.0
    refusal_check: bool = False
    # How the server ended it (None: we did, or it is still open).
    closed: SocketClosed | None = None
    # When the session became READY on it (loop time), for the backoff reset.
    ready_at: float | None = None
    # The one request in flight per gate (see ``gate_of``): Directus leaves the
    # uid off errors its services raise, so only one may be able to earn one.
    busy: dict[str, Request] = field(default_factory=dict)
    freed: asyncio.Event = field(default_factory=asyncio.Event)

    def exposed(self, sent_at: float) -> bool:
        """Whether a frame sent at ``sent_at`` may have reached the server as the public."""
        if self.expired_at is None:
            return False
        return self.reauthed_at is None or sent_at < self.reauthed_at

    def blocked(self, request: Request) -> bool:
        """Whether ``request`` must wait: another of its gate is in flight here."""
        gate = gate_of(request.kind)
        if gate is None:
            return False
        holder = self.busy.get(gate)
        # A disarmed holder waits for no reply any more (answered by an error
        # the session is settling, or taken as dropped): it blocks nothing.
        return (
            holder is not None
            and holder is not request
            and not holder.future.done()
            and holder.timer is not None
        )

    def occupy(self, request: Request) -> None:
        gate = gate_of(request.kind)
        if gate is not None:
            self.busy[gate] = request

            def free(_: object) -> None:
                if self.busy.get(gate) is request:
                    del self.busy[gate]
                self.freed.set()

            request.future.add_done_callback(free)
