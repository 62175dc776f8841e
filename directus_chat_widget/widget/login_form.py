"""LoginForm: email, password and a Login button, as one small anywidget.

The form knows nothing about Directus: it checks that both fields are
filled, then hands ``(email, password)`` to its ``on_submit`` callbacks. The
password never becomes widget state: the browser puts it in the one custom
message that says "log in", the kernel passes it on and keeps nothing, and the
view empties its field at once.

Where the server lets people sign up (``can_register``), a "Create an account"
link turns the form into a sign-up form (``mode`` ``"register"``: name, email,
password); its submit goes to the ``on_register`` callbacks as
``(email, password, name)``, the password again only in that one message.
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
RegisterCallback = Callable[[str, str, str], None]
MODES = ("login", "register")


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
        can_register: the server lets people sign up: the form offers it.
        mode: ``"login"``, or ``"register"`` (only while ``can_register``).
    """

    _esm = _HERE / "login_form.js"
    _css = _HERE / "login_form.css"

    email = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    can_register = traitlets.Bool(False).tag(sync=True)
    mode = traitlets.Enum(MODES, "login").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._callbacks: CallbackList[[str, str]] = CallbackList(
            "a login form callback", on_error=lambda exc: self.show_error(f"Login failed: {exc}")
        )
        self._registering: CallbackList[[str, str, str]] = CallbackList(
            "a sign-up callback", on_error=lambda exc: self.show_error(f"Sign-up failed: {exc}")
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
        email = email.strip()
        if not self._filled(email, password):
            return False
        self._callbacks(email, password)
        return True

    def on_register(self, callback: RegisterCallback) -> Callable[[], None]:
        """Call ``callback(email, password, name)`` for every filled-in sign-up.

        Returns:
            a function that removes the callback.
        """
        return self._registering.add(callback)

    def register(self, email: str, password: str, name: str = "") -> bool:
        """Submit a sign-up (what "Create account" in the browser does).

        Email and password must be filled (the name may be empty); nothing is
        called while busy, or when the server does not let people sign up.

        Returns:
            True when the callbacks were called.
        """
        email = email.strip()
        if not self.can_register or not self._filled(email, password):
            return False
        self._registering(email, password, name.strip())
        return True

    def _filled(self, email: str, password: str) -> bool:
        """Not busy and both fields filled; else say what is missing (the email is kept)."""
        if self.busy:
            return False
        self.email = email
        self.show_error(None if email and password else FILL_IN_ALL_FIELDS)
        return bool(email and password)

    @traitlets.observe("can_register")
    def _back_to_login(self, change: dict[str, Any]) -> None:
        if not change["new"]:
            self.mode = "login"

    @traitlets.validate("mode")
    def _only_offered_modes(self, proposal: dict[str, Any]) -> str:
        return str(proposal["value"]) if self.can_register else "login"

    def show_error(self, text: str | None) -> None:
        """Show ``text`` (as text, never markup) under the button; None clears it."""
        self.error = text or ""

    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") not in ("submit", "register"):
            return
        email, password = content.get("email"), content.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            return
        if content["type"] == "submit":
            self.submit(email, password)
            return
        name = content.get("name", "")
        if isinstance(name, str):
            self.register(email, password, name)
