"""The embed API of unread messages and @mentions, mixed into ``ChatWidget``.

    chat.unread                      # {"ops": 3}: unread messages by room
    chat.mentions                    # {"ops": 1}: unread mentions of you by room
    chat.read_position               # the newest message id read in the room shown
    await chat.mark_read()           # the room shown is read up to its latest message
    chat.jump_to_latest()            # every view scrolls to the newest message
    chat.members                     # the names @ completes
    chat.find_mentions("hi @Ada")    # who a text mentions, and names that match no one
    chat.on_unread_change(f)         # f({"ops": 3}) on every change
    chat.on_mention(f)               # f(MentionNews) for each new mention of you

The work is done by ``_unread.py`` and ``_mentioning.py``; this is their face.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..chat.mentions import Found
from ._mentioning import Mentioning
from ._owner import OwnerLoop, on_owner_loop
from ._rooms import Rooms
from ._unread import MentionNews, Unread

__all__ = ["UnreadMentionsAPI"]


class UnreadMentionsAPI:
    """Unread counts, read positions and mentions, for ``ChatWidget``."""

    _owner: OwnerLoop
    _rooms: Rooms
    _unread: Unread
    _mentioning: Mentioning
    _opening: asyncio.Task[None] | None = None  # _chat_opened, started by a login

    @property
    def unread(self) -> dict[str, int]:
        """Unread messages (others', newer than your read position) by room name.

        A room you never opened counts whole. Empty when logged out.
        """
        return self._unread.counts

    @property
    def mentions(self) -> dict[str, int]:
        """Unread messages that mention you, by room name."""
        return self._unread.mentions

    @property
    def read_position(self) -> int | None:
        """The id of the newest message you have seen in the room shown (None: never)."""
        return self._unread.position()

    @property
    def members(self) -> tuple[str, ...]:
        """The chat's members by name: who an ``@`` can mention (empty when logged out)."""
        return self._mentioning.directory.names

    def find_mentions(self, text: str) -> Found:
        """Who ``text`` would mention, and the ``@names`` in it that match no member."""
        return self._mentioning.directory.find(text)

    @on_owner_loop
    async def mark_read(self) -> None:
        """Mark the room shown as read up to its newest message, on the server now.

        Raises:
            RuntimeError: not logged in.
        """
        await self._unread.mark_read()

    def jump_to_latest(self) -> None:
        """Scroll every view of the list to the newest message."""
        self._unread.jump_to_latest()

    def on_unread_change(self, callback: Callable[[dict[str, int]], None]) -> Callable[[], None]:
        """Call ``callback(counts)`` (as :attr:`unread`) whenever a count changes; a remover."""
        return self._unread.changes.add(callback)

    def on_mention(self, callback: Callable[[MentionNews], None]) -> Callable[[], None]:
        """Call ``callback(news)`` for each new message, in any room, that mentions you.

        ``news`` has the room's name, the message's id, author and text.
        Returns a function that removes the callback.
        """
        return self._unread.mentioned.add(callback)

    async def _opened(self) -> None:
        """Wait for what a login starts (rooms, members, counts); its failure is shown, not raised.

        So ``chat.unread`` and ``chat.members`` hold once ``await chat.login(...)`` returns.
        """
        opening = self._opening
        if opening is not None and not opening.done():
            await asyncio.wait([opening])

    async def _chat_opened(self) -> None:
        """Logged in: the rooms, then the members, then the read positions and counts."""
        rooms = await self._rooms.refresh()
        await self._mentioning.start()
        await self._unread.start({room.id: room.name for room in rooms})

    async def _chat_closed(self) -> None:
        """Logged out (or the session was lost)."""
        self._mentioning.stop()
        await self._unread.stop()
