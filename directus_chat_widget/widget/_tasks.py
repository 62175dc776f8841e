"""Background work started from widget callbacks, kept and accounted for.

Button clicks arrive as plain (synchronous) callbacks, yet logging in, sending
and paging are coroutines. :class:`TaskKeeper` starts them with
``asyncio.create_task`` and keeps a reference to each one until it ends (the
event loop only holds weak references: an unreferenced task can vanish
mid-flight), and hands every failure to a ``report`` callback so that no
exception is lost: the widget shows it to the reader and logs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["TaskKeeper"]

logger = logging.getLogger(__name__)

Reporter = Callable[[str, BaseException], None]


class TaskKeeper:
    """Starts coroutines as tasks, keeps them alive, reports how they failed.

    Args:
        report: called as ``report(what, exc)`` for a task that raised (not for
            one that was cancelled), and for a coroutine that could not start.
    """

    def __init__(self, report: Reporter) -> None:
        self._report = report
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any] | None:
        """Run ``coro`` as a task described by ``what`` (e.g. ``"sending"``).

        Returns:
            the task, or None when there is no running event loop (reported).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError as exc:
            # A callback fired outside the kernel's loop (a thread, plain
            # Python): never leave the coroutine un-awaited and silent.
            coro.close()
            self._report(what, RuntimeError(f"no running event loop ({exc})"))
            return None
        return self.keep(loop.create_task(coro, name=f"dcw-widget: {what}"), what)

    def keep(self, task: asyncio.Task[Any], what: str) -> asyncio.Task[Any]:
        """Hold a task started elsewhere until it ends, and report how it failed."""
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))
        return task

    def _finished(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        try:
            self._report(what, exc)
        except Exception:  # the reporter itself broke: the log still gets both
            logger.exception("reporting a failure of %s raised", what)
            logger.error("%s failed", what, exc_info=exc)

    async def settle(self) -> None:
        """Wait until every task (including ones started meanwhile) has ended.

        Failures were already reported; they are not raised again here.
        """
        current = asyncio.current_task()
        while True:
            pending = [task for task in self._tasks if task is not current]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every task and wait for them to end."""
        current = asyncio.current_task()
        pending = [task for task in self._tasks if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
