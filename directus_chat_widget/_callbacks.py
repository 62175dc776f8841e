"""User callbacks: register, remove, call all; one that raises never stops the others.

Every public ``on_...``/``add_listener`` in the kit hands out a remover and
must survive a callback that raises (it is logged, and optionally reported,
say in a widget), so that behaviour lives here once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

__all__ = ["CallbackList"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")


class CallbackList(Generic[P]):
    """An ordered list of callbacks called together.

    Args:
        what: names the callbacks in the log ("an on_change callback").
        on_error: also called with the exception when a callback raises.
    """

    def __init__(self, what: str, *, on_error: Callable[[Exception], None] | None = None) -> None:
        self._what = what
        self._on_error = on_error
        self._callbacks: list[Callable[P, object]] = []

    def add(self, callback: Callable[P, object]) -> Callable[[], None]:
        """Register ``callback``; returns a function that removes it (safe to call twice)."""
        self._callbacks.append(callback)

        def remove() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return remove

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        # A copy: a callback may remove itself (or add another) while we loop.
        for callback in list(self._callbacks):
            try:
                callback(*args, **kwargs)
            except Exception as exc:
                logger.exception("%s raised; the others still run", self._what)
                if self._on_error is not None:
                    self._on_error(exc)

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def __len__(self) -> int:
        return len(self._callbacks)
