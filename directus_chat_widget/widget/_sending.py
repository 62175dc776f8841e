"""The send path: the composer, ``send_message()``, and Retry/Discard on a failed send.

A send shows at once as pending in the list (the room's optimistic entry) and
goes out whether or not anyone awaits it; a send that fails stays in the list,
FAILED, with Retry and Discard.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable

from ..chat.room import ChatRoom
from ..chat.store import ChatMessage
from ._login import LoginFlow
from ._notice import Notice
from ._owner import OwnerLoop
from ._tasks import TaskKeeper
from .message_form import MessageForm
from .message_list import MessageList

__all__ = ["Sending"]


class Sending:
    """Sends what the reader types or the caller passes, into the room the login opened.

    Args:
        login: where the open room comes from.
        owner: the widget's owner loop (every send runs there).
        tasks: keeps the sends.
        notice: the line under the chat.
        message_form, message_list: the composer, and the list with Retry and Discard.
        reply_target: the message the composer's next send answers (taken, so
            cleared, by that send), if any.
    """

    def __init__(
        self,
        login: LoginFlow,
        owner: OwnerLoop,
        tasks: TaskKeeper,
        notice: Notice,
        message_form: MessageForm,
        message_list: MessageList,
        reply_target: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._login = login
        self._reply_target = reply_target
        self._owner = owner
        self._tasks = tasks
        self._notice = notice
        message_form.on_submit(self._on_text_submit)
        message_list.on_retry(self._on_retry)
        message_list.on_discard(self._on_discard)

    def send(
        self, text: str, reply_to: str | None = None
    ) -> Awaitable[ChatMessage] | concurrent.futures.Future[ChatMessage]:
        """Start sending ``text`` on the owner: see :meth:`ChatWidget.send_message`.

        Raises:
            ValueError: the text is blank, or longer than the limit; ``reply_to``
                is not sent yet.
            KeyError: no message ``reply_to``.  RuntimeError: not logged in.
        """
        room = self._login.require_room()
        room.check_text(text)
        parent = room.get(reply_to) if reply_to is not None else None
        if reply_to is not None and parent is None:
            raise KeyError(reply_to)
        if parent is not None and parent.id is None:
            raise ValueError("only a sent message can be replied to")
        return self._owner.start(self._send_kept(room, text, reply_to))

    async def _send_kept(self, room: ChatRoom, text: str, reply_to: str | None) -> ChatMessage:
        # Held by the TaskKeeper, whichever thread started it: the loop keeps
        # only a weak reference, and a caller that forgot to await dropped the
        # other one; settle(), logout() and aclose() see it too.
        current = asyncio.current_task()
        if current is not None:
            self._tasks.keep(current, "sending")
        return await room.send(text, reply_to=reply_to)

    async def retry(self, key: str) -> ChatMessage:
        """Send the FAILED message ``key`` again: see :meth:`ChatWidget.retry`."""
        return await self._login.require_room().retry(key)

    # -- the composer and the list's buttons (synchronous: they start tasks) --------------

    def _on_text_submit(self, text: str) -> None:
        self._tasks.spawn(self._send_from_form(text), "sending")

    async def _send_from_form(self, text: str) -> None:
        room, reply_to = self._login.require_room(), self._reply_target()
        if reply_to is not None and room.get(reply_to) is None:
            # Deleted since "Reply" was clicked: the text goes all the same.
            self._notice.show("The message you replied to is gone; sent as a plain message")
            reply_to = None
        try:
            await room.send(text, reply_to=reply_to)
        except ValueError as exc:  # too long: say so, the text is not lost from the log
            self._notice.show(str(exc))

    def _on_retry(self, key: str) -> None:
        room = self._login.room
        if room is not None:
            self._tasks.spawn(room.retry(key), "sending again")

    def _on_discard(self, key: str) -> None:
        room = self._login.room
        if room is None:
            return
        try:
            room.discard(key)
        except (KeyError, ValueError) as exc:
            self._notice.show(f"Could not discard that message: {exc}")
