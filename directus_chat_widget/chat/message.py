"""What the chat shows: a message, its status, and the change a mutation made. Pure data."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

__all__ = ["UNKNOWN_AUTHOR", "ChangeKind", "ChatMessage", "MessageStatus", "StoreChange"]

UNKNOWN_AUTHOR = "Unknown User"

ChangeKind: TypeAlias = Literal["append", "prepend", "insert", "update", "remove", "reset"]


class MessageStatus(enum.Enum):
    """Where a message stands: stored on the server, on its way, or refused."""

    SENT = "sent"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class ChatMessage:
    """One message as the UI shows it.

    Attributes:
        key: stable identity for a UI row: ``id:<id>`` for rows from the server,
            ``local:<uuid>`` for our own sends (kept after the server confirms).
        id: the server's id; None until the server has stored it.
        content: the text, verbatim (HTML is text, never markup).
        author_id: the author's user id, None when absent or unreadable.
        author_name: first name (+ last name), or ``"Unknown User"``.
        created_at: the server's ``date_created`` as an aware UTC datetime;
            None for a pending send or an unreadable date.
        status: SENT, PENDING or FAILED.
        error: why a FAILED send failed, else None.
        author_first_name: ``user_created.first_name`` alone, whole ("Mary
            Ann" stays "Mary Ann"), trimmed; None when the server did not send
            one (the reader may not see it, or the author has none).
    """

    key: str
    id: int | None
    content: str
    author_id: str | None
    author_name: str
    created_at: datetime | None
    status: MessageStatus = MessageStatus.SENT
    error: str | None = None
    # Last, with a default: ChatMessage is also built positionally.
    author_first_name: str | None = None


@dataclass(frozen=True)
class StoreChange:
    """Exactly what one mutation changed.

    Attributes:
        kind: a hint for the UI (scrolling, animation); :meth:`apply_to` is the
            rule that holds for every kind:

            - ``append``: new messages, newer than every SENT message shown
              before. They go after those, so *above* any pending or failed
              entries: use ``indices``, not the end of the list.
            - ``prepend``: new messages older than everything shown (a history
              page); ``indices`` are ``0..n-1``.
            - ``insert``: new messages that land in between, possibly mixed
              with updated ones (a read overlapping what events brought).
            - ``update``: messages already shown changed (status, content,
              author); a confirmed send may also move to its id position.
            - ``remove``: messages no longer shown; ``indices`` are where they
              were before the change.
            - ``reset``: ``messages`` is the whole list.
        messages: the messages concerned, ascending by index.
        indices: for every kind but ``remove``/``reset``, each message's
            position in the list after the change.
    """

    kind: ChangeKind
    messages: tuple[ChatMessage, ...] = ()
    indices: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing changed (a reset to an empty list is still a change)."""
        return self.kind != "reset" and not self.messages

    def apply_to(self, shown: list[ChatMessage]) -> None:
        """Bring ``shown`` (a UI's copy of the list) up to date with this change.

        For every kind but remove and reset: take out the rows whose key is
        among ``messages``, then insert each message at its index, in order.
        """
        if self.kind == "reset":
            shown[:] = self.messages
            return
        keys = {message.key for message in self.messages}
        shown[:] = [message for message in shown if message.key not in keys]
        if self.kind == "remove":
            return
        for index, message in zip(self.indices, self.messages, strict=True):
            shown.insert(index, message)
