"""The chat widget in a real JupyterLab, driven through headless Chromium.

A JupyterLab server runs on a free 127.0.0.1 port over a temporary folder
holding a small notebook that builds a ChatWidget for the test Directus.
Playwright (Python) drives Debian's Chromium: run the cell, log in by typing
and clicking, send a message, see one from a second session appear, check that
markup arrives as inert text, re-display the widget and see the history again,
and save a screenshot under ``artifacts/``. The list view alone is in
``test_list_view.py``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT, XSS

from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.session import RealtimeSession

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
MS = int(TIMEOUT * 1000)  # Playwright counts in milliseconds


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def notebook(directus_url: str) -> dict[str, Any]:
    def code(source: str) -> dict[str, Any]:
        return {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source,
        }

    return {
        "cells": [
            code(
                "from directus_chat_widget.widget import ChatWidget\n"
                f"chat = ChatWidget({directus_url!r})\n"
                "chat"
            ),
            code("chat  # a second view of the same widget"),
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def lab_settings(folder: Path) -> None:
    """No news or update checks: no network from the page, no toasts over the widget."""
    plugin = folder / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True)
    (plugin / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # the server shuts its kernels down on SIGTERM
    try:
        process.wait(timeout=3 * TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def lab(directus: LocalDirectus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`; CI installs it)")
    pytest.importorskip("playwright.async_api")
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    for sub in ("config", "data", "runtime", "settings", "workspaces"):
        (home / sub).mkdir(parents=True)
    lab_settings(home / "settings")
    (root / "chat.ipynb").write_text(json.dumps(notebook(directus.url)))
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
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
    server = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        wait_until_up(server)
        yield server
    finally:
        stop(process)


def wait_until_up(lab: Lab) -> None:
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


async def run_cell(page: Any, index: int) -> None:
    await page.evaluate(
        """async (index) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = index;
            await window.jupyterapp.commands.execute("notebook:run-cell");
        }""",
        index,
    )


@pytest.mark.integration
async def test_the_widget_in_jupyterlab(
    lab: Lab, grace: RealtimeSession, demo_users: list[DemoUser]
) -> None:
    from playwright.async_api import async_playwright, expect

    ada = demo_users[0]
    dialogs: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 1000})
            expect.set_options(timeout=3 * MS)

            async def dismiss(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", dismiss)
            await page.goto(lab.page_url("lab/tree/chat.ipynb"))
            await page.wait_for_function(
                """() => {
                    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                    const kernel = panel && panel.sessionContext && panel.sessionContext.session
                        && panel.sessionContext.session.kernel;
                    return kernel && kernel.status === "idle";
                }""",
                timeout=6 * MS,
            )
            await run_cell(page, 0)

            # Log in by typing and clicking.
            email = page.locator(".dcw-login-email input")
            await expect(email).to_be_visible(timeout=6 * MS)
            await email.fill(ada.email)
            await page.locator(".dcw-login-password input").fill(ada.password)
            await page.locator("button.dcw-login-button").click()
            await expect(page.locator(".dcw-list")).to_be_visible()
            await expect(page.locator(".dcw-status-user")).to_contain_text(ada.first_name)
            await expect(page.locator(".dcw-login-password input")).to_have_count(0)

            # Send by typing and pressing Enter.
            mine = f"typed in Chromium {uuid.uuid4().hex[:8]}"
            box = page.locator(".dcw-form-input")
            await expect(box).to_be_enabled()
            await box.fill(mine)
            await box.press("Enter")
            own = page.locator(".dcw-msg.dcw-own.dcw-status-sent", has_text=mine)
            await expect(own).to_be_visible()
            await expect(own.locator(".dcw-msg-author")).to_have_text(ada.first_name)
            await expect(box).to_have_value("")

            # A message from a second session appears.
            theirs = f"from Grace {uuid.uuid4().hex[:8]}"
            await grace.create("messages", {"content": theirs})
            other = page.locator(".dcw-msg:not(.dcw-own)", has_text=theirs)
            await expect(other).to_be_visible()
            await expect(other.locator(".dcw-msg-author")).to_have_text(demo_users[1].first_name)
            await expect(other.locator(".dcw-msg-time")).not_to_be_empty()

            # Markup, received and typed, is inert text.
            await grace.create("messages", {"content": XSS})
            await box.fill(XSS)
            await box.press("Enter")
            first = page.locator(".dcw-list").first
            await expect(first.locator(".dcw-msg.dcw-own.dcw-status-sent").last).to_have_text(
                re.compile(re.escape(XSS))
            )
            newest = first.locator(".dcw-msg")
            count = await newest.count()
            for n in (count - 2, count - 1):  # Grace's, then ours: the newest two
                await expect(newest.nth(n).locator(".dcw-msg-text")).to_have_text(XSS)
            assert await page.locator(".dcw-list img").count() == 0
            assert await page.locator(".dcw-msg-text *").count() == 0

            # A second view of the same widget asks for the history and shows it.
            await run_cell(page, 1)
            lists = page.locator(".dcw-list")
            await expect(lists).to_have_count(2)
            await expect(lists.nth(1).locator(".dcw-msg", has_text=theirs)).to_be_visible()
            again = lists.nth(1).locator(".dcw-msg-text")
            await expect(again.last).to_have_text(XSS)
            await expect(again.nth(await again.count() - 2)).to_have_text(XSS)

            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "widget-browser.png"
            await page.locator(".dcw-chat").first.scroll_into_view_if_needed()
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
            # Give a late onerror handler its chance to fire before the verdict.
            await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            assert dialogs == []
        finally:
            await browser.close()
