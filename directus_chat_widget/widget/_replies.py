"""The replies row part in Python: each reply's quote, the reply target, the list's clicks.

A reply goes to the browser with ``"reply": {key, author, text, gone,
loading}``, the quote of its parent; other messages carry no such field. A
quote that changes (its parent edited, deleted, or read from the server) goes
as ``{"type": "quotes", "rows": [{key, reply}]}`` for those replies alone.

"Reply" in the list (``{"type": "reply_to", key}``) makes that message the
target of the next message the composer sends; every view shows it under the
list (``{"type": "replying", reply}``) until it is sent or cancelled
(``{"type": "reply_cancel"}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..chat.replies import Quote
from ..chat.room import ChatRoom
from ..chat.store import ChatMessage, MessageStatus
from ._login import LoginFlow
from .message_list import MessageList

__all__ = ["Replies", "wire_quote"]


def wire_quote(quote: Quote) -> dict[str, Any]:
    """A quote as it goes to the browser."""
    return {
        "key": quote.key,
        "author": quote.author,
        "text": quote.text,
        "gone": quote.gone,
        "loading": quote.loading,
    }


class Replies:
    """Shows the open room's quotes in the list, and holds the composer's reply target.

    Args:
        login: where the open room comes from (and goes).
        message_list: the list the quotes are shown in, whose Reply buttons come here.
    """

    def __init__(self, login: LoginFlow, message_list: MessageList) -> None:
        self._login = login
        self._list = message_list
        self._target: str | None = None
        message_list.add_row_fields(self._fields)
        message_list.handle("reply_to", self._on_reply_to)
        message_list.handle("reply_cancel", lambda _content, _buffers: self.target(None))
        login.room_watchers.append(self._watch)

    def quote(self, message: str | ChatMessage) -> Quote | None:
        """What ``message`` shows of the message it answers; None if not a reply."""
        room = self._login.room
        found = room.get(message) if isinstance(message, str) and room else message
        if room is None or not isinstance(found, ChatMessage):
            return None
        return room.replies.quote(found)

    @property
    def target_key(self) -> str | None:
        """The message the composer's next message answers, if any."""
        return self._target

    def target(self, key: str | None) -> None:
        """Make ``key`` (a SENT message shown) the reply target; None cancels it.

        Raises:
            KeyError: no such message.  ValueError: it is not sent yet.
        """
        quote = None
        if key is not None:
            room = self._login.require_room()
            message = room.get(key)
            if message is None:
                raise KeyError(key)
            if message.status is not MessageStatus.SENT or message.id is None:
                raise ValueError("only a sent message can be replied to")
            quote = room.replies.quote_of(message.id)
        self._target = key
        reply = wire_quote(quote) if quote is not None else None
        self._list.send({"type": "replying", "reply": reply})

    def take(self) -> str | None:
        """The target for a message being sent now; the composer's target is then cleared."""
        key = self._target
        if key is not None:
            self.target(None)
        return key

    # -- the list -----------------------------------------------------------------------

    def _fields(self, message: ChatMessage) -> dict[str, Any]:
        room = self._login.room
        quote = room.replies.quote(message) if room is not None else None
        return {"reply": wire_quote(quote)} if quote is not None else {}

    def _watch(self, room: ChatRoom) -> Callable[[], None]:
        self._target = None  # another room: the target was in the old one
        return room.replies.on_change(lambda keys: self._changed(room, keys))

    def _changed(self, room: ChatRoom, keys: tuple[str, ...]) -> None:
        rows = []
        for key in keys:
            message = room.get(key)
            quote = room.replies.quote(message) if message is not None else None
            if quote is not None and self._list.get(key) is not None:
                rows.append({"key": key, "reply": wire_quote(quote)})
        if rows:
            self._list.send({"type": "quotes", "rows": rows})

    def _on_reply_to(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        key = content.get("key")
        if isinstance(key, str) and self._login.room is not None:
            try:
                self.target(key)
            except (KeyError, ValueError):
                self.target(None)
