"""The one event loop a widget's work belongs to, and the hand-off to it.

Why this exists: since ipykernel 7 (kernel subshells, JEP 91), JupyterLab 4.4+
sends comm messages to a *subshell* by default (its ``commsOverSubshells``
setting, ``perCommTarget``). The kernel then runs widget callbacks (clicks,
submits, custom messages) on that subshell's own thread, which has its own
asyncio loop, while cells keep running on the main thread's loop. Which one a
given message lands on is the kernel's routing, and has changed between
releases. A session whose tasks and futures live on one loop, awaited from the
other, hangs or raises "attached to a different loop"; two threads changing one
message list would race.

So every widget has an :class:`OwnerLoop`: the loop that was running where it
was made (a cell's, in a notebook), or else the first one that uses it (a
plain script under ``asyncio.run``). Everything that arrives from the browser
is handed to that loop with :meth:`OwnerLoop.call`, and the public coroutines
run there through :meth:`OwnerLoop.run`, whichever loop awaits them, with the
result or the exception handed back. Neither ipywidgets nor anywidget does
this for us: both call a handler on whatever thread the kernel dispatched it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["OwnerLoop", "on_owner_loop"]

P = ParamSpec("P")
T = TypeVar("T")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class OwnerLoop:
    """The event loop one widget runs its work on; hands calls over from other threads.

    Args:
        loop: the owner; by default the loop running here, if any (else the
            first loop that calls :meth:`run` or :meth:`call` becomes it).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop if loop is not None else _running_loop()
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The owner, or None until one is bound."""
        return self._loop

    def _owner(self) -> asyncio.AbstractEventLoop | None:
        """The owner, adopting the running loop when there is none or it has closed."""
        with self._lock:
            loop = self._loop
            if loop is None or loop.is_closed():
                running = _running_loop()
                if running is not None:
                    self._loop = loop = running
            return loop

    def is_current(self) -> bool:
        """True when called on the owner loop's thread while it runs."""
        loop = self._owner()
        return loop is None or loop is _running_loop()

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the owner: now when already there, else soon.

        From another thread the call is queued with ``call_soon_threadsafe``;
        the caller does not wait for it (a widget callback has nothing to
        return). With no loop at all (plain Python, no kernel) it runs now.
        """
        loop = self._owner()
        if loop is None or loop is _running_loop() or not loop.is_running():
            function(*args)
            return
        # A closure, not (function, *args): asyncio logs a failing handle's repr,
        # arguments and all, and a login message carries the password.
        loop.call_soon_threadsafe(lambda: function(*args))

    def calls(self, function: Callable[P, None]) -> Callable[P, None]:
        """``function`` as a callback that always runs on the owner (see :meth:`call`)."""

        @functools.wraps(function)
        def handed_over(*args: P.args, **kwargs: P.kwargs) -> None:
            self.call(lambda: function(*args, **kwargs))

        return handed_over

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the owner loop, from whichever loop awaits this.

        Cancelling the awaiting task cancels the work on the owner too.

        Raises:
            RuntimeError: the owner loop is not running (it has stopped, or
                belongs to a thread that is blocked outside it).
            whatever ``coro`` raises.
        """
        loop = self._owner()
        here = asyncio.get_running_loop()
        if loop is None or loop is here:
            return await coro
        if not loop.is_running():
            coro.close()
            raise RuntimeError(
                "this chat belongs to an event loop that is not running; "
                "use it from the notebook (or loop) it was created in"
            )
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        return await asyncio.wrap_future(future, loop=here)

    def start(self, coro: Coroutine[Any, Any, T]) -> Awaitable[T] | concurrent.futures.Future[T]:
        """Start ``coro`` on the owner now; return what the caller may wait on.

        Unlike a bare coroutine, the work goes ahead whether or not it is awaited.

        Returns:
            a task (when called on the owner's own loop), a future of the
            caller's loop (called from another loop), or a
            ``concurrent.futures.Future`` (called with no loop running).

        Raises:
            RuntimeError: the owner loop is not running, so nothing could start.
        """
        loop = self._owner()
        here = _running_loop()
        if loop is not None and loop is here:
            return loop.create_task(coro)
        if loop is None or not loop.is_running():
            coro.close()
            raise RuntimeError("no running event loop to start on: use `await` in a notebook cell")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        return asyncio.wrap_future(future, loop=here) if here is not None else future

    def adopt(self, widget: Any) -> None:
        """Hand every message the browser sends ``widget`` (and widgets inside it) to the owner.

        The widget's comm calls ``_handle_msg`` for state updates, custom
        messages and clicks alike; routing that one entry through :meth:`call`
        keeps them in the order they came and puts every handler (ours and
        ipywidgets' own) on the owner's thread.
        """
        for each in _widget_tree(widget):
            comm = getattr(each, "comm", None)
            if comm is not None:
                comm.on_msg(self.calls(each._handle_msg))


def _widget_tree(widget: Any) -> list[Any]:
    found, todo = [], [widget]
    while todo:
        each = todo.pop()
        found.append(each)
        todo.extend(getattr(each, "children", ()) or ())
    return found


def on_owner_loop(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """A coroutine method of a widget with an ``_owner`` (an :class:`OwnerLoop`) that
    runs on that owner loop, whichever loop awaits it."""

    @functools.wraps(method)
    async def run_on_owner(*args: P.args, **kwargs: P.kwargs) -> T:
        owner = args[0]._owner  # type: ignore[attr-defined]
        assert isinstance(owner, OwnerLoop)
        return await owner.run(method(*args, **kwargs))

    return run_on_owner
