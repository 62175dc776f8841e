"""The edit and delete path: the list's Edit and Delete, ``edit_message()``, ``delete_message()``.

Only one's own messages, once sent: the room refuses the rest before asking
the server (which refuses them too). A refusal of a click is said in the
notice; the caller's coroutines raise it.
"""

from __future__ import annotations

import logging

from ..chat.room import ChatRoom
from ..chat.store import ChatMessage
from ..errors import DirectusError
from ._login import LoginFlow
from ._notice import Notice
from ._tasks import TaskKeeper
from .message_list import MessageList

__all__ = ["Editing", "key_of"]

logger = logging.getLogger(__name__)


def key_of(message: str | ChatMessage) -> str:
    """The key of ``message``, given as a key or as a ChatMessage.

    Raises:
        TypeError: neither.
    """
    if isinstance(message, ChatMessage):
        return message.key
    if isinstance(message, str):
        return message
    raise TypeError(f"expected a message key or a ChatMessage, got {type(message).__name__}")


class Editing:
    """Edits and deletes messages of the open room, for the list's buttons or a caller.

    Args:
        login: where the open room comes from.
        tasks: keeps what the buttons start.
        notice: the line under the chat, where a refused click is said.
        message_list: the list whose Edit and Delete come here.
    """

    def __init__(
        self, login: LoginFlow, tasks: TaskKeeper, notice: Notice, message_list: MessageList
    ) -> None:
        self._login = login
        self._tasks = tasks
        self._notice = notice
        message_list.on_edit(lambda key, text: self._on_click(key, text))
        message_list.on_delete(lambda key: self._on_click(key, None))

    async def edit(self, message: str | ChatMessage, text: str) -> ChatMessage:
        """Change the text of one's own message: see :meth:`ChatWidget.edit_message`."""
        return await self._login.require_room().edit(key_of(message), text)

    async def delete(self, message: str | ChatMessage) -> None:
        """Delete one's own message: see :meth:`ChatWidget.delete_message`."""
        await self._login.require_room().delete(key_of(message))

    def _on_click(self, key: str, text: str | None) -> None:
        what = "deleting" if text is None else "editing"
        self._tasks.spawn(self._change_from_view(self._login.room, key, text), what)

    async def _change_from_view(self, room: ChatRoom | None, key: str, text: str | None) -> None:
        """Edit (``text``) or delete (None) ``key`` for a click; a refusal is shown, not raised."""
        what = "delete" if text is None else "edit"
        if room is None or not room.is_open:
            return
        try:
            if text is None:
                await room.delete(key)
            else:
                await room.edit(key, text)
        except (KeyError, ValueError, DirectusError) as exc:
            logger.info("%s of %s from the list failed: %s", what, key, exc)
            reason = "it is no longer there" if isinstance(exc, KeyError) else str(exc)
            self._notice.show(f"Could not {what} that message: {reason}")
