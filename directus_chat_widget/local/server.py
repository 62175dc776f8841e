"""LocalDirectus: a pinned Directus on this machine, installed, started and stopped by the kit.

Shape (after nats.py's test server): start the process on a chosen or free port,
wait until it answers, raise an error that carries the server's own output,
stop with SIGTERM, wait, then SIGKILL. The process runs in its own session
(process group) so a stop reaches every child and nothing is left behind; its
pid is written to the data folder so a later process (``directus-chat down``)
can find and stop it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from .._sync import run_sync
from ..errors import PortInUse, StartupFailed
from .guard import needs_guard, write_guard
from .install import DEFAULT_DIRECTUS_VERSION, Progress, ensure_installed, install_dir
from .node import NodeRuntime, find_node
from .schema import DEMO_USERS, DemoUser, SchemaReport, apply_chat_schema_as_admin
from .settings import ServerSettings, default_data_dir, load_or_create_settings

__all__ = ["DEFAULT_PORT", "LocalDirectus"]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8055
HOST = "127.0.0.1"
PID_FILE = "directus.pid"
LOG_FILE = "directus.log"
# Creating a database runs every migration; seconds here, but a cold disk is slower.
_BOOTSTRAP_TIMEOUT_S = 300.0

# Variables of the caller's environment that Directus may see. Everything else
# is left out on purpose: a stray PORT or DB_CLIENT in a user's shell would
# otherwise reconfigure the server behind the kit's back.
_PASSED_THROUGH = ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # Node listens with SO_REUSEADDR, so a port in TIME_WAIT is usable for it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); it is dead for our purposes.
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/stat").read_text()
        if status.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


class LocalDirectus:
    """A Directus server on 127.0.0.1 backed by SQLite in ``data_dir``.

    Args:
        data_dir: folder for the database, uploads, log and settings; the
            platform's user data folder by default.
        port: TCP port; ``None`` means 8055 (Directus' usual port), ``0`` a free one.
        version: Directus version to install and run.
        env: extra Directus settings (``ACCESS_TOKEN_TTL="5s"``,
            ``WEBSOCKETS_HEARTBEAT_PERIOD="2"``...), applied last.
        progress: called with one line at a time while installing or starting;
            logs at INFO by default.
        startup_timeout: seconds to wait for the server to answer.
        bootstrap: run ``directus bootstrap`` before starting: ``None`` when the
            SQLite file is missing; True or False to decide (a cluster's shared
            database is bootstrapped once, by its first instance).

    Use it as a context manager (start, then stop on exit), or call
    :meth:`start` and :meth:`stop`; :meth:`attach` finds a server started by
    another process for the same data folder.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        version: str = DEFAULT_DIRECTUS_VERSION,
        env: Mapping[str, str] | None = None,
        progress: Progress | None = None,
        startup_timeout: float = 120.0,
        bootstrap: bool | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.version = version
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.bootstrap = bootstrap
        self._progress = progress or (lambda message: logger.info("%s", message))
        self._requested_port = DEFAULT_PORT if port is None else port
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._settings: ServerSettings | None = None

    # -- what it is -------------------------------------------------------

    def __repr__(self) -> str:
        state = f"running pid={self._pid}" if self.is_running() else "stopped"
        return f"<LocalDirectus {self.version} {self.url_or_none or '(no port yet)'} {state}>"

    @property
    def url_or_none(self) -> str | None:
        return None if self._port is None else f"http://{HOST}:{self._port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``.

        Raises:
            StartupFailed: the server was never started or attached.
        """
        if self._port is None:
            raise StartupFailed("the local Directus has no port yet: call start() first")
        return f"http://{HOST}:{self._port}"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._pid if self.is_running() else None

    @property
    def settings(self) -> ServerSettings:
        if self._settings is None:
            self._settings, _ = load_or_create_settings(self.data_dir, self.version)
        return self._settings

    @property
    def admin_email(self) -> str:
        return self.settings.admin_email

    @property
    def admin_password(self) -> str:
        return self.settings.admin_password

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    def is_running(self) -> bool:
        if self._pid is None:
            return False
        if self._process is not None and self._process.poll() is not None:
            return False
        return _pid_alive(self._pid)

    # -- lifecycle ----------------------------------------------------------

    def install(self) -> Path:
        """Install this Directus version into the cache if needed; return its ``cli.js``.

        Raises:
            NodeNotFound, InstallFailed
        """
        return ensure_installed(self.version, progress=self._progress)

    def start(self) -> LocalDirectus:
        """Install if needed, bootstrap the data folder if new, start and wait until ready.

        Returns self, so ``server = LocalDirectus(port=0).start()`` reads well.

        Raises:
            NodeNotFound, InstallFailed: installing failed.
            DataFolderMismatch: the data folder belongs to another version.
            PortInUse: the port is taken.
            StartupFailed: the server exited or did not answer in time.
        """
        if self.is_running():
            return self
        if self.attach():
            return self
        cli = self.install()
        runtime = find_node()
        settings, _ = load_or_create_settings(self.data_dir, self.version)
        port = self._choose_port()
        self._settings = settings.with_port(port)
        self._settings.save(self.data_dir)
        self._port = port
        env = self._environment(runtime)
        if self.bootstrap or (
            self.bootstrap is None and not (self.data_dir / "database.sqlite").is_file()
        ):
            self._bootstrap(runtime, cli, env)
        try:
            self._spawn(runtime, cli, env)
            self._wait_ready()
        except BaseException:
            # Ctrl-C (or any error) while spawning or waiting: the half-started server
            # goes too, or it would outlive its caller with nobody left to stop it.
            # Between Popen and the pid file only self._process knows it.
            self.stop()
            raise
        return self

    def attach(self) -> bool:
        """Adopt a server for this data folder started by another process.

        Returns True when one is running and answering.
        """
        pid_file = self.data_dir / PID_FILE
        if not pid_file.is_file():
            return False
        try:
            record = json.loads(pid_file.read_text())
            pid, port = int(record["pid"]), int(record["port"])
            started = record.get("started")
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        from .process import same_process  # process.py imports this module

        if not same_process(pid, started) or not self._answers(port):
            return False
        self._pid, self._port = pid, port
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM to its process group, then SIGKILL after ``timeout``."""
        pid = self._pid
        if pid is None and self._process is not None:
            pid = self._pid = self._process.pid  # spawned, interrupted before it was noted
        if pid is None:
            self.attach()
            pid = self._pid
        if pid is not None:
            self._signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._alive(pid):
                logger.warning("Directus pid %d ignored SIGTERM; killing it", pid)
                self._signal_group(pid, signal.SIGKILL)
                self._reap(pid, timeout)
        self._forget_process()

    def restart(self) -> LocalDirectus:
        """Stop (if running) and start again on the same port."""
        self.stop()
        return self.start()

    def kill(self) -> None:
        """SIGKILL the server's process group: a crash, for fault tests. The port stays reserved."""
        if self._pid is not None:
            self._signal_group(self._pid, signal.SIGKILL)
            self._reap(self._pid, 10.0)
        self._forget_process()

    def pause(self) -> None:
        """SIGSTOP the server: its sockets stay open but nothing answers (a dead link)."""
        if self._pid is not None:
            self._signal_group(self._pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        if self._pid is not None:
            self._signal_group(self._pid, signal.SIGCONT)

    def __enter__(self) -> LocalDirectus:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def setup_chat(
        self, demo_users: tuple[DemoUser, ...] = DEMO_USERS, *, public_read: bool = False
    ) -> SchemaReport:
        """Apply the chat schema, permissions and demo users (idempotent).

        ``public_read`` lets anyone read messages and chat members' names without
        logging in; without it the public gets nothing (and loses what an earlier
        ``public_read=True`` gave). Works from a notebook cell too: the REST
        calls run on a worker thread's loop.

        Raises:
            StartupFailed: the server is not running.
            PermissionRefused: the server refused a permission the chat needs.
        """
        if not self.is_running():
            raise StartupFailed("the local Directus is not running: call start() first")
        return run_sync(
            apply_chat_schema_as_admin(
                self.url,
                self.admin_email,
                self.admin_password,
                demo_users=demo_users,
                public_read=public_read,
            )
        )

    # -- what it says -------------------------------------------------------

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log."""
        if not self.log_path.is_file():
            return ""
        with self.log_path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def memory_rss_bytes(self) -> int:
        """Resident memory of the server's process group (Linux /proc), 0 when stopped."""
        if not self.is_running() or self._pid is None:
            return 0
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                if os.getpgid(int(entry.name)) != self._pid:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    # -- internals ------------------------------------------------------------

    def _choose_port(self) -> int:
        if self._port is not None:  # a restart keeps its port, so clients can come back
            port = self._port
        elif self._requested_port == 0:
            return free_port()
        else:
            port = self._requested_port
        if not port_is_free(port):
            raise PortInUse(
                f"port {port} on {HOST} is already in use: stop what runs there, "
                "or pick another port (port=0, or `directus-chat up --port 0`, takes a free one)"
            )
        return port

    def _environment(self, runtime: NodeRuntime) -> dict[str, str]:
        settings = self.settings
        base = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        base["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        env = runtime.environment(base)
        env.update(
            {
                "HOST": HOST,
                "PORT": str(self._port),
                "PUBLIC_URL": self.url,
                "KEY": settings.key,
                "SECRET": settings.secret,
                "DB_CLIENT": "sqlite3",
                "DB_FILENAME": str(self.data_dir / "database.sqlite"),
                "STORAGE_LOCATIONS": "local",
                "STORAGE_LOCAL_ROOT": str(self.data_dir / "uploads"),
                "EXTENSIONS_PATH": str(self.data_dir / "extensions"),
                "TELEMETRY": "false",
                "WEBSOCKETS_ENABLED": "true",
                "WEBSOCKETS_HEARTBEAT_ENABLED": "true",
                # The chat needs the REST socket only; a GraphQL socket whose token
                # expired would go unchecked on 11.x, and the guard does not cover it.
                "WEBSOCKETS_GRAPHQL_ENABLED": "false",
                # Directus looks for extensions among a package.json's dependencies
                # too, and without one it loads no extension at all (the guard).
                "PACKAGE_FILE_LOCATION": str(install_dir(self.version)),
                "LOG_STYLE": "raw",
                "NODE_ENV": "production",
            }
        )
        env.update(self.extra_env)
        return env

    def _bootstrap(self, runtime: NodeRuntime, cli: Path, env: dict[str, str]) -> None:
        self._progress(f"Creating a new Directus {self.version} database in {self.data_dir}")
        boot_env = dict(env)
        boot_env["ADMIN_EMAIL"] = self.settings.admin_email
        boot_env["ADMIN_PASSWORD"] = self.settings.admin_password
        try:
            with self.log_path.open("ab") as log:
                done = subprocess.run(
                    [str(runtime.node), str(cli), "bootstrap"],
                    cwd=self.data_dir,
                    env=boot_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=_BOOTSTRAP_TIMEOUT_S,
                    check=False,
                )
        except subprocess.TimeoutExpired as exc:
            raise StartupFailed(
                f"`directus bootstrap` took over {_BOOTSTRAP_TIMEOUT_S:.0f} s "
                f"(log: {self.log_path})",
                log_tail=self.log_tail(),
            ) from exc
        if done.returncode != 0:
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / "database.sqlite").unlink()
            raise StartupFailed(
                f"`directus bootstrap` failed with code {done.returncode} (log: {self.log_path})",
                log_tail=self.log_tail(),
            )

    def _spawn(self, runtime: NodeRuntime, cli: Path, env: dict[str, str]) -> None:
        (self.data_dir / "uploads").mkdir(exist_ok=True)
        (self.data_dir / "extensions").mkdir(exist_ok=True)
        if needs_guard(self.version):
            # Rewritten each start, so a data folder made before it gets it too.
            write_guard(self.data_dir / "extensions")
        with self.log_path.open("ab") as log:
            # cwd is the data folder: Directus reads a `.env` from its cwd, and
            # the user's own .env (holding DIRECTUS_URL) must not configure it.
            self._process = subprocess.Popen(
                [str(runtime.node), str(cli), "start"],
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pid = self._process.pid
        from .process import pid_record  # process.py imports this module

        (self.data_dir / PID_FILE).write_text(
            pid_record(self._pid, self._port, version=self.version)
        )

    def _answers(self, port: int) -> bool:
        try:
            reply = httpx.get(f"http://{HOST}:{port}/server/ping", timeout=2.0)
        except httpx.HTTPError:
            return False
        return reply.status_code == 200 and "pong" in reply.text

    def _wait_ready(self) -> None:
        assert self._port is not None
        started = time.monotonic()
        while time.monotonic() - started < self.startup_timeout:
            if self._process is not None and self._process.poll() is not None:
                code = self._process.returncode
                self._forget_process()
                raise StartupFailed(
                    f"Directus exited with code {code} while starting (log: {self.log_path})",
                    log_tail=self.log_tail(),
                )
            if self._answers(self._port):
                logger.info(
                    "Directus %s ready at %s in %.1f s",
                    self.version,
                    self.url,
                    time.monotonic() - started,
                )
                return
            time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise StartupFailed(
            f"Directus did not answer on {self.url} within {self.startup_timeout:.0f} s",
            log_tail=tail,
        )

    def _alive(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None
        return _pid_alive(pid)

    def _reap(self, pid: int, timeout: float) -> None:
        if self._process is not None and self._process.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout)
            return
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    def _forget_process(self) -> None:
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(1.0)
        self._process = None
        self._pid = None
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / PID_FILE).unlink()
