"""Rooms in the widget: the switcher's buttons, ``switch_room``/``create_room``, and their news.

Everything here runs on the widget's owner loop: the bar's messages are handed
there (it is adopted), and the public coroutines run there (``_on_owner_loop``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

from .._callbacks import CallbackList
from ..chat.room import ChatRoom
from ..chat.rooms import Room, check_room_name, create_room, list_rooms
from ..errors import DirectusError
from ._login import LoginFlow
from ._tasks import TaskKeeper
from .room_bar import RoomBar

__all__ = ["RoomCallback", "Rooms"]

logger = logging.getLogger(__name__)

RoomCallback = Callable[[str], None]


class Rooms:
    """Which room the widget shows, and the switcher that changes it.

    Args:
        login: the session and room of the widget (it opens and swaps rooms).
        tasks: keeps what the switcher's buttons start.
        bar: the switcher.
    """

    def __init__(self, login: LoginFlow, tasks: TaskKeeper, bar: RoomBar) -> None:
        self._login = login
        self._tasks = tasks
        self._bar = bar
        self.changes: CallbackList[[str]] = CallbackList("an on_room_change callback")
        bar.current = login.room_name
        bar.on_open(self._on_open)
        bar.on_create(self._on_create)

    @property
    def name(self) -> str:
        """The room shown (or opened at the next login)."""
        return self._login.room_name

    async def refresh(self) -> list[Room]:
        """Read every room's name into the switcher; returns the rooms.

        Raises:
            RuntimeError: not logged in.  DirectusError: the read failed.
        """
        self._login.require_room()
        assert self._login.session is not None
        rooms = await list_rooms(self._login.session)
        self._bar.rooms = [room.name for room in rooms]
        return rooms

    async def switch(self, name: str) -> ChatRoom:
        """Show the room ``name``: see :meth:`ChatWidget.switch_room`."""
        clean = check_room_name(name)
        if clean == self.name and self._login.require_room().is_open:
            return self._login.require_room()
        with self._busy():
            room = await self._login.switch(clean)
        self._bar.current = clean
        self.changes(clean)
        return room

    async def create(self, name: str) -> ChatRoom:
        """Create the room ``name`` and show it: see :meth:`ChatWidget.create_room`."""
        self._login.require_room()
        assert self._login.session is not None
        with self._busy():
            made = await create_room(self._login.session, name)
        try:
            await self.refresh()
        except DirectusError as exc:  # the room exists; only the suggestions are stale
            logger.info("reading the rooms failed: %s", exc)
        return await self.switch(made.name)

    def _on_open(self, name: str) -> None:
        self._tasks.spawn(self._from_bar(self.switch, name), "switching rooms")

    def _on_create(self, name: str) -> None:
        self._tasks.spawn(self._from_bar(self.create, name), "creating a room")

    async def _from_bar(self, action: Callable[[str], Awaitable[object]], name: str) -> None:
        # A refusal is the reader's to fix: shown in the bar, not raised into the log.
        try:
            await action(name)
        except (DirectusError, LookupError, RuntimeError, ValueError) as exc:
            logger.info("room %r: %s", name, exc)
            self._bar.error = str(exc)

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """The bar waits (buttons disabled, no old error) while a switch or create runs."""
        self._bar.busy = True
        self._bar.error = ""
        try:
            yield
        finally:
            self._bar.busy = False
