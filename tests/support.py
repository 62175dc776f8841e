"""Constants and types the tests share (import as ``from support import TIMEOUT``).

Kept out of conftest.py: ``notebooks/`` has a conftest.py too, so ``import
conftest`` would be ambiguous when both folders are collected in one run.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from directus_chat_widget.local import LocalDirectus

# The one base timeout every wait in the tests scales from; slow machines set DCW_TIMEOUT_SCALE.
TIMEOUT = 10.0 * float(os.environ.get("DCW_TIMEOUT_SCALE", "1"))

MakeDirectus = Callable[..., LocalDirectus]
T = TypeVar("T")


class LoopThread:
    """An event loop running forever on a thread of its own, like a kernel subshell's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="subshell-test")
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on this thread's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()


# Debian's Chromium, driven by Playwright; never a browser Playwright downloads.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
# Markup that would run script if it were ever rendered as HTML.
XSS = "<img src=x onerror=alert(1)>"
