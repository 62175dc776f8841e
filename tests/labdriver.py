"""A real JupyterLab for the browser tests, and what a test does in its pages.

``start_lab`` runs ``python -m jupyterlab`` (this interpreter's, so the kit and
its kernel are there) on a free 127.0.0.1 port over a scratch folder, with no
news or update checks. This checkout comes first on the Lab's PYTHONPATH (and so
its kernels'): a test run from a git worktree drives that tree's widget, not
the one the venv was installed from. :class:`LabPage` drives one notebook in Chromium:
write it, open it, run its cells, and run code in its kernel exactly as a cell
does (an execute request on the main shell), reading back what it printed.

The browser test modules share the fixtures here (import them by name):
``lab`` (one JupyterLab per module), ``chromium`` (one browser per module) and
``notebook`` (a fresh page per test), with :func:`chat_cell` and
:func:`log_in_by_form`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT

from directus_chat_widget.local import DemoUser, LocalDirectus

MS = int(TIMEOUT * 1000)  # Playwright counts in milliseconds
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"

    def write_notebook(self, name: str, *sources: str) -> str:
        """Write a notebook of code cells under the Lab's root; returns its name."""
        (self.root / name).write_text(json.dumps(notebook_json(*sources)))
        return name


def notebook_json(*sources: str) -> dict[str, Any]:
    """A notebook (nbformat 4) of code cells, one per source, on the python3 kernel."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": code,
        }
        for code in sources
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _lab_settings(folder: Path) -> None:
    """No news or update checks: no network from the page, no toasts over the widget."""
    plugin = folder / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True)
    (plugin / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def start_lab(base: Path) -> Lab:
    """Start JupyterLab over ``base/root`` and wait until it answers."""
    root, home = base / "root", base / "home"
    root.mkdir()
    for sub in ("config", "data", "runtime", "settings", "workspaces"):
        (home / sub).mkdir(parents=True)
    _lab_settings(home / "settings")
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONPATH": os.pathsep.join(
            part for part in (str(REPO), os.environ.get("PYTHONPATH", "")) if part
        ),
    }
    log = base / "lab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                f"--IdentityProvider.token={token}",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.root_dir={root}",
                f"--LabApp.user_settings_dir={home / 'settings'}",
                f"--LabApp.workspaces_dir={home / 'workspaces'}",
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the page
                *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        _wait_until_up(lab)
    except BaseException:
        stop_lab(lab)
        raise
    return lab


def _wait_until_up(lab: Lab) -> None:
    deadline = time.monotonic() + 6 * TIMEOUT
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited:\n{lab.log.read_text()[-3000:]}")
        try:
            answer = httpx.get(f"{lab.url}/api/status", params={"token": lab.token}, timeout=1)
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"jupyter lab did not answer:\n{lab.log.read_text()[-3000:]}")


def stop_lab(lab: Lab) -> None:
    if lab.process.poll() is not None:
        return
    lab.process.terminate()  # the server shuts its kernels down on SIGTERM
    try:
        lab.process.wait(timeout=3 * TIMEOUT)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=TIMEOUT)


@contextlib.contextmanager
def voila(notebook: Path, log: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Serve ``notebook`` with Voila on a free port; yields its URL once it listens.

    Voila runs every cell before it answers a page (so the first may take a while);
    its output goes to ``log``. Skips the test when Voila is not installed.
    """
    import pytest

    command = Path(sys.executable).parent / "voila"
    if not command.exists() and shutil.which("voila") is None:
        pytest.skip("voila is not installed (pip install 'directus-chat-widget[lab]')")
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(command), str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 6 * TIMEOUT
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"voila did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(TIMEOUT)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


_EXECUTE = """async (code) => {
    const kernel = window.dcwNotebook.sessionContext.session.kernel;
    const future = kernel.requestExecute({ code, store_history: false });
    let text = "";
    let error = null;
    future.onIOPub = (msg) => {
        const kind = msg.header.msg_type;
        if (kind === "stream") text += msg.content.text;
        if (kind === "execute_result") text += msg.content.data["text/plain"] + "\\n";
        if (kind === "error") error = `${msg.content.ename}: ${msg.content.evalue}`;
    };
    await future.done;
    return { text, error };
}"""

_KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return kernel && kernel.status === "idle";
}"""


class LabPage:
    """One notebook open in a Chromium page of a JupyterLab."""

    def __init__(self, page: Any, lab: Lab) -> None:
        self.page = page
        self.lab = lab
        self.dialogs: list[str] = []
        self.errors: list[str] = []  # the page's console errors, for failure messages
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        async def dismiss(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)

    async def open(self, name: str) -> None:
        """Open notebook ``name`` in a workspace of its own.

        Pages of one Lab share its default workspace: a second page would
        restore the first one's tabs, and "the current notebook" could be theirs.
        """
        workspace = f"{Path(name).stem}-{secrets.token_hex(4)}"
        await self.page.goto(self.lab.page_url(f"lab/workspaces/{workspace}/tree/{name}"))
        await self.page.wait_for_function(_KERNEL_IDLE, timeout=6 * MS)
        # Kept: other tabs may be current later (a launcher hiding the notebook).
        await self.page.evaluate(
            "() => { window.dcwNotebook = window.jupyterapp.shell.currentWidget; }"
        )

    async def run_cell(self, index: int) -> None:
        await self.page.evaluate(
            """async (index) => {
                const panel = window.dcwNotebook;
                window.jupyterapp.shell.activateById(panel.id);
                panel.content.activeCellIndex = index;
                await window.jupyterapp.commands.execute("notebook:run-cell");
            }""",
            index,
        )

    async def execute(self, code: str, timeout: float = 3 * TIMEOUT) -> str:
        """Run ``code`` in the notebook's kernel as a cell does; returns what it printed.

        Raises:
            AssertionError: the code raised (its error is in the message).
            TimeoutError: it did not finish within ``timeout`` seconds.
        """
        result = await asyncio.wait_for(self.page.evaluate(_EXECUTE, code), timeout)
        assert result["error"] is None, f"{result['error']}\n{result['text']}"
        return str(result["text"])

    async def command(self, name: str, args: dict[str, Any] | None = None) -> None:
        """Run a JupyterLab command (``apputils:change-theme``...)."""
        await self.page.evaluate(
            "async ([name, args]) => { await window.jupyterapp.commands.execute(name, args); }",
            [name, args or {}],
        )


# -- what the browser test modules share -------------------------------------------------------


def chat_cell(url: str, name: str = "chat", room: str | None = None) -> str:
    """A cell that makes a ChatWidget for ``url`` called ``name`` (in ``room``) and shows it."""
    imports = "from directus_chat_widget.widget import ChatWidget"
    where = f", room={room!r}" if room is not None else ""
    return f"{imports}\n{name} = ChatWidget({url!r}{where})\n{name}"


async def log_in_by_form(page: Any, user: DemoUser, password: str | None = None) -> None:
    """Type ``user``'s email and password into the login form (of ``page`` or a locator)."""
    await page.locator(".dcw-login-email input").fill(user.email)
    await page.locator(".dcw-login-password input").fill(password or user.password)
    await page.locator("button.dcw-login-button").click()


@pytest.fixture(scope="module")
def lab(directus: LocalDirectus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A JupyterLab for the module, with ``chat.ipynb``: a chat cell and a second view of it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`; CI installs it)")
    pytest.importorskip("playwright.async_api")
    server = start_lab(tmp_path_factory.mktemp("lab"))
    server.write_notebook(
        "chat.ipynb", chat_cell(directus.url), "chat  # a second view of the same widget"
    )
    try:
        yield server
    finally:
        stop_lab(server)


@pytest.fixture(scope="module")
async def chromium(lab: Lab) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, for the module's pages."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=3 * MS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def notebook(chromium: Any, lab: Lab) -> AsyncIterator[LabPage]:
    """A fresh Chromium page for a test's own notebook; its kernel is shut down after."""
    page = await chromium.new_page(viewport={"width": 1100, "height": 1000})
    opened = LabPage(page, lab)
    try:
        yield opened
        assert opened.dialogs == []  # no alert() ever ran
    except BaseException:
        print("console errors:", *opened.errors, sep="\n  ")
        raise
    finally:
        with contextlib.suppress(Exception):
            await opened.command("kernelmenu:shutdown")
        await page.close()
