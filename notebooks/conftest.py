"""Run the tutorial notebooks (nbval) against a private local Directus.

Before any notebook kernel starts, one server is started in a temporary data
folder, and the kernels inherit:

- ``DIRECTUS_CHAT_DATA``: that folder, so ``chat_server()`` in the first
  notebook adopts this server instead of touching the reader's own;
- ``DIRECTUS_URL``: its URL, which ``load_config()`` reads before any ``.env``;
- ``DIRECTUS_CHAT_ENV_FILE``: a scratch ``.env``, so the run never rewrites the
  reader's.

The server is stopped when the run ends.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from directus_chat_widget.local import LocalDirectus

_server: LocalDirectus | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    global _server
    if not any(str(item.path).endswith(".ipynb") for item in session.items):
        return
    folder = Path(tempfile.mkdtemp(prefix="dcw-notebooks-"))
    _server = LocalDirectus(folder / "data", port=0)
    _server.start()
    _server.setup_chat()
    os.environ["DIRECTUS_CHAT_DATA"] = str(_server.data_dir)
    os.environ["DIRECTUS_URL"] = _server.url
    os.environ["DIRECTUS_CHAT_ENV_FILE"] = str(folder / ".env")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _server is not None:
        _server.stop()
