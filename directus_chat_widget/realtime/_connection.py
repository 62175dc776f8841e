"""The connection behind a RealtimeSession: one socket ("link") at a time, and its parts.

A link is opened, authenticated (nothing else is sent before ``auth ok``),
then restored (:mod:`._recovery`): every active subscription is subscribed
again, what it missed is read back, and creates whose reply was lost are
looked up before anything is resent. Only then is the session READY and the
writer (:class:`._wire.Wire`) sends the held requests, oldest first. Three
tasks serve a link: the reader (parse, then :mod:`._dispatch`), the writer and
the watchdog (:class:`.machine.Liveness` decides).

:class:`Connection` is made of parts, each with one job: the tokens
(:class:`._auth.Credentials`), the requests (:class:`._pending.PendingTable`
and :class:`._wire.Wire`), what is known of stored rows
(:class:`._known.KnownRows`), the token renewal (:class:`._expiry.Renewal`)
and the shared state (:class:`.state.StateCell`). The session on top holds
the public API and the reconnect supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from typing import Any, Literal

from websockets.exceptions import ConnectionClosed

from ..errors import (
    AuthError,
    DirectusError,
    InvalidCredentials,
    ServerUnreachable,
    SessionClosed,
    SessionGaveUp,
    TokenExpired,
)
from ..rest import DirectusRest
from . import _dispatch, _recovery, protocol
from ._auth import Credentials
from ._closing import SocketClosed
from ._expiry import Renewal
from ._flow import Pacer
from ._known import KnownRows
from ._link import Link
from ._opening import handshake, open_socket
from ._pending import LinkLost, PendingTable, Request
from ._server_info import parse_server_info
from ._tap import FrameTap
from ._wire import Wire
from .machine import Liveness
from .state import SessionState, StateCell
from .subscription import Subscription

__all__ = ["Connection"]

logger = logging.getLogger(__name__)

# Frames of the server's rate-limit budget we leave for pongs and pings.
_RATE_SHARE = 0.75


class Connection:
    """Sockets, requests and recovery for one login. Made and driven by RealtimeSession."""

    def __init__(
        self,
        *,
        websocket_url: str,
        rest: DirectusRest,
        request_timeout: float,
        connect_timeout: float,
        heartbeat: float | None,
        refresh_margin: float | None,
        frame_rate: float | Literal["auto"] | None,
        dedupe_field: str | None,
        frames: FrameTap | None = None,
    ) -> None:
        self.websocket_url, self.frames = websocket_url, frames
        self.rest = rest
        self.state = StateCell(on_enter=self.entered)
        self.connect_timeout = connect_timeout
        self._heartbeat_override = heartbeat
        # Unknown until /server/info says; unknown means no silence check (request
        # timeouts judge liveness then), never a period we made up.
        self._server_heartbeat: float | None = None
        self._frame_rate = frame_rate
        self._server_rate: tuple[float, float] | None = None
        self.auth = Credentials(rest, refresh_margin=refresh_margin)
        self.pending = PendingTable()
        self.pacer = Pacer(
            frame_rate if isinstance(frame_rate, (int, float)) else None, clock=time.monotonic
        )
        self.wire = Wire(
            pending=self.pending,
            pacer=self.pacer,
            request_timeout=request_timeout,
            may_send=self._may_send,
            clear_to_send=self._clear_to_send,
            on_timeout=self._timed_out,
        )
        self.known = KnownRows(dedupe_field)
        self.renewal = Renewal(self)
        self.subscriptions: dict[str, Subscription] = {}
        self.user: dict[str, Any] | None = None
        self.link: Link | None = None
        self._links = 0
        self.last_error: BaseException | None = None
        # What happened, for tests, benchmarks and curious users (RealtimeSession.stats).
        self.stats: Counter[str] = Counter()
        # Rate-limit recovery: a recheck is scheduled; frames sent before this were dropped.
        self.recheck_pending = False
        self.rate_cutoff = 0.0
        # The server closed the last socket as an auth refusal: refresh first.
        self.stale_login = False
        self._spawned: set[asyncio.Task[Any]] = set()
        # Sockets opened and not yet handed over or dropped (closed on close()).
        self.opening: set[Link] = set()
        # close() has begun: nothing may open or keep a socket from now on.
        self.closing = False

    # -- state ---------------------------------------------------------------------------

    def ready(self) -> bool:
        return self.state.now is SessionState.READY

    def _may_send(self) -> bool:
        # Not while renewing: one started while restoring leaves the state alone.
        return self.ready() and not self.renewal.running

    def entered(self, state: SessionState) -> None:
        """Called by the state cell on each change, before the listeners."""
        if state is SessionState.READY:
            if self.link is not None and self.link.ready_at is None:
                self.link.ready_at = asyncio.get_running_loop().time()
            self.wire.kick()

    @staticmethod
    def fatal(exc: BaseException) -> bool:
        """Errors no retry can fix: the login itself is gone."""
        return isinstance(exc, (TokenExpired, InvalidCredentials)) or (
            isinstance(exc, AuthError) and exc.code == "AUTH_FAILED"
        )

    # -- about the login -----------------------------------------------------------------

    async def load_user(self) -> None:
        self.user = await self.rest.me(
            self.auth.access_token, fields=("id", "first_name", "last_name")
        )

    async def load_server_info(self) -> None:
        """Heartbeat period and rate limit from ``/server/info`` (none assumed if it fails)."""
        try:
            info = await self.rest.request("GET", "/server/info", token=self.auth.access_token)
        except DirectusError as exc:
            logger.info("no /server/info (%s): heartbeat unknown, replies judge liveness", exc)
            return
        parsed = parse_server_info(info)
        self._server_heartbeat = parsed.heartbeat
        self._server_rate = parsed.rate
        if parsed.rate is not None and self._frame_rate == "auto":
            self.pace_to_server()

    def pace_to_server(self) -> None:
        points, duration = self._server_rate or (10.0, 1.0)
        # The server counts every frame in fixed windows: a steady rate plus a
        # small burst stays under its budget with room for heartbeat frames.
        self.pacer.set_rate(_RATE_SHARE * points / duration, burst=max(1.0, 0.2 * points))

    def heartbeat_period(self) -> float | None:
        if self._heartbeat_override is not None:
            return self._heartbeat_override
        return self._server_heartbeat

    # -- opening a link --------------------------------------------------------------------

    async def establish(self, before_ready: Awaitable[Any] | None = None) -> None:
        """One attempt: open, authenticate, restore; READY on success.

        ``before_ready`` (login: the user and server info) is awaited last.

        Raises:
            ServerUnreachable: no socket, or no answer in time.
            AuthError, TokenExpired: the server refused the login.
        """
        self.state.set(SessionState.CONNECTING)
        stale, self.stale_login = self.stale_login, False
        tokens = await self.auth.fresh(stale=self.auth.tokens if stale else None)
        link = await self._open()
        try:
            self.state.set(SessionState.AUTHENTICATING)
            try:
                await handshake(link, tokens.access_token, self.connect_timeout)
            except AuthError:
                # The token may have been revoked or expired just now: one fresh try.
                self.abort(link, "auth refused")
                tokens = await self.auth.fresh(stale=tokens)
                link = await self._open()
                await handshake(link, tokens.access_token, self.connect_timeout)
            if self.closing:  # close() came during the handshake: nothing more on this link
                raise SessionClosed("the realtime session was closed while connecting")
            self.link = link
            link.tasks = [
                self.spawn(self._read(link), name=f"dcw-read-{link.number}"),
                self.spawn(self.wire.write(link), name=f"dcw-write-{link.number}"),
                self.spawn(self._watch(link), name=f"dcw-watch-{link.number}"),
            ]
            await _recovery.restore(self, link)
            if before_ready is not None:
                await before_ready
            if self.closing:
                raise SessionClosed("the realtime session was closed while connecting")
        except LinkLost as exc:
            self.abort(link, "lost while restoring")
            raise ServerUnreachable(f"the connection dropped while restoring: {exc}") from exc
        except BaseException:
            self.abort(link, "establish failed")
            raise
        self.state.set(SessionState.READY)

    async def _open(self) -> Link:
        ws = await open_socket(self.websocket_url, self.connect_timeout, self.frames)
        self._links += 1
        loop = asyncio.get_running_loop()
        link = Link(self._links, ws, loop.time(), loop.create_future())
        if self.closing:
            ws.transport.abort()
            raise SessionClosed("the realtime session was closed while connecting")
        self.opening.add(link)
        return link

    # -- serving a link ----------------------------------------------------------------------

    def spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        """Start a task the session owns: close() cancels and awaits every one."""
        task: asyncio.Task[Any] = asyncio.create_task(coro, name=name)
        self._spawned.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._spawned.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("background task failed", exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def _clear_to_send(self, link: Link) -> bool:
        """Not this close to the token's expiry: renew first (or wait for TOKEN_EXPIRED)."""
        if not self.auth.nearly_expired():
            return True
        if self.auth.proactive or self.auth.overdue():
            self.renewal.start(link, "expiring")
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(0.05)
        return False

    def _timed_out(self, request: Request) -> None:
        link = self.link
        if Liveness(self.heartbeat_period()).timed_out() and link and request.link == link.number:
            # No heartbeat to tell a frozen server from a slow one: a reply
            # that never came is the only sign, so this socket is taken as dead.
            logger.warning(
                "no reply within %g s and no heartbeat: reconnecting", self.wire.request_timeout
            )
            self.abort(link, "no reply in time")

    async def _read(self, link: Link) -> None:
        reason = "closed"
        loop = asyncio.get_running_loop()
        try:
            async for raw in link.ws:
                link.last_rx = loop.time()
                try:
                    _dispatch.dispatch(self, link, protocol.parse(raw))
                except Exception:
                    logger.exception("dispatching a frame failed; the link carries on")
        except ConnectionClosed as exc:
            reason = f"closed: {exc}"
        finally:
            if not link.over:
                link.closed = SocketClosed(link.ws.close_code, link.ws.close_reason or "")
                reason = str(link.closed)
            self.link_lost(link, reason)

    async def _watch(self, link: Link) -> None:
        """Ping when quiet for a period; declare the link dead after two."""
        loop = asyncio.get_running_loop()
        while not link.over:
            liveness = Liveness(self.heartbeat_period())
            now = loop.time()
            verdict, wait = liveness.check(link.last_rx, now, ping_out=link.ping_uid is not None)
            if verdict == "dead":
                logger.warning("no frame for %.1f s: the connection is dead", now - link.last_rx)
                self.abort(link, "silent")
                return
            if verdict == "ping":
                link.ping_uid = protocol.new_uid()
                self.spawn(self.wire.send_quietly(link, protocol.ping(link.ping_uid)))
            await asyncio.sleep(wait)

    def note_created(self, request: Request, row: dict[str, Any]) -> None:
        """``row`` is the stored answer to the create ``request``."""
        self.known.note_created(request.collection, row, deduped=request.dedupe is not None)

    # -- losing a link -------------------------------------------------------------------------

    def abort(self, link: Link, reason: str) -> None:
        """Drop ``link`` now, without a closing handshake (the peer may be frozen)."""
        if not link.over:
            logger.debug("dropping link %d: %s", link.number, reason)
            link.ws.transport.abort()
        self.link_lost(link, reason)

    def link_lost(self, link: Link, reason: str) -> None:
        """Book-keeping when a link ends: resend, doubt or fail what it had in flight."""
        self.opening.discard(link)
        if link.over:
            return
        link.over = True
        current = asyncio.current_task()
        for task in link.tasks:
            if task is not current:
                task.cancel()
        if self.link is link:
            self.link = None
        for request in self.pending.sent_on(link.number):
            if request.control:
                request.settle(error=LinkLost(reason))
            elif request.idempotent:
                self.pending.enqueue(request)
            else:
                request.disarm()
                request.state = "in_doubt"
                request.link = None
        link.freed.set()
        if not link.lost.done():
            link.lost.set_result(None)
        logger.info("connection %d lost (%s)", link.number, reason)
        for sub in list(self.subscriptions.values()):
            if sub.active:
                sub.gap()
        if self.state.now in (SessionState.READY, SessionState.REAUTHENTICATING):
            self.state.set(SessionState.RECONNECTING)

    async def drop_current(self, reason: str, *, graceful: bool = False) -> None:
        link = self.link
        if link is None:
            return
        if graceful and not link.over:
            with contextlib.suppress(TimeoutError, ConnectionClosed, OSError):
                await asyncio.wait_for(link.ws.close(), 2.0)
        self.abort(link, reason)

    async def shut_down(self, background: list[asyncio.Task[None]]) -> None:
        """CLOSED: stop ``background`` and every task, drop the sockets, fail what waits."""
        self.closing = True
        tasks = [*background, *([self.renewal.task] if self.renewal.task else [])]
        for task in tasks:
            task.cancel()
        self.state.set(SessionState.CLOSED)
        await self.drop_current("closed", graceful=True)
        # Sockets a login or reconnect is still opening: theirs to drop, but not later.
        for link in list(self.opening):
            self.abort(link, "closed")
        spawned = list(self._spawned)  # every link's reader, writer and watchdog too
        for task in (*tasks, *spawned):
            task.cancel()
        await asyncio.gather(*tasks, *spawned, return_exceptions=True)
        self.pending.fail_all(SessionClosed("the realtime session was closed"))
        for sub in list(self.subscriptions.values()):
            sub.close()
        self.subscriptions.clear()

    def give_up(self, error: BaseException) -> None:
        """Stop trying: GAVE_UP, fail whatever waits, wake iterators."""
        if self.state.now in (SessionState.CLOSED, SessionState.GAVE_UP):
            return
        self.last_error = error
        logger.warning("realtime session gave up: %s", error)
        self.state.set(SessionState.GAVE_UP)
        failure = self.gave_up_error()
        failure.__cause__ = error
        self.pending.fail_all(failure)
        for sub in list(self.subscriptions.values()):
            sub.interrupt(failure)
        if self.link is not None:
            self.abort(self.link, "gave up")

    def gave_up_error(self) -> SessionGaveUp:
        """What a call made while GAVE_UP raises: why, and what to call."""
        error = self.last_error
        reason = f": {error}" if error else ""
        if error is not None and self.fatal(error):
            return SessionGaveUp(f"the login is no longer valid{reason}; call login() again")
        return SessionGaveUp(f"the realtime session gave up reconnecting{reason}; call reconnect()")
