"""A helper server process (Postgres, Redis, HAProxy) run the way LocalDirectus runs Directus.

One class, :class:`ServerProcess`, does the lifecycle every part of a local
cluster shares: spawn in a session of its own (so a signal reaches the whole
process group), log to a file in the part's folder, write a pid file so a later
``directus-chat down`` finds it, wait until a readiness probe says yes, raise
:class:`StartupFailed` carrying the log's last lines, stop with SIGTERM, wait,
then SIGKILL. Subclasses say what to run (:meth:`command`) and when it is ready
(:meth:`ready`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from ..errors import PortInUse, StartupFailed
from .server import HOST, _pid_alive, free_port, port_is_free

__all__ = [
    "HOST",
    "ServerProcess",
    "group_members",
    "group_rss_bytes",
    "pid_from_file",
    "pid_record",
    "process_stat",
    "same_process",
    "start_time",
    "still_there",
]

logger = logging.getLogger(__name__)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid`` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if os.getpgid(int(entry.name)) == pgid and _pid_alive(int(entry.name)):
                members.append(int(entry.name))
    return members


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in process group ``pgid`` (Linux /proc)."""
    total = 0
    for pid in group_members(pgid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def process_stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, start time)`` of a process (Linux /proc), or None when gone or unknowable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[19])


def start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    stat = process_stat(pid)
    return None if stat is None else stat[1]


def still_there(process: tuple[int, int]) -> bool:
    """The process ``(pid, start time)`` still runs: its pid was not reused meanwhile."""
    stat = process_stat(process[0])
    return stat is not None and stat[1] == process[1]


def same_process(pid: int, started: object) -> bool:
    """``pid`` is alive and is the process a pid file recorded as started at ``started``.

    Without /proc (no start time to compare) only liveness is known. A record
    without a start time, where /proc knows one, is not trusted: after pid reuse
    signalling it could hit an unrelated process group.
    """
    if not _pid_alive(pid):
        return False
    now = start_time(pid)
    if now is None:
        return started is None
    return started == now


def pid_record(pid: int, port: int | None, **extra: object) -> str:
    """The JSON of a pid file: pid, port, the start time that tells a reused pid apart."""
    return json.dumps({"pid": pid, "port": port, "started": start_time(pid), **extra})


def pid_from_file(path: Path) -> int | None:
    """The live process recorded in a pid file (JSON with ``pid``, ``started``), else None."""
    try:
        record = json.loads(path.read_text())
        pid = int(record["pid"])
        started = record.get("started")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return pid if same_process(pid, started) else None


class ServerProcess:
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
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None

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
        state = f"running pid={self._pid}" if self.is_running() else "stopped"
        return f"<{type(self).__name__} port={self._port} {state}>"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def pid(self) -> int | None:
        return self._pid if self.is_running() else None

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.folder / f"{self.name}.pid"

    def is_running(self) -> bool:
        if self._pid is None:
            return False
        if self._process is not None and self._process.poll() is not None:
            return False
        return _pid_alive(self._pid)

    def memory_rss_bytes(self) -> int:
        return group_rss_bytes(self._pid) if self.is_running() and self._pid else 0

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.is_file():
            return ""
        with self.log_path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 32 * 1024))
            text = handle.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle --------------------------------------------------------------------

    def attach(self) -> bool:
        """Adopt this part when another process started it; True when it runs and answers."""
        try:
            record = json.loads(self.pid_path.read_text())
            pid, port = int(record["pid"]), int(record["port"])
            started = record.get("started")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        if not same_process(pid, started) or not self.ready(port):
            return False
        self._pid, self._port = pid, port
        return True

    def start(self) -> ServerProcess:
        """Start and wait until ready; returns self.

        Raises:
            PortInUse: the port asked for is taken.
            StartupFailed: it exited, or did not get ready in time (with its log's tail).
        """
        if self.is_running() or self.attach():
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        self._port = self._choose_port()
        self.prepare()
        ids = self.run_as()
        try:
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    self.command(self._port),
                    cwd=self.folder if ids is None else "/",
                    env=self.environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    user=None if ids is None else ids[0],
                    group=None if ids is None else ids[1],
                    extra_groups=None if ids is None else [],
                )
            self._pid = self._process.pid
            self.pid_path.write_text(pid_record(self._pid, self._port))
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
        if self._pid is None and self._process is not None:
            self._pid = self._process.pid  # spawned, interrupted before it was noted
        if self._pid is None:
            self._pid = pid_from_file(self.pid_path)
        pid = self._pid
        if pid is not None:
            self._signal(pid, self.stop_signal)
            if not self._wait_gone(pid, timeout):
                logger.warning("%s pid %d ignored SIGTERM; killing it", self.name, pid)
                self._signal(pid, signal.SIGKILL)
                self._wait_gone(pid, timeout)
        self._forget()

    def kill(self) -> None:
        """SIGKILL the process group (a crash, for fault tests); the port is kept for a restart."""
        if self._pid is not None:
            self._signal(self._pid, signal.SIGKILL)
            self._wait_gone(self._pid, 10.0)
        self._forget()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------

    def _choose_port(self) -> int:
        if self._port is not None:  # a restart keeps its port: clients come back to it
            port = self._port
        elif self._requested_port == 0:
            return free_port()
        else:
            port = self._requested_port
        if not port_is_free(port):
            raise PortInUse(f"{self.name}: port {port} on {HOST} is already in use")
        return port

    def _wait_ready(self) -> None:
        assert self._port is not None
        started = time.monotonic()
        while time.monotonic() - started < self.startup_timeout:
            if self._process is not None and self._process.poll() is not None:
                code = self._process.returncode
                self._forget()
                raise StartupFailed(
                    f"{self.name} exited with code {code} while starting (log: {self.log_path})",
                    log_tail=self.log_tail(),
                )
            if self.ready(self._port):
                logger.info(
                    "%s ready on port %d in %.1f s",
                    self.name,
                    self._port,
                    time.monotonic() - started,
                )
                return
            time.sleep(0.05)
        raise StartupFailed(
            f"{self.name} did not get ready on port {self._port} within "
            f"{self.startup_timeout:.0f} s (log: {self.log_path})",
            log_tail=self.log_tail(),
        )

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        # Gone means the leader and every child it left in its group (a Postgres
        # backend, say): `down` promises no process behind.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                leader_gone = self._process.poll() is not None
            else:
                leader_gone = not _pid_alive(pid)
            if leader_gone and not group_members(pid):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def _forget(self) -> None:
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(1.0)
        self._process = None
        self._pid = None
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()
