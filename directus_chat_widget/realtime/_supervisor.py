"""The session's life: log in, bring a new socket when one dies, renew tokens in time.

:class:`Supervisor` logs in and reconnects on request, and carries out
:class:`.machine.ReconnectPolicy`'s answers (wait and retry, with fresh
tokens or not, or give up). It lives as long as the session, not a socket:
while GAVE_UP it waits for a manual reconnect or a login. Its token keeper
renews the access token a little before it expires; its sweeper
(:mod:`._sweep`) reads back, now and then, events the server lost silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from ..errors import DirectusError
from ._connection import Connection
from ._sweep import Sweeper
from .machine import GiveUp, ReconnectPolicy, Retry
from .state import SessionState

__all__ = ["Supervisor"]

logger = logging.getLogger(__name__)


class Supervisor:
    """Reconnects, token renewal and the sweep for ``conn``.

    ``delays`` is the retry schedule; ``sweep_interval`` the seconds between
    sweeps (None: no sweep).
    """

    def __init__(
        self, conn: Connection, delays: Iterable[float], sweep_interval: float | None
    ) -> None:
        self._conn = conn
        self._delays = delays
        self.sweeper = Sweeper(conn, sweep_interval)
        self._watcher: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._sweeping: asyncio.Task[None] | None = None
        # How many times a socket was re-established after a loss.
        self.reconnects = 0

    async def log_in(self, email: str, password: str) -> None:
        """Log in over REST, open and authenticate a socket; READY, then watch it.

        From IDLE, or from GAVE_UP (the subscriptions resume). On failure the
        state goes back to where it was, and a new login is ended on the server.
        """
        conn = self._conn
        resuming = conn.state.now is SessionState.GAVE_UP
        conn.state.set(SessionState.CONNECTING)
        try:
            await conn.auth.login(email, password)
            about = asyncio.gather(conn.load_user(), conn.load_server_info())
            try:
                await conn.establish(before_ready=about)
            except BaseException:
                about.cancel()
                await asyncio.gather(about, return_exceptions=True)
                raise
        except BaseException as exc:
            conn.last_error = exc
            await conn.drop_current("login failed")
            if not resuming:
                await conn.auth.revoke(quiet=True, timeout=conn.connect_timeout)
            conn.state.set(SessionState.GAVE_UP if resuming else SessionState.IDLE)
            raise
        self.start()

    async def reconnect_now(self) -> None:
        """One attempt to connect again after GAVE_UP (the state stays GAVE_UP if it fails)."""
        conn = self._conn
        try:
            await conn.establish()
        except BaseException as exc:
            conn.last_error = exc
            await conn.drop_current("manual reconnect failed")
            conn.state.set(SessionState.GAVE_UP)
            raise
        self.reconnects += 1
        self.start()

    def start(self) -> None:
        """Start watching (after a login or a manual reconnect); running tasks are kept."""
        if self._conn.state.now is SessionState.CLOSED:
            return
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._supervise(), name="dcw-supervisor")
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep_tokens(), name="dcw-token-keeper")
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.create_task(self.sweeper.run(), name="dcw-sweeper")

    def tasks(self) -> list[asyncio.Task[None]]:
        """The running background tasks (close() cancels and awaits them)."""
        tasks = (self._watcher, self._keeper, self._sweeping)
        return [task for task in tasks if task is not None]

    async def _supervise(self) -> None:
        """Watch the socket of the moment and bring a new one when it dies.

        Lives as long as the session (while GAVE_UP it waits for a manual
        reconnect or login), so a socket lost at any moment is noticed. What
        to do after a loss is the policy's decision (:mod:`.machine`).
        """
        conn = self._conn
        loop = asyncio.get_running_loop()
        policy = ReconnectPolicy(self._delays)
        try:
            while conn.state.now is not SessionState.CLOSED:
                if conn.state.now is SessionState.GAVE_UP:
                    await conn.state.wait_for(SessionState.READY, SessionState.CLOSED)
                    policy.restart()
                    continue
                link = conn.link
                if link is not None and not link.over:
                    await asyncio.shield(link.lost)
                    if conn.state.now in (SessionState.CLOSED, SessionState.GAVE_UP):
                        continue
                closed = link.closed if link is not None else None
                ready_at = link.ready_at if link is not None else None
                action = policy.lost(closed, ready_at, loop.time())
                if policy.last_error is not None:
                    conn.last_error = policy.last_error
                await self._reconnect(policy, action)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: make it visible rather than hang silently
            logger.exception("the realtime supervisor failed")
            conn.give_up(exc)

    async def _reconnect(self, policy: ReconnectPolicy, action: Retry | GiveUp) -> None:
        """Carry out the policy's answers until connected or given up."""
        conn = self._conn
        attempt = 0
        while True:
            if isinstance(action, GiveUp):
                conn.give_up(action.error)
                return
            conn.state.set(SessionState.RECONNECTING)
            await asyncio.sleep(action.delay)
            attempt += 1
            conn.stale_login = conn.stale_login or action.fresh_login
            try:
                await conn.establish()
            except (DirectusError, OSError) as exc:
                conn.last_error = exc
                await conn.drop_current("reconnect attempt failed")
                logger.info("reconnect attempt %d failed: %s", attempt, exc)
                action = policy.failed(exc, fatal=conn.fatal(exc))
                continue
            self.reconnects += 1
            logger.info("reconnected after %d attempt(s)", attempt)
            return

    async def _keep_tokens(self) -> None:
        """Refresh the access token a little before it expires, while READY."""
        conn = self._conn
        while conn.state.now is not SessionState.CLOSED:
            wait = conn.auth.seconds_to_refresh()
            if wait > 0:
                await asyncio.sleep(min(wait, 30.0))
                continue
            link = conn.link
            if conn.state.now is SessionState.READY and link is not None:
                await asyncio.shield(conn.renewal.start(link, "expiring"))
            elif (renewing := conn.renewal.task) is not None and not renewing.done():
                await asyncio.shield(renewing)
            else:
                # Reconnecting refreshes by itself; look again once READY.
                await conn.state.wait_for(SessionState.READY, SessionState.CLOSED)
