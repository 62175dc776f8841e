"""Which room changes are edits and deletes, and telling ``on_edit``/``on_delete``.

What the callbacks hear: an edit when the server has stored it (the message's
``edited_at`` moved), and a delete when the server's message leaves the list,
anyone's, live or read back after a reconnect gap; the reader's own only for
callbacks that asked (``include_own=True``), as with ``on_message``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..chat.store import ChatMessage, MessageStatus, StoreChange
from ._news import Listeners, Lookup

__all__ = ["ChangeNews"]


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
