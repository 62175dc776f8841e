"""LoginForm: email, password and a Login button, as one small anywidget.

The form knows nothing about Directus: it checks that both fields are
filled, then hands ``(email, password)`` to its ``on_submit`` callbacks. The
password never becomes widget state: the browser puts it in the one custom
message that says "log in", the kernel passes it on and keeps nothing, and the
view empties its field at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .._callbacks import CallbackList
from ._wording import FILL_IN_ALL_FIELDS, INVALID_CREDENTIALS, explain

__all__ = ["FILL_IN_ALL_FIELDS", "INVALID_CREDENTIALS", "LoginForm", "login_error_text"]

_HERE = Path(__file__).parent

SubmitCallback = Callable[[str, str], None]


def login_error_text(exc: BaseException, url: str | None = None) -> str:
    """What the form says about a failed login (``url``: the server tried)."""
    return explain("logging in", exc, url)


class LoginForm(anywidget.AnyWidget):
    """Email + password + Login, with one line for what went wrong.

    Attributes:
        email: the email shown in the field (kept after a failed login; a
            caller may pre-fill it). Never the password.
        error: the error shown under the button, as plain text ("" for none).
        busy: True while a login is running: the fields and button are disabled.
    """

    _esm = _HERE / "login_form.js"
    _css = _HERE / "login_form.css"

    email = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._callbacks: CallbackList[[str, str]] = CallbackList(
            "a login form callback", on_error=lambda exc: self.show_error(f"Login failed: {exc}")
        )
        self.on_msg(self._on_frontend_msg)

    def on_submit(self, callback: SubmitCallback) -> Callable[[], None]:
        """Call ``callback(email, password)`` for every filled-in submission.

        Returns:
            a function that removes the callback.
        """
        return self._callbacks.add(callback)

    def submit(self, email: str, password: str) -> bool:
        """Submit a login (what pressing Login or Enter in the browser does).

        An empty field shows "Please fill in all fields" and calls nobody;
        so does a submit while a login is running.

        Returns:
            True when the callbacks were called.
        """
        if self.busy:
            return False
        email = email.strip()
        self.email = email
        if not email or not password:
            self.show_error(FILL_IN_ALL_FIELDS)
            return False
        self.show_error(None)
        self._callbacks(email, password)
        return True

    def show_error(self, text: str | None) -> None:
        """Show ``text`` (as text, never markup) under the button; None clears it."""
        self.error = text or ""

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "submit":
            return
        email, password = content.get("email"), content.get("password")
        if isinstance(email, str) and isinstance(password, str):
            self.submit(email, password)
