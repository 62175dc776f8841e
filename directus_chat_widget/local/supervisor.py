"""Supervisor: one server process the kit owns, from spawn to stop.

LocalDirectus and each part of a local cluster (Postgres, Redis, HAProxy) hold
one; what differs between them (what to run, when it is ready, what their
errors say) stays with them. The shared shape, after nats.py's test server:
spawn in a session of its own (so a signal reaches the whole process group and
a Ctrl-C in the terminal does not), append its output to a log file, record it
in a pid file so a later process (``directus-chat down``) can find it, wait
until a probe says ready, stop with a signal, wait, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from ..errors import StartupFailed
from .pids import group_members, group_rss_bytes, pid_alive, pid_record, same_process, signal_group

__all__ = ["Probe", "StartStop", "Supervisor", "read_log_tail", "spawn_in_session"]

logger = logging.getLogger(__name__)

#: Says whether the server answers on a port.
Probe = Callable[[int], bool]


class StartStop:
    """``with server:`` starts it and stops it on the way out, whatever happened inside."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def spawn_in_session(
    command: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: dict[str, str],
    log: Path,
    run_as: tuple[int, int] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session of its own, its output appended to ``log``.

    ``run_as`` is ``(uid, gid)`` to switch to (dropping supplementary groups).
    """
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=None if run_as is None else run_as[0],
            group=None if run_as is None else run_as[1],
            extra_groups=None if run_as is None else [],
        )


def read_log_tail(path: Path, lines: int, window: int) -> str:
    """The last ``lines`` lines among the last ``window`` bytes of ``path``; "" without a file."""
    if not path.is_file():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - window))
        text = handle.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """The process behind one server: its handle, pid, port, pid file and log.

    Args:
        name: how errors and warnings name it ("Directus", "redis"...).
        pid_path, log_path: its pid file and log file.
        tail_lines, tail_window: how much of the log an error carries.
        whole_group: stopped means every process of its group has gone, not
            only the leader (Postgres leaves backends behind for a moment).
    """

    def __init__(
        self,
        name: str,
        *,
        pid_path: Path,
        log_path: Path,
        tail_lines: int,
        tail_window: int,
        whole_group: bool,
    ) -> None:
        self.name = name
        self.pid_path = pid_path
        self.log_path = log_path
        self.tail_lines = tail_lines
        self.tail_window = tail_window
        self.whole_group = whole_group
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        self.port: int | None = None

    def is_running(self) -> bool:
        if self.pid is None:
            return False
        if self.process is not None and self.process.poll() is not None:
            return False
        return pid_alive(self.pid)

    def log_tail(self, lines: int | None = None) -> str:
        return read_log_tail(self.log_path, lines or self.tail_lines, self.tail_window)

    def memory_rss_bytes(self) -> int:
        return group_rss_bytes(self.pid) if self.is_running() and self.pid else 0

    def adopt(self, ready: Probe) -> bool:
        """Take over the process the pid file records, if it still runs and answers ``ready``."""
        if not self.pid_path.is_file():
            return False
        try:
            record = json.loads(self.pid_path.read_text())
            pid, port = int(record["pid"]), int(record["port"])
            started = record.get("started")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        if not same_process(pid, started) or not ready(port):
            return False
        self.pid, self.port = pid, port
        return True

    def spawn(
        self,
        command: Sequence[str],
        *,
        cwd: str | os.PathLike[str],
        env: dict[str, str],
        run_as: tuple[int, int] | None = None,
        **record: object,
    ) -> None:
        """Start the process on :attr:`port` and write its pid file (with ``record`` added)."""
        self.process = spawn_in_session(command, cwd=cwd, env=env, log=self.log_path, run_as=run_as)
        self.pid = self.process.pid
        self.pid_path.write_text(pid_record(self.pid, self.port, **record))

    def wait_ready(self, ready: Probe, timeout: float, poll: float) -> float | None:
        """Seconds it took until ``ready(port)``; None when ``timeout`` passed first.

        Raises:
            StartupFailed: the process exited meanwhile (its log's tail included).
        """
        assert self.port is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                self.forget()
                raise StartupFailed(
                    f"{self.name} exited with code {code} while starting (log: {self.log_path})",
                    log_tail=self.log_tail(),
                )
            if ready(self.port):
                return time.monotonic() - started
            time.sleep(poll)
        return None

    def known_pid(self) -> int | None:
        """The pid, the spawned process's too when a start was interrupted before noting it."""
        if self.pid is None and self.process is not None:
            self.pid = self.process.pid
        return self.pid

    def send(self, sig: signal.Signals) -> None:
        """``sig`` to the process group, if there is one."""
        if self.pid is not None:
            signal_group(self.pid, sig)

    def stop(self, timeout: float, stop_signal: signal.Signals = signal.SIGTERM) -> None:
        """``stop_signal`` to the process group, SIGKILL after ``timeout``; then forget it."""
        pid = self.known_pid()
        if pid is not None:
            signal_group(pid, stop_signal)
            if not self._wait_gone(pid, timeout):
                logger.warning("%s pid %d ignored SIGTERM; killing it", self.name, pid)
                signal_group(pid, signal.SIGKILL)
                self._wait_gone(pid, timeout)
        self.forget()

    def kill(self) -> None:
        """SIGKILL the process group (a crash, for fault tests); the port is kept for a restart."""
        if self.pid is not None:
            signal_group(self.pid, signal.SIGKILL)
            self._wait_gone(self.pid, 10.0)
        self.forget()

    def forget(self) -> None:
        """Reap the process if it was ours, and drop it and its pid file; the port stays."""
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)
        self.process = None
        self.pid = None
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.pid == pid:
                leader_gone = self.process.poll() is not None
            else:
                leader_gone = not pid_alive(pid)
            if leader_gone and not (self.whole_group and group_members(pid)):
                return True
            time.sleep(0.05)
        return False
