"""StatusBar: connection state, who is logged in, Reconnect and Logout.

The words shown are derived from :class:`SessionState` by :func:`describe`,
a pure function, so the mapping is tested without any widget.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Literal

import ipywidgets as widgets

from ..session import SessionState

__all__ = ["Connection", "StatusBar", "describe", "display_name"]

Connection = Literal["connected", "connecting", "reconnecting", "offline", "logged out"]

_COLOURS: dict[Connection, str] = {
    "connected": "var(--jp-success-color1, #2e7d32)",
    "connecting": "var(--jp-warn-color1, #ef6c00)",
    "reconnecting": "var(--jp-warn-color1, #ef6c00)",
    "offline": "var(--jp-error-color1, #d32f2f)",
    "logged out": "var(--jp-ui-font-color2, #777)",
}


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


class StatusBar(widgets.HBox):  # type: ignore[misc]
    """One line: a coloured state, the user's name, Reconnect (when offline), Logout.

    Attributes:
        state_label: the state, as escaped HTML.
        user_label: who is logged in.
        reconnect_button: shown only while offline.
        logout_button: shown while a session exists.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.state_label = widgets.HTML("")
        self.user_label = widgets.Label("")
        self.reconnect_button = widgets.Button(description="Reconnect", icon="refresh")
        self.logout_button = widgets.Button(description="Logout", icon="sign-out")
        self.state_label.add_class("dcw-status-state")
        self.user_label.add_class("dcw-status-user")
        self.reconnect_button.add_class("dcw-status-reconnect")
        self.logout_button.add_class("dcw-status-logout")
        for button in (self.reconnect_button, self.logout_button):
            button.layout.width = "auto"
        super().__init__(
            children=(
                self.state_label,
                self.user_label,
                self.reconnect_button,
                self.logout_button,
            ),
            **kwargs,
        )
        self.layout.align_items = "center"
        self.layout.justify_content = "space-between"
        self.add_class("dcw-status")
        self.connection: Connection = "logged out"
        self.show(None, None)

    def show(self, state: SessionState | None, user: str | None) -> None:
        """Show ``state`` and the name of who is logged in (None: nobody)."""
        self.connection = describe(state)
        colour = _COLOURS[self.connection]
        self.state_label.value = (
            f'<span class="dcw-status-{self.connection.replace(" ", "-")}" '
            f'style="color: {colour}">● {html.escape(self.connection)}</span>'
        )
        self.user_label.value = f"Logged in as {user}" if user else ""
        logged_in = state is not None and self.connection != "logged out"
        self.logout_button.layout.display = None if logged_in else "none"
        self.reconnect_button.layout.display = None if self.connection == "offline" else "none"
