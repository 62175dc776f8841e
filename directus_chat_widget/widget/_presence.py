"""Presence in the widget: who is online and typing in the room shown, and what the composer says.

A :class:`RoomPresence` is opened for each room the widget shows (after a
login, after a switch; the previous one is left first, so one's row in the
old room goes at once) and left before the room and session close (logout,
closing the widget). The composer's typing news goes to it; a send stops the
typing. Presence is a courtesy: a server without the presence collection
leaves the line hidden and the chat works as before.

Everything here runs on the widget's owner loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .._callbacks import CallbackList
from ..chat.presence import Presence, PresenceTiming, RoomPresence
from ..chat.room import ChatRoom
from ..errors import DirectusError
from ._login import ChatSession
from ._tasks import TaskKeeper
from .message_form import MessageForm
from .presence_bar import PresenceBar

__all__ = ["PresenceCallback", "PresenceFlow"]

logger = logging.getLogger(__name__)

PresenceCallback = Callable[[Presence], None]


class PresenceFlow:
    """Follows the room shown with a RoomPresence, and shows it in the bar.

    Args:
        tasks: keeps the openings.
        bar: the line that shows it.
        form: the composer, whose typing news it passes on.
        timing: the presence timing; None turns presence off (no rows written).

    Attributes:
        changes: the ``on_presence`` callbacks.
    """

    def __init__(
        self,
        tasks: TaskKeeper,
        bar: PresenceBar,
        form: MessageForm,
        timing: PresenceTiming | None,
    ) -> None:
        self._tasks = tasks
        self._bar = bar
        self.timing = timing
        self.changes: CallbackList[[Presence]] = CallbackList("an on_presence callback")
        self._presence: RoomPresence | None = None
        self._turns = asyncio.Lock()  # one leave-and-open at a time, in the order asked
        form.on_typing(self._on_typing)
        form.on_submit(lambda _text: self._on_typing(False))

    @property
    def current(self) -> Presence:
        """Who is online and typing in the room shown (empty when there is none)."""
        return self._presence.current if self._presence is not None else Presence()

    def shown(self, session: ChatSession, room: ChatRoom) -> None:
        """``room`` is shown now: leave the last room's presence and join this one's."""
        if self.timing is None or room.room is None:
            return
        old, new = self._presence, RoomPresence(session, room.room, self.timing)
        self._presence = new
        new.on_change(lambda presence: self._on_change(new, presence))
        self._tasks.spawn(self._swap(old, new), "showing who is online")

    async def leave(self) -> None:
        """Leave the room's presence (one's row is deleted) and hide the line."""
        presence, self._presence = self._presence, None
        self._bar.show(None)
        if presence is not None:
            async with self._turns:
                await presence.close()
            self._tell(Presence())

    async def _swap(self, old: RoomPresence | None, new: RoomPresence) -> None:
        async with self._turns:
            if old is not None:
                await old.close()
            if self._presence is not new:
                return  # left, or another room shown, meanwhile
            try:
                await new.open()
            except (DirectusError, LookupError, RuntimeError) as exc:
                # No presence here (an older server): the chat goes on without it.
                logger.info("presence in %s not shown: %s", new.room, exc)
                if self._presence is new:
                    self._presence = None
                    self._bar.show(None)

    def _on_change(self, source: RoomPresence, presence: Presence) -> None:
        if source is self._presence:  # a presence being left says nothing more
            self._bar.show(presence if source.is_open else None)
            self._tell(presence)

    def _tell(self, presence: Presence) -> None:
        self.changes(presence)

    def _on_typing(self, active: bool) -> None:
        presence = self._presence
        if presence is None:
            return
        if active:
            presence.keystroke()
        else:
            presence.stop_typing()
