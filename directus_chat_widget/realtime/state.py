"""Where a realtime session is (:class:`SessionState`), and who is told when it changes.

:class:`StateCell` holds the state, calls the ``on_state_change`` listeners
and lets coroutines wait for a state. The session and its connection share
one cell; nothing else keeps the state.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable

from .._callbacks import CallbackList

__all__ = ["SessionState", "StateCell"]

logger = logging.getLogger(__name__)


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


class StateCell:
    """The session's state: changes are logged, told to listeners, and can be awaited.

    ``CLOSED`` is final: no later change is taken. ``on_enter`` (the
    connection's) runs on each change before the listeners.
    """

    def __init__(self, on_enter: Callable[[SessionState], None] | None = None) -> None:
        self._on_enter = on_enter
        self._state = SessionState.IDLE
        self._changed = asyncio.Event()
        self._listeners: CallbackList[[SessionState]] = CallbackList("an on_state_change callback")

    @property
    def now(self) -> SessionState:
        return self._state

    def set(self, state: SessionState) -> bool:
        """Move to ``state``; False when nothing changed (same state, or closed)."""
        if state is self._state or self._state is SessionState.CLOSED:
            return False
        logger.debug("session %s -> %s", self._state.value, state.value)
        self._state = state
        self._changed.set()
        if self._on_enter is not None:
            self._on_enter(state)
        self._listeners(state)
        return True

    def on_change(self, callback: Callable[[SessionState], None]) -> Callable[[], None]:
        return self._listeners.add(callback)

    async def wait_for(self, *states: SessionState) -> SessionState:
        """Wait until the state is one of ``states``; returns it."""
        while self._state not in states:
            self._changed.clear()
            await self._changed.wait()
        return self._state
