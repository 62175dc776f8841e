"""Voila serves the chat notebook as a standalone page, widgets and all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support import TIMEOUT

from directus_chat_widget.local import LocalDirectus
from directus_chat_widget.local.server import free_port

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "08_chat_widget.ipynb"


@pytest.mark.integration
def test_voila_renders_the_chat_notebook(directus: LocalDirectus, tmp_path: Path) -> None:
    voila = Path(sys.executable).parent / "voila"
    if not voila.exists() and shutil.which("voila") is None:
        pytest.skip("voila is not installed (pip install 'directus-chat-widget[lab]')")
    port = free_port()
    env = dict(os.environ, DIRECTUS_URL=directus.url)
    with (tmp_path / "voila.log").open("w") as log:
        server = subprocess.Popen(
            [str(voila), str(NOTEBOOK), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        page = None
        deadline = time.monotonic() + 6 * TIMEOUT
        while page is None and time.monotonic() < deadline:
            try:
                # Voila runs every cell before it answers, so the read may take a while.
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=12 * TIMEOUT)
            except httpx.TransportError:
                time.sleep(0.5)
        assert page is not None, (tmp_path / "voila.log").read_text()[-2000:]
        assert page.status_code == 200
        assert "application/vnd.jupyter.widget-view+json" in page.text  # the widgets render
        assert "Grace heard: Hello **Grace**!" in page.text  # the notebook ran to its check
        assert "Traceback" not in page.text
    finally:
        server.terminate()
        server.wait(TIMEOUT)
