"""JupyterLab as ``directus-chat lab`` runs it: a session of its own, a token chosen here.

JupyterLab runs on this interpreter (``sys.executable -m jupyterlab``), never a
``jupyter`` found on PATH, with this environment's scripts folder first on the
PATH its kernels and terminals inherit. Stopping it: SIGTERM, which shuts its
kernels down; SIGKILL after a timeout, for it and any kernel it left.
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
from collections.abc import Callable
from pathlib import Path

import httpx

from ..errors import DirectusError, StartupFailed
from .pids import descendants, signal_group, still_there
from .ports import HOST, free_port, port_is_free
from .server import LocalDirectus
from .supervisor import spawn_in_session

__all__ = [
    "DEFAULT_LAB_PORT",
    "LAB_LOG",
    "START_PAGE",
    "JupyterLab",
    "choose_lab_port",
    "require_jupyterlab",
]

DEFAULT_LAB_PORT = 8888
LAB_LOG = "jupyterlab.log"
# The notebook the printed URL opens, when the folder has it: the tutorial's first step.
START_PAGE = "00_start_here.ipynb"
_READY_TIMEOUT_S = 120.0
_STOP_TIMEOUT_S = 10.0
# Kernels watch their parent once a second and exit when it is gone.
_KERNEL_GRACE_S = 3.0

Say = Callable[[str], None]


def require_jupyterlab() -> None:
    """Raises: DirectusError: JupyterLab or ipykernel is not installed for this Python."""
    wanted = ("jupyterlab", "ipykernel")
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
    if missing:
        raise DirectusError(
            f"{' and '.join(missing)} not installed for {sys.executable}: "
            "pip install 'directus-chat-widget[lab]' into this environment"
        )


def choose_lab_port(asked: int | None, say: Say) -> int:
    """The port asked for (0: a free one), else 8888 while free, else a free one (said).

    Raises:
        DirectusError: the port asked for is taken.
    """
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


class JupyterLab:
    """A JupyterLab server in its own session, with a token chosen here."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, token: str, log: Path, page: str = ""
    ):
        self.process, self.port, self.token, self.log = process, port, token, log
        self.page = page  # a notebook to open, relative to the root folder ("": none)

    @property
    def url(self) -> str:
        tree = f"/tree/{self.page}" if self.page else ""
        return f"http://{HOST}:{self.port}/lab{tree}?token={self.token}"

    @classmethod
    def start(
        cls,
        notebooks: Path,
        server: LocalDirectus,
        port: int,
        say: Say,
        *,
        env_file: Path,
        open_browser: bool,
    ) -> JupyterLab:
        """Spawn JupyterLab; called in ``StopSignals.deferred``, so its handle is kept."""
        token = secrets.token_urlsafe(32)
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={notebooks}",
        ]
        if not open_browser:
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
                "DIRECTUS_CHAT_ENV_FILE": str(env_file.resolve()),
            }
        )
        # Kernel specs of this environment before the user's own "python3".
        env.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
        log = server.data_dir / LAB_LOG
        process = spawn_in_session(command, cwd=notebooks, env=env, log=log)
        page = START_PAGE if (notebooks / START_PAGE).is_file() else ""
        return cls(process, port, token, log, page)

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
        below = descendants(pid)  # kernels and terminals run in sessions of their own
        if self.process.poll() is None:
            signal_group(pid, signal.SIGTERM)
            try:
                self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                signal_group(pid, signal.SIGKILL)
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
