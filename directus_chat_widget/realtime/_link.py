"""The connection work behind RealtimeSession: one socket ("link") at a time.

A link is opened, authenticated (nothing else is sent before ``auth ok``),
then restored: every active subscription is subscribed again, what it missed is
read back, and creates whose reply was lost are looked up before anything is
resent. Only then is the session READY and the writer sends the held requests,
oldest first. Three tasks serve a link: the reader (parse and dispatch every
frame), the writer (send queued requests while READY, paced) and the watchdog
(declare the link dead after two silent heartbeat periods).

Kept apart from :mod:`.session` so that each file has one job: this one moves
frames; the session holds the public API, the state machine and the
reconnect loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..errors import (
    AuthError,
    DirectusError,
    InvalidCredentials,
    InvalidPayload,
    RequestTimeout,
    ServerUnreachable,
    SessionClosed,
    TokenExpired,
)
from ..rest import DirectusRest
from . import _dispatch, _recovery, protocol
from ._auth import Credentials
from ._closing import SocketClosed
from ._flow import Pacer
from ._pending import LinkLost, PendingTable, Request, gate_of
from .machine import Liveness
from .subscription import Subscription

__all__ = ["LinkEngine", "SessionState"]

logger = logging.getLogger(__name__)

# Frames of the server's rate-limit budget we leave for pongs and pings.
_RATE_SHARE = 0.75


class SessionState(enum.Enum):
    """Where a RealtimeSession is; observe it with ``on_state_change``."""

    IDLE = "idle"  # made, not logged in
    CONNECTING = "connecting"  # REST login / opening the socket
    AUTHENTICATING = "authenticating"  # socket auth, re-subscribing, backfilling
    READY = "ready"  # authenticated: requests go out
    REAUTHENTICATING = "reauthenticating"  # token expired or expiring: sends held
    RECONNECTING = "reconnecting"  # socket lost: backing off, then connecting again
    GAVE_UP = "gave_up"  # retry budget spent: call reconnect() (or login() again)
    CLOSED = "closed"  # closed or logged out: make a new session


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


class LinkEngine:
    """Base of RealtimeSession: sockets, requests, dispatch. Not used on its own."""

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
    ) -> None:
        self._websocket_url = websocket_url
        self._rest = rest
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._heartbeat_override = heartbeat
        # Unknown until /server/info says; unknown means no silence check (request
        # timeouts judge liveness then), never a period we made up.
        self._server_heartbeat: float | None = None
        self._auth = Credentials(rest, refresh_margin=refresh_margin)
        self._frame_rate = frame_rate
        self._server_rate: tuple[float, float] | None = None
        self._dedupe_field = dedupe_field
        self._pacer = Pacer(
            frame_rate if isinstance(frame_rate, (int, float)) else None, clock=time.monotonic
        )
        self._pending = PendingTable()
        self._subscriptions: dict[str, Subscription] = {}
        self._user: dict[str, Any] | None = None
        self._link: Link | None = None
        self._links = 0
        self._wake = asyncio.Event()
        self._reauth: asyncio.Task[None] | None = None
        self._reauth_again = False
        self._spawned: set[asyncio.Task[Any]] = set()
        self._last_error: BaseException | None = None
        self._known_max: dict[str, int] = {}
        self._dedupe_ok: dict[str, bool] = {}
        self._claimed: OrderedDict[Any, None] = OrderedDict()
        self._recheck_pending = False
        self._rate_cutoff = 0.0
        # What happened, for tests, benchmarks and curious users (see RealtimeSession.stats).
        self._stats: Counter[str] = Counter()
        # The server closed the last socket as an auth refusal: refresh first.
        self._stale_login = False
        # Sockets opened and not yet handed over or dropped (closed on close()).
        self._opening: set[Link] = set()
        # close() has begun: nothing may open or keep a socket from now on.
        self._closing = False

    # -- hooks the session provides ----------------------------------------------

    def _set_state(self, state: SessionState) -> None:
        raise NotImplementedError

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _on_link_lost(self) -> None:
        raise NotImplementedError

    def _give_up(self, error: BaseException) -> None:
        raise NotImplementedError

    # -- about the login -----------------------------------------------------------

    async def _load_user(self) -> None:
        self._user = await self._rest.me(
            self._auth.access_token, fields=("id", "first_name", "last_name")
        )

    async def _load_server_info(self) -> None:
        """Heartbeat period and rate limit from ``/server/info`` (defaults if it fails)."""
        try:
            info = await self._rest.request("GET", "/server/info", token=self._auth.access_token)
        except DirectusError as exc:
            logger.info("no /server/info (%s): heartbeat unknown, replies judge liveness", exc)
            return
        socket = info.get("websocket") if isinstance(info, dict) else None
        if isinstance(socket, dict):
            beat = socket.get("heartbeat")
            if beat is False:
                self._server_heartbeat = None
            elif isinstance(beat, (int, float, str)) and not isinstance(beat, bool):
                with contextlib.suppress(ValueError):
                    self._server_heartbeat = float(beat) or None
        limit = info.get("rateLimit") if isinstance(info, dict) else None
        if isinstance(limit, dict):
            try:
                points, duration = float(limit["points"]), float(limit["duration"])
            except (KeyError, TypeError, ValueError):
                return
            if points > 0 and duration > 0:
                self._server_rate = (points, duration)
                if self._frame_rate == "auto":
                    self._pace_to_server()

    def _pace_to_server(self) -> None:
        points, duration = self._server_rate or (10.0, 1.0)
        # The server counts every frame in fixed windows: a steady rate plus a
        # small burst stays under its budget with room for heartbeat frames.
        self._pacer.set_rate(_RATE_SHARE * points / duration, burst=max(1.0, 0.2 * points))

    def _heartbeat_period(self) -> float | None:
        if self._heartbeat_override is not None:
            return self._heartbeat_override
        return self._server_heartbeat

    @staticmethod
    def _fatal(exc: BaseException) -> bool:
        """Errors no retry can fix: the login itself is gone."""
        return isinstance(exc, (TokenExpired, InvalidCredentials)) or (
            isinstance(exc, AuthError) and exc.code == "AUTH_FAILED"
        )

    # -- opening a link ----------------------------------------------------------------

    async def _establish(self, before_ready: Awaitable[Any] | None = None) -> None:
        """One attempt: open, authenticate, restore; READY on success.

        ``before_ready`` (login: the user and server info) is awaited last.

        Raises:
            ServerUnreachable: no socket, or no answer in time.
            AuthError, TokenExpired: the server refused the login.
        """
        self._set_state(SessionState.CONNECTING)
        stale, self._stale_login = self._stale_login, False
        tokens = await self._auth.fresh(stale=self._auth.tokens if stale else None)
        link = await self._open()
        try:
            self._set_state(SessionState.AUTHENTICATING)
            try:
                await self._handshake(link, tokens.access_token)
            except AuthError:
                # The token may have been revoked or expired just now: one fresh try.
                self._abort(link, "auth refused")
                tokens = await self._auth.fresh(stale=tokens)
                link = await self._open()
                await self._handshake(link, tokens.access_token)
            self._link = link
            link.tasks = [
                self._spawn(self._read(link), name=f"dcw-read-{link.number}"),
                self._spawn(self._write(link), name=f"dcw-write-{link.number}"),
                self._spawn(self._watch(link), name=f"dcw-watch-{link.number}"),
            ]
            await _recovery.restore(self, link)
            if before_ready is not None:
                await before_ready
            if self._closing:
                raise SessionClosed("the realtime session was closed while connecting")
        except LinkLost as exc:
            self._abort(link, "lost while restoring")
            raise ServerUnreachable(f"the connection dropped while restoring: {exc}") from exc
        except BaseException:
            self._abort(link, "establish failed")
            raise
        self._set_state(SessionState.READY)

    async def _open(self) -> Link:
        try:
            ws = await connect(
                self._websocket_url,
                ping_interval=None,  # Directus ignores protocol pings; JSON ping/pong instead
                open_timeout=self._connect_timeout,
                close_timeout=2.0,
                max_size=2**27,
            )
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise ServerUnreachable(
                f"cannot open the websocket {self._websocket_url}: {exc or type(exc).__name__}"
            ) from exc
        except InvalidURI as exc:
            raise ServerUnreachable(f"bad websocket URL {self._websocket_url}: {exc}") from exc
        self._links += 1
        loop = asyncio.get_running_loop()
        link = Link(self._links, ws, loop.time(), loop.create_future())
        if self._closing:
            ws.transport.abort()
            raise SessionClosed("the realtime session was closed while connecting")
        self._opening.add(link)
        return link

    async def _handshake(self, link: Link, access_token: str) -> None:
        """Send the auth frame and wait for its answer; nothing else goes out meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_timeout
        try:
            await link.ws.send(protocol.encode(protocol.auth_access_token(access_token)))
            while True:
                raw = await asyncio.wait_for(link.ws.recv(), max(0.0, deadline - loop.time()))
                link.last_rx = loop.time()
                frame = protocol.parse(raw)
                if isinstance(frame, protocol.AuthOk):
                    return
                if isinstance(frame, protocol.AuthFailed):
                    raise _dispatch.error_for(frame.code, frame.message, "websocket authentication")
                if isinstance(frame, protocol.Ping):
                    await link.ws.send(protocol.encode(protocol.pong()))
        except TimeoutError as exc:
            raise ServerUnreachable(
                f"no answer to the websocket auth within {self._connect_timeout:.0f} s"
            ) from exc
        except ConnectionClosed as exc:
            closed = SocketClosed(exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else None
            if closed is not None and closed.kind == "auth":
                raise AuthError(f"{closed} during auth", code=f"CLOSE_{closed.code}") from exc
            raise ServerUnreachable(f"the websocket closed during auth ({exc})") from exc

    # -- sending ----------------------------------------------------------------------

    async def _request(self, frame: dict[str, Any], kind: str, **extra: Any) -> Any:
        """Queue a request; it goes out when READY (in order) and its reply is returned."""
        try:
            text = protocol.encode(frame)
        except ValueError as exc:
            # Refused here, alone: sent, it would break the socket for everyone
            # (websockets closes on text it cannot encode) and be resent forever.
            raise InvalidPayload(f"cannot send this {kind}: {exc}", code="INVALID_PAYLOAD") from exc
        loop = asyncio.get_running_loop()
        request = Request(frame["uid"], frame, kind, loop.create_future(), text=text, **extra)
        self._pending.add(request, queue=True)
        request.future.add_done_callback(lambda _: self._kick())
        self._kick()
        try:
            return await request.future
        finally:
            self._pending.discard(request)

    async def _control(self, link: Link, frame: dict[str, Any], kind: str) -> Any:
        """Send now, bypassing the hold (the session's own restore work); await the reply."""
        loop = asyncio.get_running_loop()
        request = Request(frame["uid"], frame, kind, loop.create_future(), control=True)
        self._pending.add(request, queue=False)
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
            self._pending.discard(request)

    async def _paced(self) -> None:
        while (delay := self._pacer.delay()) > 0:
            await asyncio.sleep(delay)

    def _mark_sent(self, link: Link, request: Request) -> None:
        request.state = "sent"
        request.link = link.number
        request.sends += 1
        request.disarm()
        loop = asyncio.get_running_loop()
        request.sent_at = loop.time()
        request.timer = loop.call_later(self._request_timeout, self._timed_out, request)

    def _timed_out(self, request: Request) -> None:
        request.timer = None
        request.settle(
            error=RequestTimeout(f"no reply to {request.kind} within {self._request_timeout:g} s")
        )
        link = self._link
        timed_out = Liveness(self._heartbeat_period()).timed_out()
        if timed_out and link is not None and request.link == link.number:
            # No heartbeat to tell a frozen server from a slow one: a reply
            # that never came is the only sign, so this socket is taken as dead.
            logger.warning(
                "no reply within %g s and no heartbeat: reconnecting", self._request_timeout
            )
            self._abort(link, "no reply in time")

    def _kick(self) -> None:
        self._wake.set()

    async def _write(self, link: Link) -> None:
        """Send queued requests in order, only while READY, at the paced rate."""
        while not link.over:
            if not (self._is_ready() and self._pending.outbox_size):
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._auth.nearly_expired():
                # Too close to expiry to send anything. Refresh now (that holds
                # the writer), or, without proactive refresh, wait for the
                # server's TOKEN_EXPIRED to start it.
                if self._auth.proactive or self._auth.overdue():
                    self._start_reauth(link, "expiring")
                    await asyncio.sleep(0)
                else:
                    await asyncio.sleep(0.05)
                continue
            delay = self._pacer.delay()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # the state may have changed meanwhile: look again
            request = self._pending.peek_queued()
            if request is None:
                continue
            if link.blocked(request):
                # In order: the next request waits for the one of its gate in flight.
                self._wake.clear()
                link.freed.clear()
                await _either(self._wake, link.freed)
                continue
            self._pending.pop_queued(request)
            link.occupy(request)
            self._mark_sent(link, request)
            try:
                await link.ws.send(request.text or protocol.encode(request.frame))
            except ConnectionClosed:
                # Not written (send checks the state first): back in line, once,
                # whether or not the reader has already booked the loss.
                self._pending.enqueue(request)
                return

    async def _send_quietly(self, link: Link, frame: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await link.ws.send(protocol.encode(frame))

    def _spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        """Start a task the session owns: close() cancels and awaits every one."""
        task: asyncio.Task[Any] = asyncio.create_task(coro, name=name)
        self._spawned.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._spawned.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("background task failed", exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    # -- receiving ----------------------------------------------------------------------

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
            self._link_lost(link, reason)

    def _note_created(self, request: Request, row: dict[str, Any]) -> None:
        key = row.get("id")
        if request.collection is not None and isinstance(key, int):
            self._note_ids(request.collection, (key,))
        if key is not None:
            self._claimed[key] = None
            while len(self._claimed) > 4096:
                self._claimed.popitem(last=False)
        if request.dedupe is not None and request.collection is not None and self._dedupe_field:
            self._dedupe_ok[request.collection] = self._dedupe_field in row

    def _note_ids(self, collection: str, keys: tuple[Any, ...]) -> None:
        ints = [k for k in keys if isinstance(k, int) and not isinstance(k, bool)]
        if ints:
            self._known_max[collection] = max(self._known_max.get(collection, 0), *ints)

    # -- re-authentication ---------------------------------------------------------------

    def _start_reauth(self, link: Link, why: str) -> asyncio.Task[None]:
        """Re-authenticate in the background, unless that already runs."""
        if self._reauth is None or self._reauth.done():
            self._reauth = asyncio.create_task(self._reauthenticate(link, why))
        return self._reauth

    async def _reauthenticate(self, link: Link, why: str) -> None:
        """Hold sends, refresh over REST, auth the socket again, then let the held frames go."""
        # While restoring (AUTHENTICATING) the writer is held already, and
        # _establish says READY when it is done.
        holding = self._is_ready()
        if holding:
            self._set_state(SessionState.REAUTHENTICATING)
        stale = self._auth.tokens
        try:
            tokens = await self._auth.fresh(stale=stale)
            while True:
                self._reauth_again = False
                frame = protocol.auth_access_token(tokens.access_token, protocol.new_uid())
                await self._control(link, frame, "auth")
                if not self._reauth_again:
                    break
        except (TokenExpired, InvalidCredentials) as exc:
            self._give_up(exc)
            return
        except (DirectusError, LinkLost, OSError) as exc:
            logger.info("re-authentication (%s) failed: %s; reconnecting", why, exc)
            self._abort(link, "re-authentication failed")
            return
        logger.debug("re-authenticated (%s)", why)
        self._stats["reauthenticated"] += 1
        floors, link.floors_at_expiry = link.floors_at_expiry, None
        if floors and not link.over:
            # Events of the public window were dropped by the server: read them back.
            self._spawn(_recovery.backfill_after_expiry(self, link, floors))
        if holding and self._link is link and not link.over:
            self._set_state(SessionState.READY)

    # -- liveness and loss -----------------------------------------------------------------

    async def _watch(self, link: Link) -> None:
        """Ping when quiet for a period; declare the link dead after two."""
        loop = asyncio.get_running_loop()
        while not link.over:
            liveness = Liveness(self._heartbeat_period())
            now = loop.time()
            verdict, wait = liveness.check(link.last_rx, now, ping_out=link.ping_uid is not None)
            if verdict == "dead":
                logger.warning("no frame for %.1f s: the connection is dead", now - link.last_rx)
                self._abort(link, "silent")
                return
            if verdict == "ping":
                link.ping_uid = protocol.new_uid()
                self._spawn(self._send_quietly(link, protocol.ping(link.ping_uid)))
            await asyncio.sleep(wait)

    def _abort(self, link: Link, reason: str) -> None:
        """Drop ``link`` now, without a closing handshake (the peer may be frozen)."""
        if not link.over:
            logger.debug("dropping link %d: %s", link.number, reason)
            link.ws.transport.abort()
        self._link_lost(link, reason)

    def _link_lost(self, link: Link, reason: str) -> None:
        """Book-keeping when a link ends: resend, doubt or fail what it had in flight."""
        self._opening.discard(link)
        if link.over:
            return
        link.over = True
        current = asyncio.current_task()
        for task in link.tasks:
            if task is not current:
                task.cancel()
        if self._link is link:
            self._link = None
        for request in self._pending.sent_on(link.number):
            if request.control:
                request.settle(error=LinkLost(reason))
            elif request.idempotent:
                self._pending.enqueue(request)
            else:
                request.disarm()
                request.state = "in_doubt"
                request.link = None
        link.freed.set()
        if not link.lost.done():
            link.lost.set_result(None)
        logger.info("connection %d lost (%s)", link.number, reason)
        self._on_link_lost()

    async def _drop_current(self, reason: str, *, graceful: bool = False) -> None:
        link = self._link
        if link is None:
            return
        if graceful and not link.over:
            with contextlib.suppress(TimeoutError, ConnectionClosed, OSError):
                await asyncio.wait_for(link.ws.close(), 2.0)
        self._abort(link, reason)


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    """Wait until one of two events is set."""
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        # A holder disarmed (taken as dropped) sets neither: look again soon.
        await asyncio.wait(waits, timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
