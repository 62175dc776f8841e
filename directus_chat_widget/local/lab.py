"""``directus-chat lab``: the local Directus and JupyterLab, started and stopped together.

Who receives which signal. Ctrl-C in a terminal sends SIGINT to the whole
foreground process group: ``make`` and this command. Directus and JupyterLab
each run in a session of their own, so the keystroke never reaches them
(JupyterLab would otherwise stop to ask "Shut down this Jupyter server?" on a
tty). This command alone stops them: SIGTERM to JupyterLab, which shuts its
kernels down; SIGKILL after a timeout, for it and any kernel it left; then the
Directus it started. A Directus that ran before this command is left running.

GNU make (measured with 4.3) passes a SIGTERM on to its recipe, but not a
SIGINT or SIGHUP sent to make alone: make waits for its child to end, which
here would be never. Make resets that signal's handler to the default before
it waits, so when this command runs under make it watches make's caught-signal
mask (Linux ``/proc``): a fatal signal that make stopped catching means make
was told to quit, and everything stops.

JupyterLab runs on this interpreter (``sys.executable -m jupyterlab``), never a
``jupyter`` found on PATH, with this environment's scripts folder first on the
PATH its kernels and terminals inherit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from ..errors import DirectusError, StartupFailed
from .install import DEFAULT_DIRECTUS_VERSION
from .process import process_stat, still_there
from .schema import DEMO_USERS
from .server import HOST, LocalDirectus, free_port, port_is_free
from .settings import SETTINGS_FILE, default_data_dir
from .up import chat_server

__all__ = ["DEFAULT_LAB_PORT", "LabOptions", "run_lab"]

DEFAULT_LAB_PORT = 8888
LAB_LOG = "jupyterlab.log"
_READY_TIMEOUT_S = 120.0
_STOP_TIMEOUT_S = 10.0
# Kernels watch their parent once a second and exit when it is gone.
_KERNEL_GRACE_S = 3.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_MAKE_FATAL_SIGNALS = frozenset({signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM})

Say = Callable[[str], None]


@dataclass(frozen=True)
class LabOptions:
    """What ``directus-chat lab`` was asked for."""

    notebooks: Path
    data_dir: Path | None = None
    port: int | None = None
    version: str = DEFAULT_DIRECTUS_VERSION
    env_file: Path = Path(".env")
    demo_users: bool = True
    lab_port: int | None = None
    open_browser: bool = True
    keep_running: bool = False


class _StopRequested(BaseException):
    """A stop signal arrived; a BaseException so no ``except Exception`` on the way eats it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Signals:
    """SIGINT, SIGTERM and SIGHUP end the lab: raised as ``_StopRequested`` in the main thread.

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
        raise _StopRequested(reason)

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
            raise _StopRequested(self._pending)

    def stopping(self) -> None:
        self._stopping = True


# -- processes, read from /proc (Linux); elsewhere these know nothing and say so ------------


def _descendants(root: int) -> list[tuple[int, int]]:
    """Every process below ``root``, as ``(pid, start time)`` so a reused pid is never hit."""
    children: dict[int, list[tuple[int, int]]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (stat := process_stat(int(entry.name))) is not None:
                children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


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


class _MakeWatch:
    """Notices a SIGINT or SIGHUP that GNU make received but does not pass on to us."""

    def __init__(self, pid: int, watched: frozenset[signal.Signals]) -> None:
        self.pid, self.watched = pid, watched

    @classmethod
    def of_parent(cls) -> _MakeWatch | None:
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


# -- JupyterLab --------------------------------------------------------------------------


def _require_jupyterlab() -> None:
    wanted = ("jupyterlab", "ipykernel")
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
    if missing:
        raise DirectusError(
            f"{' and '.join(missing)} not installed for {sys.executable}: "
            "pip install 'directus-chat-widget[lab]' into this environment"
        )


def _lab_port(asked: int | None, say: Say) -> int:
    if asked is not None:
        if asked != 0 and not port_is_free(asked):
            raise DirectusError(
                f"port {asked} on {HOST} is already in use: pick another --lab-port"
            )
        return asked or free_port()
    if port_is_free(DEFAULT_LAB_PORT):
        return DEFAULT_LAB_PORT
    port = free_port()
    say(f"Port {DEFAULT_LAB_PORT} is in use; JupyterLab takes port {port}")
    return port


class _JupyterLab:
    """A JupyterLab server in its own session, with a token chosen here."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, token: str, log: Path):
        self.process, self.port, self.token, self.log = process, port, token, log

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/lab?token={self.token}"

    @classmethod
    def start(
        cls,
        options: LabOptions,
        server: LocalDirectus,
        port: int,
        say: Say,
    ) -> _JupyterLab:
        """Spawn JupyterLab; the caller runs this in ``_Signals.deferred`` and keeps the handle."""
        token = secrets.token_urlsafe(32)
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={options.notebooks}",
        ]
        if not options.open_browser:
            command.append("--ServerApp.open_browser=False")
        if os.geteuid() == 0:
            say("Running as root: passing --allow-root, as JupyterLab refuses root otherwise")
            command.append("--allow-root")
        scripts = sysconfig.get_path("scripts")
        env = dict(os.environ)
        env.update(
            {
                # This environment's tools first, for kernels, terminals and `!` commands.
                "PATH": os.pathsep.join(filter(None, [scripts, env.get("PATH")])),
                # The token goes by environment, not argv: `ps` shows argv to every user.
                "JUPYTER_TOKEN": token,
                # Notebooks reach this Directus, and chat_server() in them adopts it.
                "DIRECTUS_URL": server.url,
                "DIRECTUS_CHAT_DATA": str(server.data_dir),
                "DIRECTUS_CHAT_ENV_FILE": str(options.env_file.resolve()),
            }
        )
        # Kernel specs of this environment before the user's own "python3".
        env.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
        log = server.data_dir / LAB_LOG
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                cwd=options.notebooks,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(process, port, token, log)

    def log_tail(self, lines: int = 25) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_ready(self, timeout: float = _READY_TIMEOUT_S) -> None:
        """Poll ``/api/status`` with the token until it answers.

        Raises:
            StartupFailed: JupyterLab exited, refused the token, or never answered.
        """
        status = f"http://{HOST}:{self.port}/api/status"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise StartupFailed(
                    f"JupyterLab exited with code {code} while starting (log: {self.log})",
                    log_tail=self.log_tail(),
                )
            try:
                reply = httpx.get(status, params={"token": self.token}, timeout=2.0)
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            if reply.status_code == 200:
                return
            if reply.status_code == 403:
                raise StartupFailed(
                    "JupyterLab refused the token this command gave it: a Jupyter config "
                    "file sets its own (c.IdentityProvider.token); remove that setting"
                )
            time.sleep(0.2)
        raise StartupFailed(
            f"JupyterLab did not answer on port {self.port} within {timeout:.0f} s "
            f"(log: {self.log})",
            log_tail=self.log_tail(),
        )

    def stop(self) -> None:
        """SIGTERM (JupyterLab shuts its kernels down), then SIGKILL; no kernel is left."""
        pid = self.process.pid
        below = _descendants(pid)  # kernels and terminals run in sessions of their own
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
            try:
                self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                self.process.wait(_STOP_TIMEOUT_S)
        deadline = time.monotonic() + _KERNEL_GRACE_S
        while any(map(still_there, below)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for child, _ in filter(still_there, below):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(child) == child:
                    os.killpg(child, signal.SIGKILL)
                else:
                    os.kill(child, signal.SIGKILL)


# -- the command ---------------------------------------------------------------------------


def _summary(
    options: LabOptions, server: LocalDirectus, lab: _JupyterLab, stops_directus: bool
) -> list[str]:
    ending = "stopped on exit" if stops_directus else "left running on exit"
    lines = ["", f"Directus {server.version} at {server.url} ({ending}; data: {server.data_dir})"]
    if options.demo_users:
        lines.append("  demo logins (local demo only):")
        lines += [f"    {user.email:<22} password: {user.password}" for user in DEMO_USERS]
    lines.append(f"  admin: {server.admin_email} (password in {server.data_dir / SETTINGS_FILE})")
    stopped = "JupyterLab and Directus" if stops_directus else "JupyterLab"
    lines += [
        f"JupyterLab on {options.notebooks} (log: {lab.log}):",
        f"    {lab.url}",
        f"Press Ctrl-C to stop {stopped}.",
    ]
    return lines


def _wait_for_end(lab: _JupyterLab, make: _MakeWatch | None) -> tuple[str, int]:
    """Block until JupyterLab exits or make was told to stop; ``(why, exit status)``."""
    while True:
        code = lab.process.poll()
        if code is not None:
            return f"JupyterLab exited with code {code}", 0 if code == 0 else 1
        reason = make.stop_reason() if make is not None else None
        if reason is not None:
            return reason, 0
        time.sleep(0.2)


def run_lab(options: LabOptions, *, say: Say, show: Say) -> int:
    """Start (or adopt) Directus, then JupyterLab; block until Ctrl-C; stop what was started.

    ``say`` gets progress lines, ``show`` the summary (URLs, logins) once Lab answers.
    Returns the exit status: 0 after Ctrl-C or a clean Lab shutdown.

    Raises:
        DirectusError: JupyterLab is not installed here, or Directus or Lab failed to start.
    """
    _require_jupyterlab()
    if not options.notebooks.is_dir():
        raise DirectusError(f"no notebooks folder at {options.notebooks}")
    data_dir = options.data_dir if options.data_dir is not None else default_data_dir()
    ran = LocalDirectus(data_dir, version=options.version).attach()
    stops_directus = not (ran or options.keep_running)
    lab_port = _lab_port(options.lab_port, say)
    signals = _Signals()
    server: LocalDirectus | None = None
    lab: _JupyterLab | None = None
    status = 0
    with signals.installed():
        try:
            make = _MakeWatch.of_parent()
            say(
                f"Directus already runs for {data_dir}: using it"
                if ran
                else f"Starting Directus (data: {data_dir}) ..."
            )
            server, _ = chat_server(
                data_dir,
                port=options.port,
                version=options.version,
                env_file=options.env_file,
                demo_users=options.demo_users,
                progress=say,
            )
            say(f"Starting JupyterLab on port {lab_port} ...")
            # A stop signal during the spawn is raised only once `lab` holds the
            # handle, so the `finally` below stops what was started.
            with signals.deferred():
                lab = _JupyterLab.start(options, server, lab_port, say)
            lab.wait_ready()
            for line in _summary(options, server, lab, stops_directus):
                show(line)
            reason, status = _wait_for_end(lab, make)
        except _StopRequested as stop:
            reason = stop.reason
        finally:
            signals.stopping()
            try:
                if lab is not None:
                    lab.stop()
            finally:
                if stops_directus:
                    (server or LocalDirectus(data_dir, version=options.version)).stop()
    say(f"{reason}: {'JupyterLab and Directus' if stops_directus else 'JupyterLab'} stopped")
    return status
