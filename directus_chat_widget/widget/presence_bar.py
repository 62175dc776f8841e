"""PresenceBar: one line under the list: who is typing, and who is online in the room.

``Ada is typing…`` on the left (announced to screen readers, politely), and
``2 online: Ada, Grace (you)`` on the right, every name in the tooltip. Names
are text, never markup. Hidden while there is no presence to show (logged out,
a server without the presence collection, or presence turned off).
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from ..chat.presence import Presence

__all__ = ["PresenceBar"]

_HERE = Path(__file__).parent


class PresenceBar(anywidget.AnyWidget):
    """Shows a :class:`Presence`.

    Attributes:
        online: the names of those online, the reader's own marked ``(you)``.
        typing: ``Ada is typing…``, or "".
        active: there is presence to show (else the line is hidden).
    """

    _esm = _HERE / "presence_bar.js"
    _css = _HERE / "presence_bar.css"

    online = traitlets.List(traitlets.Unicode()).tag(sync=True)
    typing = traitlets.Unicode("").tag(sync=True)
    active = traitlets.Bool(False).tag(sync=True)

    def show(self, presence: Presence | None) -> None:
        """Show ``presence``; None hides the line."""
        with self.hold_sync():
            if presence is None:
                self.online, self.typing, self.active = [], "", False
                return
            self.online = [
                f"{user.short_name} (you)" if user.own else user.short_name
                for user in presence.online
            ]
            self.typing = presence.typing_text()
            self.active = True
