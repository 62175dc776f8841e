"""Requests out, replies back: the outbox, the writer, pacing and reply timeouts.

A request is queued (:meth:`Wire.request`) and sent by the writer of the
socket of the moment, in order, only while the session may send, at the
paced rate, and never while another request of its gate is in flight on that
socket (so a uid-less error can only belong to one). The session's own
restore work goes around the queue (:meth:`Wire.control`). Each sent request
gets a reply timer; what a timeout means for the socket is the connection's
call (``on_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from ..errors import InvalidPayload, RequestTimeout
from . import protocol
from ._flow import Pacer
from ._link import Link
from ._pending import LinkLost, PendingTable, Request

__all__ = ["Wire"]


class Wire:
    """The path between callers and the socket.

    Args:
        pending: every request awaiting its reply, and the outbox.
        pacer: the frame rate to stay under.
        request_timeout: seconds for a reply once sent.
        may_send: whether the writer may send now (the session is READY).
        clear_to_send: awaited before each queued send; False means look again
            (the connection renews an expiring token there).
        on_timeout: a sent request got no reply in time (it has failed already).
    """

    def __init__(
        self,
        *,
        pending: PendingTable,
        pacer: Pacer,
        request_timeout: float,
        may_send: Callable[[], bool],
        clear_to_send: Callable[[Link], Awaitable[bool]],
        on_timeout: Callable[[Request], None],
    ) -> None:
        self.pending = pending
        self.pacer = pacer
        self.request_timeout = request_timeout
        self._may_send = may_send
        self._clear_to_send = clear_to_send
        self._on_timeout = on_timeout
        self._wake = asyncio.Event()

    async def request(self, frame: dict[str, Any], kind: str, **extra: Any) -> Any:
        """Queue a request; it goes out when the session may send (in order); its reply.

        Raises:
            InvalidPayload: the frame cannot be encoded; refused here, alone (sent,
                websockets would close the socket on it for everyone, and the
                reconnect would send it again, forever).
        """
        try:
            text = protocol.encode(frame)
        except ValueError as exc:
            raise InvalidPayload(f"cannot send this {kind}: {exc}", code="INVALID_PAYLOAD") from exc
        loop = asyncio.get_running_loop()
        request = Request(frame["uid"], frame, kind, loop.create_future(), text=text, **extra)
        self.pending.add(request, queue=True)
        request.future.add_done_callback(lambda _: self.kick())
        self.kick()
        try:
            return await request.future
        finally:
            self.pending.discard(request)

    async def control(self, link: Link, frame: dict[str, Any], kind: str) -> Any:
        """Send now on ``link``, around the hold (the session's own restore work); its reply.

        Raises:
            LinkLost: the socket is gone before or while sending.
        """
        loop = asyncio.get_running_loop()
        request = Request(frame["uid"], frame, kind, loop.create_future(), control=True)
        self.pending.add(request, queue=False)
        try:
            while link.blocked(request) and not link.over:
                link.freed.clear()
                # Freed when the holder settles; a holder disarmed meanwhile
                # sets nothing, hence the short look again.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(link.freed.wait(), 0.1)
            await self._paced()
            if link.over:
                raise LinkLost("the connection is gone")
            link.occupy(request)
            self._mark_sent(link, request)
            try:
                await link.ws.send(protocol.encode(frame))
            except ConnectionClosed as exc:
                raise LinkLost(str(exc)) from exc
            return await request.future
        finally:
            self.pending.discard(request)

    async def send_quietly(self, link: Link, frame: dict[str, Any]) -> None:
        """Send a frame that waits for nothing (a pong, a ping); a closed socket is fine."""
        with contextlib.suppress(ConnectionClosed):
            await link.ws.send(protocol.encode(frame))

    def kick(self) -> None:
        """Something changed (a request queued or answered, READY): the writer looks again."""
        self._wake.set()

    async def write(self, link: Link) -> None:
        """The writer of ``link``: send queued requests in order while allowed, paced."""
        while not link.over:
            if not (self._may_send() and self.pending.outbox_size):
                self._wake.clear()
                await self._wake.wait()
                continue
            if not await self._clear_to_send(link):
                continue
            delay = self.pacer.delay()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # the state may have changed meanwhile: look again
            request = self.pending.peek_queued()
            if request is None:
                continue
            if link.blocked(request):
                # In order: the next request waits for the one of its gate in flight.
                self._wake.clear()
                link.freed.clear()
                await _either(self._wake, link.freed)
                continue
            self.pending.pop_queued(request)
            link.occupy(request)
            self._mark_sent(link, request)
            try:
                await link.ws.send(request.text or protocol.encode(request.frame))
            except ConnectionClosed:
                # Not written (send checks the state first): back in line, once,
                # whether or not the reader has already booked the loss.
                self.pending.enqueue(request)
                return

    async def _paced(self) -> None:
        while (delay := self.pacer.delay()) > 0:
            await asyncio.sleep(delay)

    def _mark_sent(self, link: Link, request: Request) -> None:
        request.state = "sent"
        request.link = link.number
        request.sends += 1
        request.disarm()
        loop = asyncio.get_running_loop()
        request.sent_at = loop.time()
        request.timer = loop.call_later(self.request_timeout, self._timed_out, request)

    def _timed_out(self, request: Request) -> None:
        request.timer = None
        request.settle(
            error=RequestTimeout(f"no reply to {request.kind} within {self.request_timeout:g} s")
        )
        self._on_timeout(request)


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    """Wait until one of two events is set (or a short while: a holder may be disarmed)."""
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
