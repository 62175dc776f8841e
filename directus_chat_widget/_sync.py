"""Run a coroutine to completion from synchronous code, even inside a running loop.

Jupyter runs cells inside an event loop, where ``asyncio.run`` refuses to start.
Rather than patching the loop (nest_asyncio), the coroutine runs on its own loop
in a short-lived worker thread; the caller blocks until it is done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` and return its result; exceptions propagate unchanged."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
