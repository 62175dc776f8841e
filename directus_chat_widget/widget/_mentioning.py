"""@mentions in the widget: the names the composer completes, highlights, and the sender's warning.

After login the chat's members are read once (see :mod:`..chat.members`); their
names, and nothing else of them, go to the composer (``MessageForm.people``)
for its autocompletion. Each message row carries the mentions found in its
text (``"mentions": [{"name", "me"}]``, see :mod:`..chat.mentions`) for the
list's mentions part to highlight. A text that names no member after an ``@``
is sent all the same, as plain text, and the notice says so.
"""

from __future__ import annotations

import logging
from typing import Any

from ..chat.members import load_members
from ..chat.mentions import Directory, Found
from ..chat.store import ChatMessage
from ..errors import DirectusError
from ._login import LoginFlow
from ._notice import Notice
from .message_form import MessageForm
from .message_list import MessageList

__all__ = ["Mentioning", "unknown_text"]

logger = logging.getLogger(__name__)


def unknown_text(found: Found) -> str | None:
    """What the sender is told about ``found``'s unknown or shared names (None: nothing)."""
    said = []
    if found.unknown:
        names = ", ".join(f"“{name}”" for name in found.unknown)
        said.append(f"nobody in this chat is called {names}")
    if found.ambiguous:
        names = ", ".join(f"“{name}”" for name in found.ambiguous)
        said.append(f"{names} is more than one person here (write the full name)")
    if not said:
        return None
    return f"Sent as plain text, and no one was notified: {'; '.join(said)}."


class Mentioning:
    """The members mentions are matched against, and what the widget does with mentions.

    Args:
        login: the session and room (for the members and the room's text checks).
        notice: where the sender is told about a name that matches no member.
        form: the composer; its ``people`` are the names it completes.
        message_list: its rows get their mentions.
    """

    def __init__(
        self, login: LoginFlow, notice: Notice, form: MessageForm, message_list: MessageList
    ) -> None:
        self._login = login
        self._notice = notice
        self._form = form
        self._list = message_list
        self.directory = Directory()
        message_list.add_row_fields(self._wire)
        form.on_submit(self._on_submit)

    async def start(self) -> None:
        """Read the chat's members; the composer and the list follow. A refusal is logged."""
        session = self._login.session
        if session is None:
            return
        try:
            members = await load_members(session)
        except DirectusError as exc:
            logger.info("the chat's members could not be read; no mentions: %s", exc)
            return
        self.directory = Directory(members)
        own = self._own_id
        self._form.people = [m.name for m in members if m.id != own]
        room = self._login.room
        if room is not None and any("@" in message.content for message in room.messages):
            self._list.redraw()  # rows drawn before the members were known

    def stop(self) -> None:
        """Logged out: nobody to mention."""
        self.directory = Directory()
        self._form.people = []

    def check(self, text: str) -> Found:
        """Find the mentions in ``text`` about to be sent; say so if a name matches no member.

        Text the room would refuse (blank, too long) is left to the send to refuse.
        """
        room = self._login.room
        try:
            content = room.check_text(text) if room is not None else text.strip()
        except ValueError:
            return Found()
        found = self.directory.find(content)
        said = unknown_text(found) if self.directory.members else None
        if said is not None:
            self._notice.show(said)
        return found

    def _on_submit(self, text: str) -> None:
        self.check(text)

    def mentions_me(self, text: str) -> bool:
        """True when ``text`` mentions the logged-in user."""
        return self.directory.find(text).of(self._own_id)

    @property
    def _own_id(self) -> str | None:
        session = self._login.session
        user_id = (session.user or {}).get("id") if session is not None else None
        return user_id if isinstance(user_id, str) else None

    def _wire(self, message: ChatMessage) -> dict[str, Any]:
        found = self.directory.find(message.content)
        if not found.mentions:
            return {}  # no field at all: a message without mentions costs no byte more
        own = self._own_id
        mentions = [
            {"name": m.name, "me": m.of(own)}
            for m in {mention.name: mention for mention in found.mentions}.values()
        ]
        return {"mentions": mentions}
