"""RoomBar: which room is shown, and a way to open another or create one.

One text box with the rooms as suggestions (a native ``<input list>``: the
browser filters the list as one types, and keyboards and screen readers know
it), an Open button and a New room button. A thousand rooms stay usable: the
list is filtered by what is typed, never shown whole.

As :class:`MessageForm`, the name travels inside the custom message that says
"open" or "create", so the kernel never sees a click before the last keystroke.

Unread (see ``_unread.py``): the other rooms with unread messages show as
buttons that open them, each with its count and its unread mentions of the
reader, most urgent first, and a badge counts the unread mentions. A mention
of the reader arrives as ``{"type": "mention", "key", "room", "author", "text",
"current"}`` and becomes a browser notification where the page has the
permission: the bar never asks for it unprompted, only when the reader
clicks its "Notify me of mentions".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .._callbacks import CallbackList

__all__ = ["RoomBar"]

_HERE = Path(__file__).parent

RoomCallback = Callable[[str], None]


class RoomBar(anywidget.AnyWidget):
    """The room switcher; calls ``on_open`` or ``on_create`` callbacks with a typed name.

    Attributes:
        rooms: every room's name, for the suggestions.
        current: the room shown.
        busy: a switch is running (the buttons wait).
        error: what went wrong with the last switch or create ("" for nothing).
        unread: unread messages by room name (rooms with none left out).
        mentions: unread messages that mention the reader, by room name.
    """

    _esm = _HERE / "room_bar.js"
    _css = _HERE / "room_bar.css"

    rooms = traitlets.List(traitlets.Unicode()).tag(sync=True)
    current = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    unread = traitlets.Dict(value_trait=traitlets.Int(), key_trait=traitlets.Unicode()).tag(
        sync=True
    )
    mentions = traitlets.Dict(value_trait=traitlets.Int(), key_trait=traitlets.Unicode()).tag(
        sync=True
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._open: CallbackList[[str]] = CallbackList("a room bar open callback")
        self._create: CallbackList[[str]] = CallbackList("a room bar create callback")
        self.on_msg(self._on_frontend_msg)

    def on_open(self, callback: RoomCallback) -> Callable[[], None]:
        """Call ``callback(name)`` when the reader asks to open the room ``name``."""
        return self._open.add(callback)

    def on_create(self, callback: RoomCallback) -> Callable[[], None]:
        """Call ``callback(name)`` when the reader asks to create the room ``name``."""
        return self._create.add(callback)

    def ask(self, kind: str, name: str) -> None:
        """Do what the browser's ``kind`` ("open" or "create") button does, with ``name``."""
        callbacks = {"open": self._open, "create": self._create}.get(kind)
        if callbacks is not None and not self.busy:
            callbacks(name)

    def notify(self, key: str, room: str, author: str, text: str, current: bool) -> None:
        """Tell the views of a new mention of the reader (``current``: in the room shown)."""
        short = text if len(text) <= 200 else text[:199] + "…"
        self.send(
            {
                "type": "mention",
                "key": key,
                "room": room,
                "author": author,
                "text": short,
                "current": current,
            }
        )

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return  # anywidget's own messages share this channel
        name = content.get("name")
        if isinstance(name, str) and isinstance(content.get("type"), str):
            self.ask(content["type"], name)
