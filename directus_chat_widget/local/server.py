"""LocalDirectus: a pinned Directus on this machine, installed, started and stopped by the kit.

Shape (after nats.py's test server): start the process on a chosen or free port,
wait until it answers, raise an error that carries the server's own output,
stop with SIGTERM, wait, then SIGKILL. What is Directus' own lives here (its
install, settings, environment, bootstrap, the chat set-up); the process
itself is kept by a :class:`.supervisor.Supervisor`: it runs in its own session
(process group) so a stop reaches every child and nothing is left behind, and
its pid is written to the data folder so a later process (``directus-chat
down``) can find and stop it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from ..errors import StartupFailed
from .guard import needs_guard, write_guard
from .install import DEFAULT_DIRECTUS_VERSION, Progress, ensure_installed, install_dir
from .node import NodeRuntime, find_node
from .ports import HOST, choose_port, directus_answers, free_port, port_is_free
from .schema import DEMO_USERS, DemoUser, SchemaReport, setup_chat_as_admin
from .settings import ServerSettings, default_data_dir, load_or_create_settings
from .supervisor import StartStop, Supervisor

# free_port and port_is_free lived here first; tests and scripts import them from here.
__all__ = ["DEFAULT_PORT", "HOST", "PID_FILE", "LocalDirectus", "free_port", "port_is_free"]

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8055
PID_FILE = "directus.pid"
LOG_FILE = "directus.log"
# Creating a database runs every migration; seconds here, but a cold disk is slower.
_BOOTSTRAP_TIMEOUT_S = 300.0

# Variables of the caller's environment that Directus may see. Everything else
# is left out on purpose: a stray PORT or DB_CLIENT in a user's shell would
# otherwise reconfigure the server behind the kit's back.
_PASSED_THROUGH = ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE")


class LocalDirectus(StartStop):
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
        self._settings: ServerSettings | None = None
        self._run = Supervisor(
            "Directus",
            pid_path=self.data_dir / PID_FILE,
            log_path=self.data_dir / LOG_FILE,
            tail_lines=40,
            tail_window=64 * 1024,
            whole_group=False,
        )

    # -- what it is -------------------------------------------------------

    def __repr__(self) -> str:
        state = f"running pid={self._run.pid}" if self.is_running() else "stopped"
        return f"<LocalDirectus {self.version} {self.url_or_none or '(no port yet)'} {state}>"

    @property
    def url_or_none(self) -> str | None:
        return None if self._run.port is None else f"http://{HOST}:{self._run.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``.

        Raises:
            StartupFailed: the server was never started or attached.
        """
        if self._run.port is None:
            raise StartupFailed("the local Directus has no port yet: call start() first")
        return f"http://{HOST}:{self._run.port}"

    @property
    def port(self) -> int | None:
        return self._run.port

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._run.pid if self.is_running() else None

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
        return self._run.log_path

    def is_running(self) -> bool:
        return self._run.is_running()

    # -- lifecycle ----------------------------------------------------------

    def install(self) -> Path:
        """Install this Directus version into the cache if needed; return its ``cli.js``.

        Raises:
            NodeNotFound, InstallFailed
        """
        return ensure_installed(self.version, progress=self._progress)

    def start(self) -> Self:
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
        port = choose_port(
            self._run.port,
            self._requested_port,
            hint=": stop what runs there, or pick another port "
            "(port=0, or `directus-chat up --port 0`, takes a free one)",
        )
        self._settings = settings.with_port(port)
        self._settings.save(self.data_dir)
        self._run.port = port
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
            # Between Popen and the pid file only the supervisor's handle knows it.
            self.stop()
            raise
        return self

    def attach(self) -> bool:
        """Adopt a server for this data folder started by another process.

        Returns True when one is running and answering.
        """
        return self._run.adopt(directus_answers)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM to its process group, then SIGKILL after ``timeout``."""
        if self._run.known_pid() is None:
            self.attach()
        self._run.stop(timeout)

    def restart(self) -> Self:
        """Stop (if running) and start again on the same port."""
        self.stop()
        return self.start()

    def kill(self) -> None:
        """SIGKILL the server's process group: a crash, for fault tests. The port stays reserved."""
        self._run.kill()

    def pause(self) -> None:
        """SIGSTOP the server: its sockets stay open but nothing answers (a dead link)."""
        self._run.send(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        self._run.send(signal.SIGCONT)

    def setup_chat(
        self,
        demo_users: tuple[DemoUser, ...] = DEMO_USERS,
        *,
        public_read: bool = False,
        registration: bool = True,
    ) -> SchemaReport:
        """Apply the chat schema, permissions and demo users (idempotent).

        ``public_read`` lets anyone read messages and chat members' names without
        logging in; without it the public gets nothing (and loses what an earlier
        ``public_read=True`` gave). ``registration`` (on by default here) lets
        anyone sign up as a chat user with no email check, since this server
        sends no mail; False turns sign-up off. Works from a notebook cell too:
        the REST calls run on a worker thread's loop.

        Raises:
            StartupFailed: the server is not running.
            PermissionRefused: the server refused a permission the chat needs.
        """
        if not self.is_running():
            raise StartupFailed("the local Directus is not running: call start() first")
        return setup_chat_as_admin(
            self, demo_users, public_read=public_read, registration=registration
        )

    # -- what it says -------------------------------------------------------

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log."""
        return self._run.log_tail(lines)

    def memory_rss_bytes(self) -> int:
        """Resident memory of the server's process group (Linux /proc), 0 when stopped."""
        return self._run.memory_rss_bytes()

    # -- internals ------------------------------------------------------------

    def _environment(self, runtime: NodeRuntime) -> dict[str, str]:
        settings = self.settings
        base = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        base["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        env = runtime.environment(base)
        env.update(
            {
                "HOST": HOST,
                "PORT": str(self._run.port),
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
        # cwd is the data folder: Directus reads a `.env` from its cwd, and
        # the user's own .env (holding DIRECTUS_URL) must not configure it.
        self._run.spawn(
            [str(runtime.node), str(cli), "start"], cwd=self.data_dir, env=env, version=self.version
        )

    def _wait_ready(self) -> None:
        took = self._run.wait_ready(directus_answers, self.startup_timeout, poll=0.1)
        if took is None:
            tail = self.log_tail()
            self.stop()
            raise StartupFailed(
                f"Directus did not answer on {self.url} within {self.startup_timeout:.0f} s",
                log_tail=tail,
            )
        logger.info("Directus %s ready at %s in %.1f s", self.version, self.url, took)
