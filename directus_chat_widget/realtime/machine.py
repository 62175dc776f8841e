"""The session's decisions as pure code: times and events in, what to do out.

No sockets, no tasks, no clock of its own: every input says what time it is, so
these are tested with a fake clock (``tests/test_machine.py``), the way
websockets tests its sans-I/O protocol. The asyncio side (``_link.py``,
``session.py``) only carries the answers out.

- :class:`ReconnectPolicy`: after a socket is lost or an attempt fails, wait
  and try again (maybe with fresh tokens), or give up, and why.
- :class:`Liveness`: with the server's heartbeat period, when to ping and when
  a silent socket is dead; without one, a request that got no reply is.
- Which request a uid-less error answers lives with the requests
  (``_pending.gate_of`` and ``Link.blocked``): one per gate in flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from ..errors import AuthError, DirectusError, ServerUnreachable
from ._closing import SocketClosed

__all__ = ["STABLE", "GiveUp", "Liveness", "ReconnectPolicy", "Retry", "close_error"]

# A socket that stayed READY this long was a real recovery: the next outage
# starts the retry budget afresh. Shorter, and it counts against the same one,
# so a server that accepts and then drops us cannot keep us retrying forever.
STABLE = 5.0


@dataclass(frozen=True)
class Retry:
    """Wait ``delay`` seconds, then connect again (``fresh_login``: refresh the tokens first)."""

    delay: float
    fresh_login: bool = False


@dataclass(frozen=True)
class GiveUp:
    """Stop: ``error`` says why (it becomes ``last_error``)."""

    error: BaseException


def close_error(closed: SocketClosed) -> DirectusError:
    """What ``last_error`` says about a socket the server closed: its code and reason."""
    code = f"CLOSE_{closed.code}" if closed.code is not None else None
    if closed.kind == "auth":
        return AuthError(f"{closed}: the server refused the login", code=code)
    return ServerUnreachable(str(closed), code=code)


class ReconnectPolicy:
    """The retry budget across outages, and what close codes mean for it.

    Args:
        delays: the reconnect schedule (any iterable of floats, iterated afresh
            when the budget restarts); its length is the budget.
        stable_after: seconds READY after which an outage starts a new budget.
    """

    def __init__(self, delays: Iterable[float], *, stable_after: float = STABLE) -> None:
        self._schedule = delays
        self._stable_after = stable_after
        self._delays: Iterator[float] = iter(delays)
        self._refused = False  # the last socket was closed as an auth refusal
        self.last_error: BaseException | None = None

    def restart(self) -> None:
        """A new budget (a manual reconnect or login brought the session back)."""
        self._delays = iter(self._schedule)
        self._refused = False

    def lost(
        self, closed: SocketClosed | None, ready_at: float | None, now: float
    ) -> Retry | GiveUp:
        """The socket that was READY since ``ready_at`` (None: never) ended as ``closed``."""
        if ready_at is not None and now - ready_at >= self._stable_after:
            self.restart()
        fresh = False
        if closed is not None:
            self.last_error = close_error(closed)
            if closed.kind == "auth":
                if self._refused:  # refused again before it could settle: no retry helps
                    return GiveUp(self.last_error)
                self._refused = fresh = True
            else:
                self._refused = False
        return self._next(fresh_login=fresh)

    def failed(self, error: BaseException, *, fatal: bool) -> Retry | GiveUp:
        """An attempt to connect failed with ``error`` (``fatal``: the login itself is gone)."""
        self.last_error = error
        if fatal:
            return GiveUp(error)
        return self._next(fresh_login=False)

    def _next(self, *, fresh_login: bool) -> Retry | GiveUp:
        delay = next(self._delays, None)
        if delay is None:
            return GiveUp(self.last_error or ServerUnreachable("the server could not be reached"))
        return Retry(delay, fresh_login)


@dataclass(frozen=True)
class Liveness:
    """Whether a socket is alive, from the time of its last frame.

    Args:
        period: the server's heartbeat period in seconds; None when it is off
            or unknown (then only :meth:`timed_out` can find a socket dead).
    """

    period: float | None

    @property
    def margin(self) -> float:
        return max(1.0, 0.25 * self.period) if self.period is not None else 0.0

    def check(
        self, last_rx: float, now: float, *, ping_out: bool
    ) -> tuple[Literal["ok", "ping", "dead"], float]:
        """What to do now, and how long until it is worth looking again.

        Two silent periods (plus a margin) mean dead; one means send a ping of
        our own (the server answers it while its heartbeat is on).
        """
        if self.period is None:
            return "ok", 5.0
        quiet = now - last_rx
        step = min(max(self.period / 8, 0.1), 2.0)
        if quiet >= 2 * self.period + self.margin:
            return "dead", 0.0
        if quiet >= self.period + self.margin / 2 and not ping_out:
            return "ping", step
        return "ok", step

    def timed_out(self) -> bool:
        """A request got no reply in time: is the socket to be taken as dead?

        Only without a heartbeat: with one, silence is judged by :meth:`check`
        and a slow reply is just slow.
        """
        return self.period is None
