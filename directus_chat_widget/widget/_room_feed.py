"""What each change of the room does in the widget: the list, then the callbacks.

A :class:`StoreChange` goes to the message list (one delta to the browser),
and what it brings is told to ``on_message`` (``_news.py``) and to
``on_edit``/``on_delete`` (``_changes.py``). Both look at the list as it was
before the change, so they look first and tell after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..chat.store import ChatMessage, StoreChange
from ._changes import ChangeNews
from ._news import MessageNews
from .message_list import MessageList

__all__ = ["RoomFeed"]


class RoomFeed:
    """Feeds one widget's message list and its message callbacks from the open room.

    Args:
        message_list: the list the changes go to.
        report: shows a callback's failure to the reader (it is logged too).

    Attributes:
        news: the ``on_message`` callbacks.
        changes: the ``on_edit`` and ``on_delete`` callbacks.
    """

    def __init__(self, message_list: MessageList, report: Callable[[str], None]) -> None:
        self._list = message_list
        self.news = MessageNews(report)
        self.changes = ChangeNews(report)

    def start(self, shown: Iterable[ChatMessage]) -> None:
        """The room is open showing ``shown``: from now on, newer messages are news."""
        self.news.start(shown)

    def stop(self) -> None:
        """The room is gone: nothing is news until the next :meth:`start`."""
        self.news.stop()

    def apply(self, change: StoreChange, *, has_older: bool | None) -> None:
        """Show ``change`` in the list, then tell the callbacks what it brought."""
        shown = self._list
        # Looked up before apply(): news is what was not SENT until this change.
        news = self.news.find(change, shown.get)
        changed = self.changes.find(change, shown.get)
        shown.apply(change, has_older=has_older)
        self.news.tell(news, shown.own_id)
        self.changes.tell(changed, shown.own_id)
