"""A helper server process (Postgres, Redis, HAProxy) run the way LocalDirectus runs Directus.

:class:`ServerProcess` gives every part of a local cluster the same lifecycle,
through a :class:`.supervisor.Supervisor`: spawn in a session of its own, log
to a file in the part's folder, write a pid file so a later ``directus-chat
down`` finds it, wait until a readiness probe says yes, raise
:class:`StartupFailed` carrying the log's last lines, stop with a signal, wait,
then SIGKILL. Subclasses say what to run (:meth:`command`) and when it is ready
(:meth:`ready`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path
from typing import Self

from ..errors import StartupFailed
from .pids import (
    group_members,
    group_rss_bytes,
    pid_from_file,
    pid_record,
    process_stat,
    same_process,
    start_time,
    still_there,
)
from .ports import HOST, choose_port
from .supervisor import StartStop, Supervisor

__all__ = [
    "HOST",
    "ServerProcess",
    "find_program",
    "group_members",
    "group_rss_bytes",
    "pid_from_file",
    "pid_record",
    "process_stat",
    "require_program",
    "same_process",
    "start_time",
    "still_there",
]

logger = logging.getLogger(__name__)


def find_program(name: str, usual: str) -> str | None:
    """``name`` on PATH, else at its ``usual`` place (PATH may lack /usr/sbin); None if absent."""
    return shutil.which(name) or (usual if Path(usual).is_file() else None)


def require_program(name: str, usual: str, *, what: str, package: str) -> str:
    """:func:`find_program`, or an error naming the Debian ``package`` that provides it.

    Raises:
        StartupFailed: not installed.
    """
    found = find_program(name, usual)
    if found is None:
        raise StartupFailed(f"{what} is not installed: `apt-get install {package}`")
    return found


class ServerProcess(StartStop):
    """One long-running server on 127.0.0.1, owned by the kit.

    Args:
        folder: where its log and pid file live (created if missing).
        port: TCP port; ``0`` takes a free one at start.
        startup_timeout: seconds to wait for :meth:`ready`.
    """

    name = "server"
    #: What asks it to stop: SIGTERM, unless the server reads another as "stop now".
    stop_signal = signal.SIGTERM

    def __init__(self, folder: Path, *, port: int = 0, startup_timeout: float = 60.0) -> None:
        self.folder = Path(folder)
        self.startup_timeout = startup_timeout
        self._requested_port = port
        # Gone means the leader and every child it left in its group (a Postgres
        # backend, say): `down` promises no process behind.
        self._run = Supervisor(
            self.name,
            pid_path=self.folder / f"{self.name}.pid",
            log_path=self.folder / f"{self.name}.log",
            tail_lines=30,
            tail_window=32 * 1024,
            whole_group=True,
        )

    # -- what subclasses say ------------------------------------------------------

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

    def ready(self, port: int) -> bool:
        raise NotImplementedError

    def prepare(self) -> None:
        """Runs before the first spawn (initdb, config files); nothing by default."""

    def run_as(self) -> tuple[int, int] | None:
        """``(uid, gid)`` to run the process as; None keeps the caller's."""
        return None

    # -- what it is -----------------------------------------------------------------

    def __repr__(self) -> str:
        state = f"running pid={self._run.pid}" if self.is_running() else "stopped"
        return f"<{type(self).__name__} port={self.port} {state}>"

    @property
    def port(self) -> int | None:
        return self._run.port

    @property
    def pid(self) -> int | None:
        return self._run.pid if self.is_running() else None

    @property
    def log_path(self) -> Path:
        return self._run.log_path

    @property
    def pid_path(self) -> Path:
        return self._run.pid_path

    def is_running(self) -> bool:
        return self._run.is_running()

    def memory_rss_bytes(self) -> int:
        return self._run.memory_rss_bytes()

    def log_tail(self, lines: int = 30) -> str:
        return self._run.log_tail(lines)

    # -- lifecycle --------------------------------------------------------------------

    def attach(self) -> bool:
        """Adopt this part when another process started it; True when it runs and answers."""
        return self._run.adopt(self.ready)

    def start(self) -> Self:
        """Start and wait until ready; returns self.

        Raises:
            PortInUse: the port asked for is taken.
            StartupFailed: it exited, or did not get ready in time (with its log's tail).
        """
        if self.is_running() or self.attach():
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        port = choose_port(self._run.port, self._requested_port, who=f"{self.name}: ")
        self._run.port = port
        self.prepare()
        ids = self.run_as()
        try:
            self._run.spawn(
                self.command(port),
                cwd=self.folder if ids is None else "/",
                env=self.environment(),
                run_as=ids,
            )
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Signal the process group to stop, SIGKILL it after ``timeout``; forget it.

        A part started by another process is found through its pid file, answering
        or not: a hung server is stopped too.
        """
        if self._run.known_pid() is None:
            self._run.pid = pid_from_file(self.pid_path)
        self._run.stop(timeout, self.stop_signal)

    def kill(self) -> None:
        """SIGKILL the process group (a crash, for fault tests); the port is kept for a restart."""
        self._run.kill()

    # -- internals ----------------------------------------------------------------------

    def _wait_ready(self) -> None:
        took = self._run.wait_ready(self.ready, self.startup_timeout, poll=0.05)
        if took is None:
            raise StartupFailed(
                f"{self.name} did not get ready on port {self.port} within "
                f"{self.startup_timeout:.0f} s (log: {self.log_path})",
                log_tail=self.log_tail(),
            )
        logger.info("%s ready on port %d in %.1f s", self.name, self.port, took)
