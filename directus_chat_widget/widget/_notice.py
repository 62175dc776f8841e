"""The notice: one line under the chat that tells the reader what went wrong.

It says sentences (see ``_wording.py``), escaped into an ``ipywidgets.HTML``,
never an exception or markup of anyone's; the exception itself goes to the log.
A notice about the connection goes away by itself once the session is
connected again.
"""

from __future__ import annotations

import html
import logging

import ipywidgets as widgets

from ._wording import explain

__all__ = ["Notice"]

logger = logging.getLogger(__name__)


class Notice:
    """One line of text under the chat, hidden while it says nothing.

    Args:
        url: the server's address, named where it helps the reader.

    Attributes:
        widget: the ``ipywidgets.HTML`` that shows it (the chat's ``notice`` part).
        text: what it says now, as plain text ("" for nothing).
    """

    def __init__(self, url: str | None) -> None:
        self.widget = widgets.HTML("")
        self.widget.add_class("dcw-notice")
        self.widget.layout.display = "none"
        self.text = ""
        self._url = url
        self._until_connected = False

    def show(self, text: str | None, *, until_connected: bool = False) -> None:
        """Show ``text`` under the chat (None clears it).

        ``until_connected``: the notice is about the connection, so it goes
        away by itself once the session is connected again.
        """
        self.text = text or ""
        self._until_connected = bool(text) and until_connected
        if not text:
            self.widget.value = ""
            self.widget.layout.display = "none"
            return
        self.widget.value = f'<span class="dcw-notice-text">{html.escape(text)}</span>'
        self.widget.layout.display = None

    def connected(self) -> None:
        """The session is connected: a notice about the connection is no longer true."""
        if self._until_connected:
            self.show(None)

    def report(self, what: str, exc: BaseException, *, until_connected: bool = False) -> None:
        """Log ``exc``, raised while ``what`` ("sending"...), and say what it means."""
        logger.error("%s failed", what, exc_info=exc)
        self.show(explain(what, exc, self._url), until_connected=until_connected)
