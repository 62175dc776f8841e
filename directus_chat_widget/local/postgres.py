"""LocalPostgres: the shared database of a local cluster, from the machine's Postgres binaries.

The binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/N/bin``)
or whatever ``pg_config --bindir`` names. Postgres refuses to run as root, so
when the kit runs as root the server (and ``initdb``) run as the ``postgres``
user, or ``nobody``, with a data folder that user owns. Connections are TCP on
127.0.0.1 only (no Unix socket), with a password (scram-sha-256).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StartupFailed
from .ports import HOST
from .process import ServerProcess
from .topology import DB_NAME, DB_USER

if TYPE_CHECKING:
    import pwd

__all__ = ["LocalPostgres", "postgres_bin_dir"]


def postgres_bin_dir() -> Path | None:
    """The folder holding ``postgres``, ``initdb`` and ``pg_isready``; None when not installed."""
    found = shutil.which("pg_config")
    if found is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            text = subprocess.run(
                [found, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if (Path(text) / "initdb").is_file():
                return Path(text)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs Postgres when we are root (``postgres``, else ``nobody``); None when not root."""
    import pwd  # Unix only: imported here so `import ...local` works anywhere

    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise StartupFailed("running as root, and neither a `postgres` nor a `nobody` user exists")


class LocalPostgres(ServerProcess):
    """Postgres on 127.0.0.1 with one database and one user for Directus.

    Args:
        folder: where the log and pid file go.
        data: the Postgres data folder (``initdb`` makes it on first start); when
            running as root it must be reachable by the unprivileged user.
        password: the ``directus`` user's password.
    """

    name = "postgres"
    # SIGINT is Postgres' "fast shutdown": SIGTERM would wait for every client to leave.
    stop_signal = signal.SIGINT

    def __init__(
        self, folder: Path, data: Path, password: str, *, port: int = 0, startup_timeout: float = 60
    ) -> None:
        super().__init__(folder, port=port, startup_timeout=startup_timeout)
        self.data = Path(data)
        self.password = password
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise StartupFailed(
                "Postgres is not installed: `apt-get install postgresql` (Debian/Ubuntu)"
            )
        self.bin_dir = bin_dir
        self._user = unprivileged_user()

    def run_as(self) -> tuple[int, int] | None:
        return None if self._user is None else (self._user.pw_uid, self._user.pw_gid)

    def command(self, port: int) -> list[str]:
        return [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(port),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            "unix_socket_directories=",
            "-c",
            "shared_buffers=32MB",
            "-c",
            "max_connections=200",
        ]

    def prepare(self) -> None:
        if (self.data / "PG_VERSION").is_file():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data, 0o700)
        ids = self.run_as()
        if ids is not None:
            os.chown(self.data, *ids)
        # The password goes through a private file the server's user may read (a
        # pipe on stdin would be root's, and a command line is visible to all).
        fd, pwfile = tempfile.mkstemp(prefix="directus-chat-pw-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(self.password + "\n")
            if ids is not None:
                os.chown(pwfile, *ids)
            done = self._initdb(pwfile, ids)
        finally:
            os.unlink(pwfile)
        with self.log_path.open("ab") as log:
            log.write(done.stdout + done.stderr)
        if done.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            raise StartupFailed(
                f"initdb failed with code {done.returncode} (log: {self.log_path})",
                log_tail=self.log_tail(),
            )

    def _initdb(
        self, pwfile: str, ids: tuple[int, int] | None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                DB_USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            cwd="/",
            env=self.environment(),
            capture_output=True,
            timeout=120,
            check=False,
            user=None if ids is None else ids[0],
            group=None if ids is None else ids[1],
            extra_groups=None if ids is None else [],
        )

    def ready(self, port: int) -> bool:
        done = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-t", "1"],
            env=self.environment(),
            capture_output=True,
            timeout=10,
            check=False,
        )
        return done.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL statement as the ``directus`` user; returns its unaligned output.

        Raises:
            StartupFailed: psql failed (with its message).
        """
        assert self.port is not None
        env = self.environment() | {"PGPASSWORD": self.password}
        done = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-U",
                DB_USER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise StartupFailed(f"psql failed: {done.stderr.strip()}", log_tail=self.log_tail())
        return done.stdout.strip()

    def ensure_database(self) -> None:
        """Create the ``directus`` database unless it exists."""
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'") != "1":
            self.psql(f'CREATE DATABASE "{DB_NAME}" OWNER "{DB_USER}"')
