"""Editing and deleting the user's own messages, for ChatRoom.edit/delete.

Whose message it is gets checked here before any request, and again by the
server (the chat-user policy lets a user update only ``content`` of their own
messages and delete only their own). While a change is on its way the store
shows it (``saving``); whatever ends it, the store is settled, so a refused or
failed change leaves the message as the server has it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from ..errors import Forbidden
from ._ports import SessionLike
from .message import ChatMessage, MessageStatus, StoreChange
from .store import MessageStore

__all__ = ["OwnChanges"]

logger = logging.getLogger(__name__)


class OwnChanges:
    """The edits and deletes of one room: checks, the request, and settling the store."""

    def __init__(
        self,
        session: SessionLike,
        collection: str,
        store: MessageStore,
        emit: Callable[[StoreChange], None],
    ) -> None:
        self._session = session
        self._collection = collection
        self._store = store
        self._emit = emit

    def check(self, key: str, action: Literal["edit", "delete"]) -> ChatMessage:
        """The message ``key``, if the user may ``action`` it now.

        Raises:
            KeyError: no message under ``key``.
            ValueError: it is not SENT yet (or failed), or a change to it is on its way.
            Forbidden: someone else wrote it.
        """
        message = self._store.get(key)
        if message is None:
            raise KeyError(key)
        if message.status is not MessageStatus.SENT or message.id is None:
            status = message.status.value
            raise ValueError(f"only a sent message can be changed; this one is {status}")
        if not message.own:
            raise Forbidden(
                f"you can {action} only your own messages; this one is {message.author_name}'s"
            )
        if message.saving is not None:
            raise ValueError(f"this message's {message.saving} is still on its way")
        return message

    async def edit(self, key: str, content: str) -> ChatMessage:
        """Store ``content`` (already checked) as the new text of ``key``."""
        message = self.check(key, "edit")
        if content == message.content:
            return message  # nothing to change: no request
        assert message.id is not None
        self._emit(self._store.start_saving(key, "edit", content))
        try:
            row = await self._session.update(
                message.id, {"content": content}, collection=self._collection
            )
        except BaseException as exc:
            self._failed(key, exc, "edit", message)
            raise
        self._emit(self._store.end_saving(key, row))
        return self._store.get(key) or message  # gone only if deleted meanwhile

    async def delete(self, key: str) -> None:
        """Delete ``key`` on the server, then stop showing it."""
        message = self.check(key, "delete")
        assert message.id is not None
        self._emit(self._store.start_saving(key, "delete"))
        try:
            await self._session.delete(message.id, collection=self._collection)
        except BaseException as exc:
            self._failed(key, exc, "delete", message)
            raise
        # Its delete event may have removed it already: then this changes nothing.
        self._emit(self._store.remove_ids([message.id]))

    def _failed(self, key: str, exc: BaseException, action: str, message: ChatMessage) -> None:
        """Show ``key`` as the server has it; a refusal is raised saying what was refused.

        Raises:
            Forbidden: the server refused (from ``exc``); else the caller re-raises ``exc``.
        """
        self._emit(self._store.end_saving(key))
        logger.info("%s of message %s failed: %r", action, message.id, exc)
        if isinstance(exc, Forbidden):
            raise Forbidden(
                f"the server refused to {action} message {message.id} "
                f"(only your own messages can be changed): {exc}",
                code=exc.code,
            ) from exc
