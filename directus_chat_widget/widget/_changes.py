"""Edits and deletes in the widget: the reader's clicks, and ``on_edit``/``on_delete``.

What the callbacks hear: an edit when the server has stored it (the message's
``edited_at`` moved), and a delete when the server's message leaves the list,
anyone's, live or read back after a reconnect gap; the reader's own only for
callbacks that asked (``include_own=True``), as with ``on_message``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..chat.room import ChatRoom
from ..chat.store import ChatMessage, MessageStatus, StoreChange
from ..errors import DirectusError
from ._news import Listeners, Lookup

__all__ = ["ChangeNews", "change_from_view", "key_of"]

logger = logging.getLogger(__name__)


class ChangeNews:
    """The ``on_edit`` and ``on_delete`` callbacks of one widget.

    Args:
        report: shows a callback's failure to the reader (it is logged too).
    """

    def __init__(self, report: Callable[[str], None]) -> None:
        self.edits = Listeners("on_edit", report)
        self.deletes = Listeners("on_delete", report)

    def find(
        self, change: StoreChange, before: Lookup
    ) -> tuple[list[ChatMessage], list[ChatMessage]]:
        """The messages ``change`` edited and deleted; ``before(key)`` is one as it was."""
        if change.kind == "reset":
            return [], []
        if change.kind == "remove":
            # Only stored messages: a failed send given up is not a delete.
            return [], [m for m in change.messages if m.status is MessageStatus.SENT]
        edited = []
        for message in change.messages:
            previous = before(message.key)
            if previous is not None and message.edited_at not in (None, previous.edited_at):
                edited.append(message)
        return edited, []

    def tell(self, found: tuple[list[ChatMessage], list[ChatMessage]], own_id: str | None) -> None:
        """Call the callbacks with what :meth:`find` found."""
        edited, deleted = found
        self.edits.tell(edited, own_id)
        self.deletes.tell(deleted, own_id)


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


async def change_from_view(
    room: ChatRoom | None, key: str, text: str | None, notice: Callable[[str], None]
) -> None:
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
        notice(f"Could not {what} that message: {reason}")
