"""MessageForm: the composer. A growing text area and a Send button.

Enter sends, Shift+Enter adds a line, blank text is ignored, and text over
``max_length`` is refused with a message in the browser (never cut). While
the reader types, the browser says so at most once a second, and once when
the box is emptied (``on_typing``): what is written to the server is
throttled again in the kernel (see ``chat/_typing.py``).

A small anywidget rather than ``ipywidgets.Text`` + ``Button``: the browser
puts the text in the custom message that says "send", so the kernel can never
see the click before the last keystrokes (ipywidgets holds back state updates
while one is in flight, but sends custom messages at once).

Typing ``@`` offers the chat's members by name (``people``, set by
``_mentioning.py``): the autocompletion is a part of its own,
``message_form.mentions.js``, appended to the module as the list's row parts are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from .._callbacks import CallbackList
from ._sources import module_css, module_source

__all__ = ["MessageForm"]


SubmitCallback = Callable[[str], None]
TypingCallback = Callable[[bool], None]


class MessageForm(anywidget.AnyWidget):
    """Where the reader types; calls ``on_submit`` callbacks with non-blank text.

    Attributes:
        disabled: no typing or sending (nobody is logged in). Stays False while
            the session reconnects: sends are held, and the reader keeps the focus.
        placeholder: the hint shown in the empty text box.
        max_length: the longest text the box accepts, in characters.
        people: the names typing ``@`` offers (the chat's members, the reader left out).
    """

    # The composer and its parts (message_form.*.js: the mentions' autocompletion).
    _esm = module_source("message_form")
    _css = module_css("message_form")

    disabled = traitlets.Bool(True).tag(sync=True)
    placeholder = traitlets.Unicode("Write a message…").tag(sync=True)
    max_length = traitlets.Int(5_000).tag(sync=True)
    people = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._callbacks: CallbackList[[str]] = CallbackList("a message form callback")
        self._typing: CallbackList[[bool]] = CallbackList("a message form typing callback")
        self.on_msg(self._on_frontend_msg)

    def on_submit(self, callback: SubmitCallback) -> Callable[[], None]:
        """Call ``callback(text)`` for every non-blank submission.

        Returns:
            a function that removes the callback.
        """
        return self._callbacks.add(callback)

    def on_typing(self, callback: TypingCallback) -> Callable[[], None]:
        """Call ``callback(True)`` while the reader types, ``callback(False)`` once it empties."""
        return self._typing.add(callback)

    def report_typing(self, active: bool = True) -> None:
        """Say the reader is typing (or stopped), as keys in the browser's box do.

        A bot can show "… is typing" while it works; the presence it reaches
        throttles the writes. Ignored while the form is disabled.
        """
        if not self.disabled:
            self._typing(active)

    def submit(self, text: str) -> bool:
        """Submit ``text`` as if typed and sent in the browser.

        Returns:
            True when the callbacks were called: False for blank text or
            while the form is disabled.
        """
        if self.disabled or not text.strip():
            return False
        self._callbacks(text)
        return True

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "typing":
            self.report_typing(content.get("active") is True)
        if content.get("type") != "submit":
            return  # anywidget's own messages (commands) share this channel
        text = content.get("text")
        if isinstance(text, str):
            self.submit(text)
