"""LoginForm: email, password and a Login button, made of core ipywidgets.

The form knows nothing about Directus: it checks that both fields are filled,
then hands ``(email, password)`` to its ``on_submit`` callbacks and clears the
password from the widget at once, so the secret lives in the kernel only for
the call that uses it and never stays in a synced trait.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import traitlets

from .._callbacks import CallbackList
from ..errors import ConfigError, InvalidCredentials, ServerUnreachable

__all__ = ["FILL_IN_ALL_FIELDS", "INVALID_CREDENTIALS", "LoginForm", "login_error_text"]


FILL_IN_ALL_FIELDS = "Please fill in all fields"
INVALID_CREDENTIALS = "Invalid email or password"

SubmitCallback = Callable[[str, str], None]


def login_error_text(exc: BaseException, url: str | None = None) -> str:
    """What the form says about a failed login (``url``: the server tried)."""
    if isinstance(exc, InvalidCredentials):
        return INVALID_CREDENTIALS
    if isinstance(exc, ServerUnreachable):
        where = f" at {url}" if url else ""
        return f"Cannot reach the Directus server{where}. Is it running?"
    if isinstance(exc, ConfigError):
        return str(exc)
    return f"Login failed: {exc or type(exc).__name__}"


class LoginForm(widgets.VBox):  # type: ignore[misc]
    """Email + password + Login, with one line for what went wrong.

    Attributes:
        email: the email field (``ipywidgets.Text``).
        password: the password field (``ipywidgets.Password``), emptied on submit.
        button: the Login button.
        message: where errors are shown (escaped text in an ``HTML`` widget).
        busy: True while a login is running; disables the button.
    """

    busy = traitlets.Bool(False)

    def __init__(self, **kwargs: Any) -> None:
        self.email = widgets.Text(placeholder="Email", description="Email")
        self.password = widgets.Password(placeholder="Password", description="Password")
        self.button = widgets.Button(description="Login", button_style="primary", icon="sign-in")
        self.message = widgets.HTML("")
        self.email.add_class("dcw-login-email")
        self.password.add_class("dcw-login-password")
        self.button.add_class("dcw-login-button")
        self.message.add_class("dcw-login-message")
        super().__init__(children=(self.email, self.password, self.button, self.message), **kwargs)
        self.add_class("dcw-login")
        self._callbacks: CallbackList[[str, str]] = CallbackList(
            "a login form callback", on_error=lambda exc: self.show_error(f"Login failed: {exc}")
        )
        self._error = ""
        self.button.on_click(lambda _button: self.submit())
        # Enter in either field submits: the Text view sends {"event": "submit"}
        # (Text.on_submit is deprecated, so listen to the message itself).
        self.email.on_msg(self._on_field_msg)
        self.password.on_msg(self._on_field_msg)

    def on_submit(self, callback: SubmitCallback) -> Callable[[], None]:
        """Call ``callback(email, password)`` for every filled-in submission.

        Returns:
            a function that removes the callback.
        """
        return self._callbacks.add(callback)

    def submit(self) -> bool:
        """Submit what the fields hold (what clicking Login does).

        The password field is emptied whatever happens next. An empty field
        shows "Please fill in all fields" and calls nobody.

        Returns:
            True when the callbacks were called.
        """
        if self.busy:
            return False
        email = self.email.value.strip()
        password = self.password.value
        self.password.value = ""  # cleared before anything can fail or wait
        if not email or not password:
            self.show_error(FILL_IN_ALL_FIELDS)
            return False
        self.show_error(None)
        self._callbacks(email, password)
        return True

    def show_error(self, text: str | None) -> None:
        """Show ``text`` (as text, never markup) under the button; None clears it."""
        self._error = text or ""
        if not text:
            self.message.value = ""
            return
        self.message.value = (
            f'<span class="dcw-error" style="color: var(--jp-error-color1, #d32f2f)">'
            f"{html.escape(text)}</span>"
        )

    @property
    def error(self) -> str:
        """The error shown now, as plain text ("" when none)."""
        return self._error

    @traitlets.observe("busy")
    def _busy_changed(self, change: dict[str, Any]) -> None:
        busy = bool(change["new"])
        self.button.disabled = busy
        self.button.description = "Logging in…" if busy else "Login"
        self.email.disabled = busy
        self.password.disabled = busy

    def _on_field_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "submit":
            self.submit()
