"""When a user's own presence row is written: the timing, and a plan that throttles. Pure.

Never a write per keystroke. The plan turns keystrokes and the passing of
time into a few writes of the row's ``typing`` flag:

- the first keystroke marks the user typing at once; while the keys go on,
  the mark is refreshed at most once per ``typing_every`` seconds (and only
  for keys typed since the last mark);
- no keystroke for ``idle_after`` seconds, or an explicit stop (the message
  was sent, the box emptied), clears the mark: one write;
- otherwise the row is refreshed every ``heartbeat`` seconds, so readers
  know the user is still there.

So a typing user costs at most ``60 / typing_every`` marks a minute plus a
clear after each (never more clears than marks), and an idle one
``60 / heartbeat``. ``bench/presence.py`` measures both on a real server.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PresenceTiming", "WritePlan"]


@dataclass(frozen=True)
class PresenceTiming:
    """How often presence is written, and for how long readers believe it (seconds).

    Attributes:
        heartbeat: an online user's row is refreshed this often while nothing
            else is written.
        online_for: a row not refreshed for this long (by the server's clock)
            is someone gone: a killed kernel never says goodbye.
        typing_every: the typing mark is written at most this often while the
            keys go on.
        typing_for: a typing mark not refreshed for this long has stopped.
        idle_after: no keystroke for this long clears one's own typing mark.

    Raises:
        ValueError: a time not above zero, or one that would make a live user
            look gone (``online_for`` not above ``heartbeat``, ``typing_for``
            not above ``typing_every``, ``typing_every`` above ``heartbeat``).
    """

    heartbeat: float = 20.0
    online_for: float = 50.0
    typing_every: float = 5.0
    typing_for: float = 12.0
    idle_after: float = 6.0

    def __post_init__(self) -> None:
        for name in ("heartbeat", "online_for", "typing_every", "typing_for", "idle_after"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a number of seconds above 0, got {value!r}")
        if self.online_for <= self.heartbeat:
            raise ValueError(
                f"online_for ({self.online_for}) must be longer than heartbeat ({self.heartbeat}): "
                "everyone would blink offline between two refreshes"
            )
        if self.typing_for <= self.typing_every:
            raise ValueError(
                f"typing_for ({self.typing_for}) must be longer than typing_every "
                f"({self.typing_every}): a typing user would flicker"
            )
        if self.typing_every > self.heartbeat:
            raise ValueError(
                f"typing_every ({self.typing_every}) may not exceed heartbeat ({self.heartbeat})"
            )

    @property
    def most_writes_per_minute(self) -> tuple[float, float]:
        """The ceilings ``(typing, idle)``: marks plus clears while typing, refreshes while idle."""
        return 2 * 60 / self.typing_every, 60 / self.heartbeat


class WritePlan:
    """Decides when the own row is written and with which ``typing`` value.

    Fed with times from one monotonic clock (the caller's ``loop.time()``):
    :meth:`keystroke`, :meth:`stop`, then :meth:`due` says what to write now
    (or nothing) and :meth:`next_check` when to ask again; :meth:`wrote`
    records a write that succeeded, :meth:`failed` one that did not.
    """

    def __init__(self, timing: PresenceTiming, *, retry_after: float = 2.0) -> None:
        self.timing = timing
        self.retry_after = min(retry_after, timing.heartbeat)
        self.written_at: float | None = None
        self.written_typing = False
        self._marked_at: float | None = None  # the last write with typing=True
        self._last_key: float | None = None
        self._blocked_until = 0.0

    def keystroke(self, now: float) -> None:
        """The user typed (call it for every key, or every few: only the time counts)."""
        self._last_key = now

    def stop(self) -> None:
        """The user stopped typing (sent the message, emptied the box)."""
        self._last_key = None

    def typing(self, now: float) -> bool:
        """Whether the user counts as typing at ``now``."""
        last = self._last_key
        return last is not None and now - last < self.timing.idle_after

    def due(self, now: float) -> bool | None:
        """The ``typing`` value to write now, or None: nothing to write yet."""
        if now < self._blocked_until:
            return None
        typing = self.typing(now)
        if self.written_at is None:
            return typing
        if typing:
            marked = self._marked_at
            assert self._last_key is not None
            if marked is None or (
                now - marked >= self.timing.typing_every and self._last_key > marked
            ):
                return True  # a start, or a refresh for keys typed since the last mark
            if not self.written_typing:
                return None  # typing again right after a clear: the next mark waits
        elif self.written_typing:
            return False  # the one clear
        if now - self.written_at >= self.timing.heartbeat:
            return typing
        return None

    def next_check(self, now: float) -> float:
        """When :meth:`due` may have something to write without new keystrokes."""
        if self.written_at is None:
            return max(now, self._blocked_until)
        times = [self.written_at + self.timing.heartbeat]
        if self.typing(now):
            assert self._last_key is not None
            times.append(self._last_key + self.timing.idle_after)
            if self._marked_at is not None and self._last_key > self._marked_at:
                times.append(self._marked_at + self.timing.typing_every)
        return max(min(times), self._blocked_until)

    def wrote(self, now: float, typing: bool) -> None:
        """A write of ``typing`` succeeded at ``now``."""
        self.written_at = now
        self.written_typing = typing
        if typing:
            self._marked_at = now
        self._blocked_until = 0.0

    def failed(self, now: float) -> None:
        """A write failed at ``now``: the next try waits a little."""
        self._blocked_until = now + self.retry_after
