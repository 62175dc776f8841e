"""The reactions row part in Python: fields on each message, the chips' clicks, the API.

Each message goes to the browser with ``"reactions": [{emoji, count, mine,
who}]`` when it has any (none: no field, so an append costs nothing more).
A change of reactions goes as ``{"type": "reactions", "rows": [{key,
reactions}]}`` holding only the messages whose reactions changed: a reaction
never sends the message itself again. A chip's click comes back as
``{"type": "react", key, emoji}`` and toggles the reader's own; a refusal is
said in the notice, and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..chat._reacting import ReactionChange
from ..chat.reactions import Reaction
from ..chat.room import ChatRoom
from ..chat.store import ChatMessage
from ..errors import DirectusError
from ._editing import key_of
from ._login import LoginFlow
from ._notice import Notice
from ._tasks import TaskKeeper
from .message_list import MessageList

__all__ = ["ReactionCallback", "Reactions", "wire_reactions"]

logger = logging.getLogger(__name__)

ReactionCallback = Callable[[ChatMessage, tuple[Reaction, ...]], None]


def wire_reactions(reactions: tuple[Reaction, ...]) -> list[dict[str, Any]]:
    """Reactions as they go to the browser: ``who`` is the names, comma-separated."""
    return [
        {"emoji": r.emoji, "count": r.count, "mine": r.mine, "who": ", ".join(r.names)}
        for r in reactions
    ]


class Reactions:
    """Shows the open room's reactions in the list and changes them, for clicks or a caller.

    Args:
        login: where the open room comes from (and goes).
        tasks: keeps what the chips start.
        notice: the line under the chat, where a refused click is said.
        message_list: the list the reactions are shown in.
        report: shows an ``on_reaction`` callback's failure to the reader.
    """

    def __init__(
        self,
        login: LoginFlow,
        tasks: TaskKeeper,
        notice: Notice,
        message_list: MessageList,
        report: Callable[[str], None],
    ) -> None:
        self._login = login
        self._tasks = tasks
        self._notice = notice
        self._list = message_list
        self._report = report
        self._callbacks: list[ReactionCallback] = []
        message_list.add_row_fields(self._fields)
        message_list.handle("react", self._on_click)
        login.room_watchers.append(self._watch)

    # -- the API (ChatWidget's, on the owner loop) ---------------------------------

    def of(self, message: str | ChatMessage) -> tuple[Reaction, ...]:
        """The reactions on ``message``: see :meth:`ChatWidget.reactions`."""
        room = self._login.room
        return room.reactions.of(key_of(message)) if room is not None else ()

    async def change(self, action: str, message: str | ChatMessage, emoji: str) -> Any:
        """``add``, ``remove`` or ``toggle`` the reader's ``emoji`` on ``message``."""
        reactions = self._login.require_room().reactions
        return await getattr(reactions, action)(key_of(message), emoji)

    def on_reaction(self, callback: ReactionCallback) -> Callable[[], None]:
        """Call ``callback(message, reactions)`` when reactions on a message shown change."""
        self._callbacks.append(callback)

        def remove() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return remove

    # -- the list -----------------------------------------------------------------------

    def _fields(self, message: ChatMessage) -> dict[str, Any]:
        room = self._login.room
        found = room.reactions.of(message) if room is not None else ()
        return {"reactions": wire_reactions(found)} if found else {}

    def _watch(self, room: ChatRoom) -> Callable[[], None]:
        return room.reactions.on_change(lambda change: self._changed(room, change))

    def _changed(self, room: ChatRoom, change: ReactionChange) -> None:
        rows, told = [], []
        for key, _ in change:
            reactions = room.reactions.of(key)
            if self._list.get(key) is not None:
                rows.append({"key": key, "reactions": wire_reactions(reactions)})
            message = room.get(key)
            if message is not None:
                told.append((message, reactions))
        if rows:
            self._list.send({"type": "reactions", "rows": rows})
        for message, reactions in told:
            for callback in list(self._callbacks):
                try:
                    callback(message, reactions)
                except Exception as exc:
                    logger.exception("an on_reaction callback raised")
                    self._report(f"An on_reaction callback failed: {exc!r}")

    def _on_click(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        key, emoji = content.get("key"), content.get("emoji")
        if isinstance(key, str) and isinstance(emoji, str):
            self._tasks.spawn(self._toggle_from_view(self._login.room, key, emoji), "reacting")

    async def _toggle_from_view(self, room: ChatRoom | None, key: str, emoji: str) -> None:
        if room is None or not room.is_open:
            return
        try:
            await room.reactions.toggle(key, emoji)
        except (KeyError, ValueError, RuntimeError, DirectusError) as exc:
            logger.info("reacting to %s from the list failed: %s", key, exc)
            reason = "it is no longer there" if isinstance(exc, KeyError) else str(exc)
            self._notice.show(f"Could not react to that message: {reason}")
