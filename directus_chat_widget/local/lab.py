"""``directus-chat lab``: the local Directus and JupyterLab, started and stopped together.

A stop signal (Ctrl-C, SIGTERM, SIGHUP, or make told to quit: see
:mod:`.lab_signals`) reaches this command alone, never the servers it runs.
It then stops JupyterLab (:mod:`.lab_server`: SIGTERM, which shuts its kernels
down, SIGKILL after a timeout for it and any kernel it left), then the Directus
it started. A Directus that ran before this command is left running.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DirectusError
from .install import DEFAULT_DIRECTUS_VERSION
from .lab_server import DEFAULT_LAB_PORT, JupyterLab, choose_lab_port, require_jupyterlab
from .lab_signals import MakeWatch, StopRequested, StopSignals
from .logins import login_lines
from .server import LocalDirectus
from .settings import SETTINGS_FILE, default_data_dir
from .up import chat_server

__all__ = ["DEFAULT_LAB_PORT", "LabOptions", "run_lab"]

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


def _summary(
    options: LabOptions, server: LocalDirectus, lab: JupyterLab, stops_directus: bool
) -> list[str]:
    ending = "stopped on exit" if stops_directus else "left running on exit"
    lines = ["", f"Directus {server.version} at {server.url} ({ending}; data: {server.data_dir})"]
    lines += login_lines(options.demo_users, server.admin_email, server.data_dir / SETTINGS_FILE)
    stopped = "JupyterLab and Directus" if stops_directus else "JupyterLab"
    lines += [
        f"JupyterLab on {options.notebooks} (log: {lab.log}):",
        f"    {lab.url}",
        f"Press Ctrl-C to stop {stopped}.",
    ]
    return lines


def _wait_for_end(lab: JupyterLab, make: MakeWatch | None) -> tuple[str, int]:
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
    require_jupyterlab()
    if not options.notebooks.is_dir():
        raise DirectusError(f"no notebooks folder at {options.notebooks}")
    data_dir = options.data_dir if options.data_dir is not None else default_data_dir()
    ran = LocalDirectus(data_dir, version=options.version).attach()
    stops_directus = not (ran or options.keep_running)
    lab_port = choose_lab_port(options.lab_port, say)
    signals = StopSignals()
    server: LocalDirectus | None = None
    lab: JupyterLab | None = None
    status = 0
    with signals.installed():
        try:
            make = MakeWatch.of_parent()
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
                lab = JupyterLab.start(
                    options.notebooks,
                    server,
                    lab_port,
                    say,
                    env_file=options.env_file,
                    open_browser=options.open_browser,
                )
            lab.wait_ready()
            for line in _summary(options, server, lab, stops_directus):
                show(line)
            reason, status = _wait_for_end(lab, make)
        except StopRequested as stop:
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
