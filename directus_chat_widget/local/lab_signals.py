"""How ``directus-chat lab`` learns it must stop: its own stop signals, and make's.

Who receives which signal. Ctrl-C in a terminal sends SIGINT to the whole
foreground process group: ``make`` and this command. Directus and JupyterLab
each run in a session of their own, so the keystroke never reaches them
(JupyterLab would otherwise stop to ask "Shut down this Jupyter server?" on a
tty). The lab command alone stops them.

GNU make (measured with 4.3) passes a SIGTERM on to its recipe, but not a
SIGINT or SIGHUP sent to make alone: make waits for its child to end, which
here would be never. Make resets that signal's handler to the default before
it waits, so when the command runs under make it watches make's caught-signal
mask (Linux ``/proc``): a fatal signal that make stopped catching means make
was told to quit, and everything stops.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

__all__ = ["MakeWatch", "StopRequested", "StopSignals"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_MAKE_FATAL_SIGNALS = frozenset({signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM})


class StopRequested(BaseException):
    """A stop signal arrived; a BaseException so no ``except Exception`` on the way eats it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP end the lab: raised as ``StopRequested`` in the main thread.

    Inside :meth:`deferred` a signal is only noted and raised on the way out, so a
    child process is never started without its handle being kept. Once stopping
    has begun, further signals are ignored: the clean-up must not be cut short.
    """

    def __init__(self) -> None:
        self._deferred = False
        self._pending: str | None = None
        self._stopping = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        reason = f"{signal.Signals(signum).name} received"
        if self._stopping:
            return
        if self._deferred:
            self._pending = self._pending or reason
            return
        self._stopping = True  # the first signal stops; later ones must not cut the clean-up
        raise StopRequested(reason)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._handle)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
        if self._pending is not None:
            self._stopping = True
            raise StopRequested(self._pending)

    def stopping(self) -> None:
        self._stopping = True


def _caught_signals(pid: int) -> frozenset[signal.Signals]:
    """The signals ``pid`` has a handler for (``SigCgt`` in /proc).

    Raises:
        OSError: no such process, or no /proc.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            mask = int(line.split()[1], 16)
            return frozenset(sig for sig in signal.Signals if mask >> (sig - 1) & 1)
    return frozenset()


class MakeWatch:
    """Notices a SIGINT or SIGHUP that GNU make received but does not pass on to us."""

    def __init__(self, pid: int, watched: frozenset[signal.Signals]) -> None:
        self.pid, self.watched = pid, watched

    @classmethod
    def of_parent(cls) -> MakeWatch | None:
        parent = os.getppid()
        try:
            name = Path(f"/proc/{parent}/comm").read_text().strip()
            watched = _caught_signals(parent) & _MAKE_FATAL_SIGNALS
        except OSError:
            return None
        if name not in ("make", "gmake") or not watched:
            return None
        return cls(parent, watched)

    def stop_reason(self) -> str | None:
        if os.getppid() != self.pid:
            return "make has gone"
        try:
            lost = self.watched - _caught_signals(self.pid)
        except OSError:
            return "make has gone"
        if lost:
            return f"make received {min(lost).name}"
        return None
