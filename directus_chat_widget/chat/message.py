"""What the chat shows: a message, its status, and the change a mutation made. Pure data."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

__all__ = [
    "ATTACHMENT_FIELDS",
    "IMAGE_TYPES",
    "MESSAGE_FIELDS",
    "UNKNOWN_AUTHOR",
    "Attachment",
    "ChangeKind",
    "ChatMessage",
    "MessageStatus",
    "Saving",
    "StoreChange",
    "check_text",
]

UNKNOWN_AUTHOR = "Unknown User"

# What a message needs to be shown; the author's names may be dropped by the
# server when the reader may not see them (the store then says Unknown User).
MESSAGE_FIELDS: tuple[str, ...] = (
    "id",
    "content",
    "date_created",
    "date_updated",
    "user_created.id",
    "user_created.first_name",
    "user_created.last_name",
    "reply_to",
)
# A message's file (see local/attachments.py): what the list needs to show it
# before any byte of it is fetched.
ATTACHMENT_FIELDS = tuple(
    f"attachment.{name}"
    for name in ("id", "filename_download", "type", "filesize", "width", "height")
)
MESSAGE_FIELDS += ATTACHMENT_FIELDS
# Raster types a browser shows in an <img> (SVG is sanitized first: see chat/_svg.py).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})

ChangeKind: TypeAlias = Literal["append", "prepend", "insert", "update", "remove", "reset"]
# A change to a SENT message that is on its way to the server.
Saving: TypeAlias = Literal["edit", "delete"]


class MessageStatus(enum.Enum):
    """Where a message stands: stored on the server, on its way, or refused."""

    SENT = "sent"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, as the server lists it (a ``directus_files`` row).

    Attributes:
        id: the file's id on the server; None while our own upload is on its way.
        name: the file's name (``filename_download``): its label, and a download's name.
        mime: the type declared at upload (``type``). A hint only: before showing
            anything as an image, the kernel looks at the bytes themselves.
        size: in bytes (``filesize``); None when not known.
        width, height: in pixels, for an image whose size is known.
    """

    id: str | None
    name: str
    mime: str = "application/octet-stream"
    size: int | None = None
    width: int | None = None
    height: int | None = None

    @property
    def looks_like_image(self) -> bool:
        """Declared as an image type a browser shows (the bytes decide in the end)."""
        return self.mime in IMAGE_TYPES


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
        edited_at: when the server last stored an edit (``date_updated``,
            which Directus leaves null on create); None if never edited.
        own: written by the logged-in user of the room (so theirs to edit
            and delete); our own sends are own from the start.
        saving: ``"edit"`` while an edit is on its way (``content`` is then
            the new text, shown at once), ``"delete"`` while a delete is;
            None otherwise. A failed edit or delete puts back what the
            server has.
        attachment: the file sent with the message, or None.
        reply_to: the id of the message this one answers (it may since have
            been deleted); None if it answers none.
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
    edited_at: datetime | None = None
    own: bool = False
    saving: Saving | None = None
    attachment: Attachment | None = None
    reply_to: int | None = None

    @property
    def edited(self) -> bool:
        """True once the server has stored an edit of this message."""
        return self.edited_at is not None


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

    @classmethod
    def describe(
        cls,
        placed: Sequence[tuple[int, ChatMessage]],
        added: int,
        oldest: int | None,
        newest: int | None,
    ) -> StoreChange:
        """The change that put ``placed`` (index, message; ascending) in the list.

        ``added`` of them were not shown before; ``oldest`` and ``newest`` are
        the server ids shown before (None: none).
        """
        if not placed:
            return cls("update")
        indices = tuple(index for index, _ in placed)
        messages = tuple(message for _, message in placed)
        if not added:
            kind: ChangeKind = "update"
        elif added != len(placed):  # some new, some already shown
            kind = "insert"
        elif newest is None or all(m.id is not None and m.id > newest for m in messages):
            kind = "append"
        elif oldest is not None and all(m.id is not None and m.id < oldest for m in messages):
            kind = "prepend"
        else:
            kind = "insert"
        return cls(kind, messages, indices)

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


def check_text(text: str, max_length: int) -> str:
    """``text`` stripped, if it can be sent as a message (see ChatRoom.check_text).

    Raises:
        ValueError: blank, longer than ``max_length``, or not valid Unicode.
    """
    content = text.strip()
    if not content:
        raise ValueError("message is empty")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"message holds a lone surrogate at character {exc.start}: not valid Unicode"
        ) from exc
    if len(content) > max_length:
        raise ValueError(
            f"message is too long: {len(content)} characters, the limit is {max_length}"
        )
    return content
