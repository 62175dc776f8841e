"""The chat's message list as pure data: ordered, de-duplicated, with optimistic sends.

No I/O and no asyncio: rows (plain dicts as Directus sends them) go in, small frozen
:class:`ChatMessage` values come out, and every mutation returns a :class:`StoreChange`
that says exactly what changed, so a UI can render incrementally, not redraw the list.

The list is shown in this order:

1. messages the server stored (``SENT``), ascending by ``id``;
2. then our own messages not confirmed yet (``PENDING``) or refused
   (``FAILED``), in the order they were sent.

A row that arrives several times (an event and a reply, a page overlapping an
event) is shown once. A confirmed send keeps its key (``local:<uuid>``), so a
UI row keyed by ``key`` stays put; other rows get ``id:<id>``.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ._rows import Attachment, Row, author_of, merged, parse_row, parse_timestamp
from .message import UNKNOWN_AUTHOR, ChangeKind, ChatMessage, MessageStatus, Saving, StoreChange

__all__ = [
    "UNKNOWN_AUTHOR",
    "ChangeKind",
    "ChatMessage",
    "MessageStatus",
    "MessageStore",
    "Saving",
    "StoreChange",
    "parse_timestamp",
]

logger = logging.getLogger(__name__)


class MessageStore:
    """The ordered, de-duplicated message list; every mutation returns a StoreChange.

    ``own_id`` (settable) is the logged-in user's id: their messages are ``own``.
    """

    def __init__(self, own_id: str | None = None) -> None:
        self.own_id = own_id
        self._sent: list[ChatMessage] = []  # ascending by id
        self._sent_ids: list[int] = []  # parallel to _sent, for bisect
        self._local: list[ChatMessage] = []  # pending and failed, in send order
        self._by_key: dict[str, ChatMessage] = {}
        self._key_by_id: dict[int, str] = {}
        # The highest id known when a local message was sent: its row's is larger.
        self._floor: dict[str, int] = {}
        # ``messages`` as last built, None after a change: rebuilt when read, never
        # by a mutation, so an append costs the same at any length.
        self._view: tuple[ChatMessage, ...] | None = None
        # The server's version of each message with an edit or delete on its way.
        self._server: dict[str, ChatMessage] = {}

    # -- reading -------------------------------------------------------------

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """Everything shown, in display order (oldest first, then our unconfirmed sends)."""
        if self._view is None:
            self._view = (*self._sent, *self._local)
        return self._view

    def __len__(self) -> int:
        return len(self._sent) + len(self._local)

    def get(self, key: str) -> ChatMessage | None:
        """The message under ``key``, or None."""
        return self._by_key.get(key)

    def by_id(self, message_id: int) -> ChatMessage | None:
        """The message the server stored under ``message_id``, or None."""
        key = self._key_by_id.get(message_id)
        return None if key is None else self._by_key[key]

    @property
    def oldest_id(self) -> int | None:
        """The smallest server id shown: the cursor for the next older page."""
        return self._sent_ids[0] if self._sent_ids else None

    @property
    def newest_id(self) -> int | None:
        """The largest server id shown."""
        return self._sent_ids[-1] if self._sent_ids else None

    # -- mutations -----------------------------------------------------------

    def add_rows(self, rows: Iterable[Any]) -> StoreChange:
        """Merge rows from the server (events, replies, history pages), in any order.

        A row whose id is already shown updates that message (a missing author
        name never replaces a known one); a row that is our own pending or
        failed send (same author, same text, newer than what we knew when
        sending) confirms it; any other row is added at its id position.
        Malformed rows are logged and skipped.
        """
        oldest, newest = self.oldest_id, self.newest_id
        touched: set[str] = set()
        added: set[str] = set()  # keys not shown before this batch
        for raw in rows:
            row = parse_row(raw)
            if row is None:
                continue
            merged = self._merge(row)
            if merged is not None:
                key, is_new = merged
                touched.add(key)
                if is_new:
                    added.add(key)
        placed = sorted((self._index(self._by_key[key]), self._by_key[key]) for key in touched)
        return StoreChange.describe(placed, len(added), oldest, newest)

    def add_pending(
        self,
        content: str,
        author: Mapping[str, Any] | None,
        attachment: Attachment | None = None,
        reply_to: int | None = None,
    ) -> StoreChange:
        """Show our own message at the end, PENDING, before the server has it.

        Args:
            content: the text as it will be sent (with ``attachment``, its file, if any);
                ``reply_to``: the id it answers.
            author: the session's user (``id``, ``first_name``, ``last_name``), if known.

        Returns:
            an ``append`` change whose only message is the new entry (its ``key``
            is what :meth:`confirm`, :meth:`fail` and :meth:`retrying` take).
        """
        who = author_of(author)
        message = ChatMessage(
            key=f"local:{uuid.uuid4()}",
            id=None,
            content=content,
            author_id=who.id,
            author_name=who.name or UNKNOWN_AUTHOR,
            created_at=None,
            status=MessageStatus.PENDING,
            author_first_name=who.first_name,
            own=True,
            attachment=attachment,
            reply_to=reply_to,
        )
        self._view = None
        self._local.append(message)
        self._by_key[message.key] = message
        self._floor[message.key] = self.newest_id or 0
        return StoreChange("append", (message,), (len(self) - 1,))

    def confirm(self, key: str, row: Any) -> StoreChange:
        """The server stored our send ``key`` as ``row`` (the reply to the create).

        The entry becomes SENT at its id position and keeps its key. If that id
        is already shown under another key (its event arrived first and could
        not be matched to this send), the local entry is removed instead. If
        the entry was already confirmed (by its event), this only merges.
        A malformed ``row`` is logged and changes nothing.
        """
        parsed = parse_row(row)
        if parsed is None:
            return StoreChange("update")
        message = self._by_key.get(key)
        if message is None or message.status is MessageStatus.SENT:
            # Already confirmed (maybe under another id, when two identical
            # sends crossed): the reply is then just one more row.
            return self.add_rows([row])
        if parsed.id in self._key_by_id:
            # Shown already (its event came first, without an author to match
            # it by). The shown copy stays as it is, so this change is only
            # the removal of the duplicate.
            index = self._index(message)
            self._drop_local(message)
            return StoreChange("remove", (message,), (index,))
        self._promote(message, parsed)
        confirmed = self._by_key[key]
        return StoreChange("update", (confirmed,), (self._index(confirmed),))

    def fail(self, key: str, error: str) -> StoreChange:
        """Mark our send ``key`` FAILED with ``error``; a confirmed one stays SENT.

        The reply may fail (a timeout) after the event already confirmed the
        message: the server has it, so it is not shown as failed.

        Raises:
            KeyError: no message under ``key``.
        """
        message = self._by_key[key]
        if message.status is MessageStatus.SENT:
            logger.debug("send %s failed after it was confirmed: %s", key, error)
            return StoreChange("update")
        return self._replace_local(message, status=MessageStatus.FAILED, error=error)

    def retrying(self, key: str) -> StoreChange:
        """A FAILED send is being sent again: PENDING, error cleared, same place.

        Raises:
            KeyError: no message under ``key``.
            ValueError: the message is not FAILED.
        """
        message = self._by_key[key]
        if message.status is not MessageStatus.FAILED:
            status = message.status.value
            raise ValueError(f"only a failed message can be retried; {key} is {status}")
        return self._replace_local(message, status=MessageStatus.PENDING, error=None)

    def start_saving(self, key: str, what: Saving, content: str | None = None) -> StoreChange:
        """Show an edit (to ``content``, at once) or a delete of SENT ``key`` on its way.

        Raises:
            KeyError: no message under ``key``.
            ValueError: the message is not SENT, or a change to it is on its way already.
        """
        message = self._by_key[key]
        if message.status is not MessageStatus.SENT:
            status = message.status.value
            raise ValueError(f"only a sent message can be changed; this one is {status}")
        if message.saving is not None:
            raise ValueError(f"this message's {message.saving} is still on its way")
        self._server[key] = message
        text = message.content if content is None else content
        return self._replace_sent(message, replace(message, saving=what, content=text))

    def end_saving(self, key: str, row: Any = None) -> StoreChange:
        """The change on its way for ``key`` is over: show the server's version again.

        ``row`` is the stored row a successful edit answered with; without it
        (a failure) the message shows as the server last had it.
        """
        server = self._server.pop(key, None)
        message = self._by_key.get(key)
        if server is None or message is None:  # deleted meanwhile, or nothing on its way
            return StoreChange("update")
        parsed = parse_row(row) if row is not None else None
        if parsed is not None and parsed.id == server.id:
            server = merged(server, parsed, self.own_id)
        return self._replace_sent(message, server)

    def remove(self, key: str) -> StoreChange:
        """Stop showing the message under ``key`` (e.g. a failed send given up).

        Raises:
            KeyError: no message under ``key``.
        """
        message = self._by_key[key]
        self._server.pop(key, None)
        index = self._index(message)
        if message.status is MessageStatus.SENT:
            assert message.id is not None  # every SENT message has one
            self._view = None
            del self._sent[index]
            del self._sent_ids[index]
            del self._key_by_id[message.id]
            del self._by_key[key]
        else:
            self._drop_local(message)
        return StoreChange("remove", (message,), (index,))

    def remove_ids(self, ids: Iterable[Any]) -> StoreChange:
        """The server deleted these rows: stop showing them (ids not shown are ignored).

        Returns:
            a ``remove`` change, its ``indices`` where the messages were before.
        """
        gone = sorted(
            (self._index(self._by_key[key]), self._by_key[key])
            for key in {self._key_by_id[i] for i in ids if i in self._key_by_id}
        )
        for _, message in reversed(gone):
            self.remove(message.key)
        return StoreChange(
            "remove", tuple(message for _, message in gone), tuple(index for index, _ in gone)
        )

    @property
    def ids(self) -> list[int]:
        """The server ids shown, ascending."""
        return list(self._sent_ids)

    def reset(self, rows: Iterable[Any] = ()) -> StoreChange:
        """Replace every SENT message with ``rows``; our unconfirmed sends stay.

        Returns:
            a ``reset`` change carrying the whole list.
        """
        self._view = None
        self._sent.clear()
        self._sent_ids.clear()
        self._key_by_id.clear()
        self._server.clear()
        self._by_key = {message.key: message for message in self._local}
        for raw in rows:
            row = parse_row(raw)
            if row is not None:
                self._merge(row)
        return StoreChange("reset", self.messages)

    def _index(self, message: ChatMessage) -> int:
        if message.status is MessageStatus.SENT:
            assert message.id is not None
            return bisect.bisect_left(self._sent_ids, message.id)
        return len(self._sent) + self._local.index(message)

    def _merge(self, row: Row) -> tuple[str, bool] | None:
        """Put one valid row in place.

        Returns:
            the key it touched and whether that key is new to the list, or
            None if nothing changed.
        """
        key = self._key_by_id.get(row.id)
        if key is not None:
            old = self._by_key[key]
            server = self._server.get(key)
            if server is None:
                new = merged(old, row, self.own_id)
            else:  # a change is on its way: keep showing it over the server's news
                server = self._server[key] = merged(server, row, self.own_id)
                new = replace(server, content=old.content, saving=old.saving)
            if new == old:
                return None
            self._replace_sent(old, new)
            return key, False
        mine = self._own_send(row)
        if mine is not None:
            self._promote(mine, row)
            return mine.key, False
        message = merged(
            ChatMessage(f"id:{row.id}", row.id, row.content, None, UNKNOWN_AUTHOR, None),
            row,
            self.own_id,
        )
        self._insert_sent(message)
        return message.key, True

    def _own_send(self, row: Row) -> ChatMessage | None:
        """The local send ``row`` is the server's copy of, preferring pending over failed."""
        if row.author.id is None:
            return None  # without a readable author a stranger's identical text could match
        candidates = [
            message
            for message in self._local
            if message.author_id == row.author.id
            and message.content == row.content
            and row.id > self._floor[message.key]
        ]
        for message in candidates:
            if message.status is MessageStatus.PENDING:
                return message
        return candidates[0] if candidates else None

    def _promote(self, message: ChatMessage, row: Row) -> None:
        """Turn a local entry into the SENT message ``row``, at its id position."""
        self._drop_local(message)
        confirmed = merged(
            replace(message, id=row.id, status=MessageStatus.SENT, error=None), row, self.own_id
        )
        self._insert_sent(confirmed)

    def _insert_sent(self, message: ChatMessage) -> None:
        assert message.id is not None
        index = bisect.bisect_left(self._sent_ids, message.id)
        self._view = None
        # At the end (the common case: a new message) this is an O(1) append.
        self._sent.insert(index, message)
        self._sent_ids.insert(index, message.id)
        self._by_key[message.key] = message
        self._key_by_id[message.id] = message.key

    def _drop_local(self, message: ChatMessage) -> None:
        self._view = None
        self._local.remove(message)
        del self._by_key[message.key]
        self._floor.pop(message.key, None)

    def _replace_sent(self, old: ChatMessage, new: ChatMessage) -> StoreChange:
        index = self._index(old)
        self._view = None
        self._sent[index] = new
        self._by_key[new.key] = new
        return StoreChange("update", (new,), (index,))

    def _replace_local(self, message: ChatMessage, **fields: Any) -> StoreChange:
        index = self._local.index(message)
        new = replace(message, **fields)
        self._view = None
        self._local[index] = new
        self._by_key[new.key] = new
        return StoreChange("update", (new,), (len(self._sent) + index,))
