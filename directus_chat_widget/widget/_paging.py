"""Older pages: the list's request for more history, and ``load_older()``.

The browser asks when the reader scrolls to the top of what it holds; the
answer (and whether there is more) goes back to that view, whether the read
worked or not, so that it stops showing "loading".
"""

from __future__ import annotations

from ._login import LoginFlow
from ._tasks import TaskKeeper
from .message_list import MessageList

__all__ = ["Paging"]


class Paging:
    """Reads older messages into the open room for the list or for a caller.

    Args:
        login: where the open room comes from.
        tasks: keeps the reads the browser asks for.
        message_list: the list that asks, and is told when a read is done.
    """

    def __init__(self, login: LoginFlow, tasks: TaskKeeper, message_list: MessageList) -> None:
        self._login = login
        self._tasks = tasks
        self._list = message_list
        message_list.on_load_older(self._on_load_older)

    async def load_older(self) -> int:
        """Read one page: see :meth:`ChatWidget.load_older`."""
        room = self._login.require_room()
        added = await room.load_older()
        self._list.older_loaded(None, has_older=room.has_older)
        return added

    def _on_load_older(self, view: str) -> None:
        self._tasks.spawn(self._load_older_for(view), "loading older messages")

    async def _load_older_for(self, view: str) -> None:
        room = self._login.room
        try:
            if room is not None and room.is_open:
                await room.load_older()
        finally:
            has_older = room.has_older if room is not None else False
            self._list.older_loaded(view, has_older=has_older)
