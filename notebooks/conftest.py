"""Run the tutorial notebooks (nbval) against a private local Directus, or your own.

Each notebook's kernel starts with (and only it: the rest of a `make test` run
keeps its own environment):

- by default, one local server started in a temporary data folder:
  ``DIRECTUS_CHAT_DATA`` (so ``chat_server()`` in the first notebook adopts
  it instead of touching the reader's own), ``DIRECTUS_URL`` (its URL, which
  ``load_config()`` reads before any ``.env``) and ``DIRECTUS_CHAT_ENV_FILE``
  (a scratch ``.env``, so the run never rewrites the reader's);
- with ``DIRECTUS_EMAIL`` set (your own Directus: ``DIRECTUS_URL`` and the
  ``DIRECTUS_EMAIL...`` logins of ``chat_logins()``), no server at all;
- ``TMPDIR``: a scratch folder. A notebook that starts a private server of its
  own (06) makes its data folder there; whatever it left running when the run
  ends is stopped, and named in the summary (a notebook must stop its own).

``python tools/notebook_outputs.py`` uses the same set-up to store the outputs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from directus_chat_widget.local import LocalDirectus
from directus_chat_widget.local.server import PID_FILE

LEFT_RUNNING = "a notebook left a Directus running (stopped now):"


class NotebookServers:
    """The environment the notebook kernels run in, and what to stop afterwards."""

    def __init__(self) -> None:
        tempfile.gettempdir()  # this process keeps its own temp folder; kernels get TMPDIR
        self.folder = Path(tempfile.mkdtemp(prefix="dcw-notebooks-"))
        self.scratch = self.folder / "tmp"
        self.scratch.mkdir()
        self.server: LocalDirectus | None = None
        self.left_running: list[Path] = []

    def start(self) -> dict[str, str]:
        """Start the private server unless your own is named; the variables to set."""
        env = {"TMPDIR": str(self.scratch)}
        if os.environ.get("DIRECTUS_EMAIL"):
            return env
        # As tests/support.py's TEST_SERVER_ENV: no 503 "Under pressure" on a loaded machine.
        quiet = {"PRESSURE_LIMITER_ENABLED": "false"}
        self.server = LocalDirectus(self.folder / "data", port=0, env=quiet)
        try:
            self.server.start()
            self.server.setup_chat()
        except BaseException:
            self.stop()  # a set-up that failed (a busy machine's 503) leaves nothing running
            raise
        return {
            **env,
            "DIRECTUS_CHAT_DATA": str(self.server.data_dir),
            "DIRECTUS_URL": self.server.url,
            "DIRECTUS_CHAT_ENV_FILE": str(self.folder / ".env"),
        }

    def stop(self) -> None:
        """Stop the private server, and any server a notebook left in the scratch folder."""
        if self.server is not None:
            self.server.stop()
        for pid_file in self.scratch.glob(f"**/{PID_FILE}"):
            self.left_running.append(pid_file.parent)
            LocalDirectus(pid_file.parent).stop()
        shutil.rmtree(self.folder, ignore_errors=True)


_servers: NotebookServers | None = None
_kernel_env: dict[str, str] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    global _servers
    if not any(str(item.path).endswith(".ipynb") for item in session.items):
        return
    _servers = NotebookServers()
    _kernel_env.update(_servers.start())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> object:
    """The variables hold while a notebook's kernel starts, not for the other tests of the run."""
    if not str(item.path).endswith(".ipynb") or not _kernel_env:
        return (yield)
    saved = {name: os.environ.get(name) for name in _kernel_env}
    os.environ.update(_kernel_env)
    try:
        return (yield)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _servers is not None:
        _servers.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _servers is not None and _servers.left_running:
        for folder in _servers.left_running:
            terminalreporter.write_line(f"{LEFT_RUNNING} {folder}", yellow=True)
