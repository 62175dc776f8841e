"""StatusBar: connection state, who is logged in, Reconnect and Logout.

An anywidget, styled like the message list. The words shown are derived from
:class:`SessionState` by :func:`describe`, a pure function, so the mapping is
tested without any widget. The view also notices when its kernel goes away
(restarted or shut down): the widget can then no longer be updated, so it
says so, and what to do, instead of showing a state that is no longer true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import anywidget
import traitlets

from .._callbacks import CallbackList
from ..realtime.session import SessionState

__all__ = ["Connection", "StatusBar", "describe", "display_name"]

_HERE = Path(__file__).parent

Connection = Literal["connected", "connecting", "reconnecting", "offline", "logged out"]


def describe(state: SessionState | None) -> Connection:
    """What the reader is told about a session in ``state`` (None: no session)."""
    if state is None or state in (SessionState.IDLE, SessionState.CLOSED):
        return "logged out"
    if state is SessionState.READY:
        return "connected"
    if state in (SessionState.CONNECTING, SessionState.AUTHENTICATING):
        return "connecting"
    if state in (SessionState.RECONNECTING, SessionState.REAUTHENTICATING):
        # Sends are held, not lost, meanwhile: the form stays usable.
        return "reconnecting"
    return "offline"  # GAVE_UP


def display_name(user: Mapping[str, Any] | None, fallback: str = "") -> str:
    """``First Last`` of a Directus user, else ``fallback``."""
    if not user:
        return fallback
    parts = [user.get("first_name"), user.get("last_name")]
    name = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return name or fallback


class StatusBar(anywidget.AnyWidget):
    """One line: a coloured state, the user's name, Reconnect (when offline), Logout.

    Attributes:
        connection: what the reader is told (see :func:`describe`).
        user: who is logged in ("" for nobody).
        logged_in: a chat is open (Logout is offered only then, not while logging in).
    """

    _esm = _HERE / "status.js"
    _css = _HERE / "status.css"

    connection = traitlets.Unicode("logged out").tag(sync=True)
    user = traitlets.Unicode("").tag(sync=True)
    logged_in = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._logout: CallbackList[[]] = CallbackList("a logout callback")
        self._reconnect: CallbackList[[]] = CallbackList("a reconnect callback")
        self.on_msg(self._on_frontend_msg)

    def show(self, state: SessionState | None, user: str | None) -> None:
        """Show ``state`` and the name of who is logged in (None: no chat is open)."""
        with self.hold_sync():
            self.connection = describe(state)
            self.user = user or ""
            self.logged_in = user is not None and self.connection != "logged out"

    @property
    def offers_reconnect(self) -> bool:
        """Whether the Reconnect button shows (the session gave up)."""
        return self.connection == "offline"

    def on_logout(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` when the reader clicks Logout; returns a remover."""
        return self._logout.add(callback)

    def on_reconnect(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` when the reader clicks Reconnect; returns a remover."""
        return self._reconnect.add(callback)

    def click_logout(self) -> None:
        """What clicking Logout does (ignored when it is not shown)."""
        if self.logged_in:
            self._logout()

    def click_reconnect(self) -> None:
        """What clicking Reconnect does (ignored when it is not shown)."""
        if self.offers_reconnect:
            self._reconnect()

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "logout":
            self.click_logout()
        elif kind == "reconnect":
            self.click_reconnect()
