"""ChatWidget's API for reactions and replies, kept out of ``chat_widget.py``.

A mixin: the methods are ChatWidget's own (``chat.react(...)``), and the work
is done by the flows ``_assembly.py`` makes (``_reactions.py``, ``_replies.py``).
Every coroutine runs on the widget's owner loop, so clicks and cells mix.
"""

from __future__ import annotations

from collections.abc import Callable

from ..chat.reactions import Reaction
from ..chat.replies import Quote
from ..chat.store import ChatMessage
from ._news import MessageCallback, MessageNews
from ._owner import OwnerLoop, on_owner_loop
from ._reactions import ReactionCallback, Reactions
from ._replies import Replies

__all__ = ["GroupApi"]


class GroupApi:
    """Reactions and replies on the open room's messages (a message: its key or itself)."""

    _owner: OwnerLoop
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
