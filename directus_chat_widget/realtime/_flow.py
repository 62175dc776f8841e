"""How often and how fast: reconnect delays and outgoing frame pacing. No I/O.

:class:`Backoff` is the reconnect schedule: capped exponential delays with
jitter, finite (the retry budget), re-iterable (each outage starts over).
Any iterable of floats works in its place, e.g. ``[0, 0, 0]`` in tests.

:class:`Pacer` is a token bucket for frames sent on one socket: Directus, with
``RATE_LIMITER_ENABLED``, drops every frame over its per-socket budget (50 per
second by default) and says ``REQUESTS_EXCEEDED``; pacing below that budget
means nothing is dropped in the first place.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["Backoff", "Pacer"]


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: ``initial * factor**n`` capped at ``cap``, jittered, ``attempts`` long.

    Args:
        initial: the first delay in seconds (before jitter).
        factor: growth per attempt.
        cap: the longest delay.
        jitter: fraction taken off at random: each delay is drawn uniformly
            from ``[d * (1 - jitter), d]`` so clients that lost the same server
            do not all come back in the same millisecond.
        attempts: how many delays (the retry budget); ``None`` for no limit.
        rng: random source (seed it in tests).

    Iterating yields a fresh sequence each time.
    """

    initial: float = 0.25
    factor: float = 2.0
    cap: float = 10.0
    jitter: float = 0.5
    attempts: int | None = 30
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.initial < 0 or self.cap < 0 or self.factor < 1:
            raise ValueError("Backoff needs initial >= 0, cap >= 0 and factor >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("Backoff.jitter must be between 0 and 1")
        if self.attempts is not None and self.attempts < 0:
            raise ValueError("Backoff.attempts must be >= 0 or None")

    def __iter__(self) -> Iterator[float]:
        delay = self.initial
        count = 0
        while self.attempts is None or count < self.attempts:
            base = min(delay, self.cap)
            yield base * (1 - self.jitter * self.rng.random())
            delay = min(delay * self.factor, self.cap)
            count += 1

    @property
    def total(self) -> float:
        """The longest time the whole budget can take (no jitter); inf when unlimited."""
        if self.attempts is None:
            return float("inf")
        total, delay = 0.0, self.initial
        for _ in range(self.attempts):
            total += min(delay, self.cap)
            delay = min(delay * self.factor, self.cap)
        return total


class Pacer:
    """A token bucket: at most ``rate`` frames per second, bursts up to ``burst``.

    Pure bookkeeping on a clock the caller passes in (``loop.time`` in the
    session), so it is tested without sleeping.

    Args:
        rate: frames per second; ``None`` means no limit.
        burst: bucket size (defaults to one second's worth, at least 1).
        clock: monotonic seconds.
    """

    def __init__(
        self, rate: float | None, *, clock: Callable[[], float], burst: float | None = None
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("Pacer.rate must be > 0 or None")
        self._clock = clock
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else (rate or 1.0))
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = 0.0

    def set_rate(self, rate: float | None, burst: float | None = None) -> None:
        """Change the rate (``None``: unlimited); the bucket starts full again."""
        if rate is not None and rate <= 0:
            raise ValueError("Pacer.rate must be > 0 or None")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else (rate or 1.0))
        self._tokens = min(self._tokens, self.burst)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the server said: retry after N ms); empties the bucket."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + seconds)
        self._tokens = 0.0
        self._stamp = max(self._stamp, self._paused_until)

    def delay(self) -> float:
        """Seconds to wait before the next frame may go; 0 means now (and takes a token)."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        if self.rate is None:
            return 0.0
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
        if self._tokens >= 1.0 - 1e-9:  # float dust must not cost a wait
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return (1.0 - self._tokens) / self.rate
