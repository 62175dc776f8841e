"""Which room changes bring new messages, and telling ``on_message`` callbacks.

History is not news: the first page (read while the room opens) and older
pages are not told; what the server stores while the chat is open is, once,
when it first shows as SENT (our own sends when confirmed, and only to
callbacks that asked for them).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..chat.store import ChatMessage, MessageStatus, StoreChange

__all__ = ["Listeners", "MessageCallback", "MessageNews"]

logger = logging.getLogger(__name__)

# A plain function, or a coroutine function (a bot that answers: see README, "Bots").
MessageCallback = Callable[[ChatMessage], Awaitable[Any] | None]
Lookup = Callable[[str], ChatMessage | None]


class Listeners:
    """Callbacks that take one message, each told about the reader's own ones or not.

    Args:
        name: how the log and the reader's notice name them (``"on_message"``).
        report: shows a callback's failure to the reader (it is logged too).
    """

    def __init__(self, name: str, report: Callable[[str], None]) -> None:
        self._name = name
        self._report = report
        self._callbacks: list[tuple[MessageCallback, bool]] = []
        self._running: set[asyncio.Future[Any]] = set()  # coroutine callbacks, kept

    def add(self, callback: MessageCallback, *, include_own: bool) -> Callable[[], None]:
        """Register ``callback``; returns a function that removes it."""
        entry = (callback, include_own)
        self._callbacks.append(entry)

        def remove() -> None:
            if entry in self._callbacks:
                self._callbacks.remove(entry)

        return remove

    def tell(self, messages: Iterable[ChatMessage], own_id: str | None) -> None:
        """Call the callbacks with each message; one that raises is logged and reported."""
        for message in messages:
            own = own_id is not None and message.author_id == own_id
            for callback, include_own in list(self._callbacks):
                if own and not include_own:
                    continue
                try:
                    result = callback(message)
                    if inspect.isawaitable(result):
                        self._keep(asyncio.ensure_future(result))
                except Exception as exc:
                    self._failed(exc)

    def _keep(self, running: asyncio.Future[Any]) -> None:
        self._running.add(running)
        running.add_done_callback(self._done)

    def _done(self, running: asyncio.Future[Any]) -> None:
        self._running.discard(running)
        if not running.cancelled() and running.exception() is not None:
            self._failed(running.exception())

    def _failed(self, exc: BaseException | None) -> None:
        logger.error("an %s callback raised", self._name, exc_info=exc)
        self._report(f"An {self._name} callback failed: {exc!r}")


class MessageNews:
    """The ``on_message`` callbacks of one widget and the rule for what to tell them.

    Args:
        report: shows a callback's failure to the reader (it is logged too).
    """

    def __init__(self, report: Callable[[str], None]) -> None:
        self._listeners = Listeners("on_message", report)
        self._watermark: int | None = None  # None: not live (logged out or opening)

    def add(self, callback: MessageCallback, *, include_own: bool) -> Callable[[], None]:
        """Register ``callback``; returns a function that removes it."""
        return self._listeners.add(callback, include_own=include_own)

    def start(self, shown: Iterable[ChatMessage]) -> None:
        """The room is open showing ``shown``: from now on, newer messages are news."""
        self._watermark = max((m.id for m in shown if m.id is not None), default=0)

    def stop(self) -> None:
        """Logged out: nothing is news until the next :meth:`start`."""
        self._watermark = None

    def find(self, change: StoreChange, before: Lookup) -> list[ChatMessage]:
        """The messages ``change`` makes news of; ``before(key)`` is the message as it was."""
        watermark = self._watermark
        if watermark is None or change.kind in ("remove", "reset", "prepend"):
            return []
        fresh = []
        for message in change.messages:
            if message.status is not MessageStatus.SENT or message.id is None:
                continue
            if message.id <= watermark:  # an old row coming back (a replay, an edit)
                continue
            previous = before(message.key)
            if previous is None or previous.status is not MessageStatus.SENT:
                fresh.append(message)
        return fresh

    def tell(self, messages: Iterable[ChatMessage], own_id: str | None) -> None:
        """Call the callbacks with each message; one that raises is logged and reported."""
        self._listeners.tell(messages, own_id)
