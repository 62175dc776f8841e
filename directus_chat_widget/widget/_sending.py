"""The send path: the composer, ``send_message()``, and Retry/Discard on a failed send.

A send shows at once as pending in the list (the room's optimistic entry) and
goes out whether or not anyone awaits it; a send that fails stays in the list,
FAILED, with Retry and Discard.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable

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
    """

    def __init__(
        self,
        login: LoginFlow,
        owner: OwnerLoop,
        tasks: TaskKeeper,
        notice: Notice,
        message_form: MessageForm,
        message_list: MessageList,
    ) -> None:
        self._login = login
        self._owner = owner
        self._tasks = tasks
        self._notice = notice
        message_form.on_submit(self._on_text_submit)
        message_list.on_retry(self._on_retry)
        message_list.on_discard(self._on_discard)

    def send(self, text: str) -> Awaitable[ChatMessage] | concurrent.futures.Future[ChatMessage]:
        """Start sending ``text`` on the owner: see :meth:`ChatWidget.send_message`.

        Raises:
            ValueError: the text is blank, or longer than the limit.
            RuntimeError: not logged in.
        """
        room = self._login.require_room()
        room.check_text(text)
        return self._owner.start(self._send_kept(room, text))

    async def _send_kept(self, room: ChatRoom, text: str) -> ChatMessage:
        # Held by the TaskKeeper, whichever thread started it: the loop keeps
        # only a weak reference, and a caller that forgot to await dropped the
        # other one; settle(), logout() and aclose() see it too.
        current = asyncio.current_task()
        if current is not None:
            self._tasks.keep(current, "sending")
        return await room.send(text)

    async def retry(self, key: str) -> ChatMessage:
        """Send the FAILED message ``key`` again: see :meth:`ChatWidget.retry`."""
        return await self._login.require_room().retry(key)

    # -- the composer and the list's buttons (synchronous: they start tasks) --------------

    def _on_text_submit(self, text: str) -> None:
        self._tasks.spawn(self._send_from_form(text), "sending")

    async def _send_from_form(self, text: str) -> None:
        try:
            await self._login.require_room().send(text)
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
