"""ChatWidget's API for edits, deletes, reactions and replies, kept out of ``chat_widget.py``.

A mixin: the methods are ChatWidget's own (``chat.react(...)``), and the work
is done by the flows ``_assembly.py`` makes (``_editing.py``, ``_reactions.py``,
``_replies.py``).
Every coroutine runs on the widget's owner loop, so clicks and cells mix.
"""

from __future__ import annotations

from collections.abc import Callable

from ..chat.reactions import Reaction
from ..chat.replies import Quote
from ..chat.store import ChatMessage
from ._editing import Editing
from ._news import MessageCallback, MessageNews
from ._owner import OwnerLoop, on_owner_loop
from ._reactions import ReactionCallback, Reactions
from ._replies import Replies
from ._room_feed import RoomFeed

__all__ = ["GroupApi"]


class GroupApi:
    """Edits, deletes, reactions and replies in the open room (a message: its key or itself)."""

    _owner: OwnerLoop
    _editing: Editing
    _feed: RoomFeed
    _reactions: Reactions
    _replies: Replies
    _news: MessageNews

    def reactions(self, message: str | ChatMessage) -> tuple[Reaction, ...]:
        """The reactions on ``message``: each emoji once, with its count and who."""
        return self._reactions.of(message)

    @on_owner_loop
    async def react(self, message: str | ChatMessage, emoji: str) -> tuple[Reaction, ...]:
        """Add your ``emoji`` to ``message`` (again: no change); returns its reactions.

        Raises:
            ValueError: ``emoji`` is not exactly one emoji (nothing is sent); the
                message is not sent yet.
            KeyError: no such message.  RuntimeError: not logged in, or no
                reactions on this server.
            Forbidden, DirectusError: the server refused (nothing changes).
        """
        result: tuple[Reaction, ...] = await self._reactions.change("add", message, emoji)
        return result

    @on_owner_loop
    async def unreact(self, message: str | ChatMessage, emoji: str) -> tuple[Reaction, ...]:
        """Take back your ``emoji`` on ``message`` (not there: no change); its reactions.

        Raises:
            ValueError, KeyError, RuntimeError, Forbidden, DirectusError: as :meth:`react`.
        """
        result: tuple[Reaction, ...] = await self._reactions.change("remove", message, emoji)
        return result

    @on_owner_loop
    async def toggle_reaction(self, message: str | ChatMessage, emoji: str) -> tuple[Reaction, ...]:
        """:meth:`unreact` if ``emoji`` is yours on ``message``, else :meth:`react`.

        Raises:
            ValueError, KeyError, RuntimeError, Forbidden, DirectusError: as :meth:`react`.
        """
        result: tuple[Reaction, ...] = await self._reactions.change("toggle", message, emoji)
        return result

    def on_reaction(self, callback: ReactionCallback) -> Callable[[], None]:
        """Call ``callback(message, reactions)`` each time reactions on a message change.

        Anyone's, yours too, live or read back after a reconnect gap; the
        first reading of a page counts too. Returns a function that removes it.
        """
        return self._reactions.on_reaction(callback)

    def quote(self, message: str | ChatMessage) -> Quote | None:
        """What ``message`` shows of the message it replies to (None: not a reply)."""
        return self._replies.quote(message)

    def on_reply(
        self, callback: MessageCallback, *, include_own: bool = False
    ) -> Callable[[], None]:
        """As :meth:`ChatWidget.on_message`, for new messages that reply to another.

        ``chat.quote(message)`` says which, and what it said.
        """

        def replies_only(message: ChatMessage) -> None:
            if message.reply_to is not None:
                callback(message)

        return self._news.add(replies_only, include_own=include_own)

    @on_owner_loop
    async def edit_message(self, message: str | ChatMessage, text: str) -> ChatMessage:
        """Change the text of your own message (a key or a ChatMessage); returns it, edited.

        The new text shows at once ("Saving…"), then "edited" in every view.

        Raises:
            ValueError: blank or too long text; the message is not sent yet.
            Forbidden: someone else's message (refused here, and by the server).
            KeyError: no such message.  RuntimeError: not logged in.
            DirectusError: the server did not store it (the message stays as it was).
        """
        return await self._editing.edit(message, text)

    @on_owner_loop
    async def delete_message(self, message: str | ChatMessage) -> None:
        """Delete your own message (a key or a ChatMessage): it leaves every view.

        Raises:
            ValueError, Forbidden, KeyError, RuntimeError, DirectusError: as :meth:`edit_message`.
        """
        await self._editing.delete(message)

    def on_edit(
        self, callback: MessageCallback, *, include_own: bool = False
    ) -> Callable[[], None]:
        """Call ``callback(message)`` for each edit the server stores while the chat is open.

        Anyone's edit, live or read back after a reconnect; your own only with
        ``include_own=True``. Returns a function that removes the callback.
        """
        return self._feed.changes.edits.add(callback, include_own=include_own)

    def on_delete(
        self, callback: MessageCallback, *, include_own: bool = False
    ) -> Callable[[], None]:
        """Call ``callback(message)`` (as last shown) for each message deleted while open.

        As :meth:`on_edit`: anyone's, your own only with ``include_own=True``.
        """
        return self._feed.changes.deletes.add(callback, include_own=include_own)
