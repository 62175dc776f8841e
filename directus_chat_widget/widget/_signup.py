"""Sign-up from the widget: whether the server offers it, and creating an account then logging in.

Directus 11 tells a logged-out client whether anyone may sign up in
``/server/info`` (``project.public_registration``): the widget asks once when
it is made (and again after a sign-up is refused as closed) and shows the
"Create an account" link only then.

``POST /users/register`` answers a taken email exactly like a new one (204:
Directus hides which emails exist), so success is known only from the login
that follows; a login refused right after a sign-up is reported as
:class:`EmailTaken`. With email verification on, the account cannot log in
until its mailed link is followed, and the form says so instead of logging in.

Secrets: the password goes from the form (or the caller) to ``register`` and
then ``login``, and is kept nowhere.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from ..errors import DirectusError, EmailTaken, InvalidCredentials, RegistrationClosed
from ..rest import DirectusRest, Registration
from ._owner import OwnerLoop
from ._tasks import TaskKeeper
from ._wording import explain
from .login_form import LoginForm

__all__ = ["Registrar", "RestRegistrar", "SignupFlow"]

logger = logging.getLogger(__name__)

VERIFY_EMAIL = "Account created. Follow the link in the email the server sent, then log in."


class Registrar(Protocol):
    """Who the widget asks about sign-up: :class:`RestRegistrar` over Directus by default."""

    async def registration(self) -> Registration: ...

    async def register(self, email: str, password: str, *, first_name: str = "") -> None: ...


class RestRegistrar:
    """Sign-up over REST at ``url``, one short-lived client per call."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def registration(self) -> Registration:
        """See :meth:`DirectusRest.registration`."""
        async with DirectusRest(self.url) as rest:
            return await rest.registration()

    async def register(self, email: str, password: str, *, first_name: str = "") -> None:
        """See :meth:`DirectusRest.register`."""
        async with DirectusRest(self.url) as rest:
            await rest.register(email, password, first_name=first_name)


class LoginLike(Protocol):
    """What sign-up needs of the login flow (a :class:`LoginFlow`)."""

    @property
    def busy(self) -> bool: ...

    async def login(self, email: str, password: str) -> None: ...


class SignupFlow:
    """The login form's "Create account" mode and the widget's ``register``.

    Args:
        registrar: asks and signs up; None: this widget offers no sign-up.
        login: logs the new account in.
        form: the login form it shows the mode and errors in.
        owner: the widget's owner loop (the form's sign-up runs there).
        tasks: keeps what the form's submit starts.
        url: the server's address, for what a failure says.
    """

    def __init__(
        self,
        *,
        registrar: Registrar | None,
        login: LoginLike,
        form: LoginForm,
        owner: OwnerLoop,
        tasks: TaskKeeper,
        url: str | None,
    ) -> None:
        self._registrar = registrar
        self._login = login
        self._form = form
        self._owner = owner
        self._tasks = tasks
        self._url = url
        self._verify_email = False
        form.on_register(self._on_register)

    def check_soon(self) -> None:
        """Ask the server whether it offers sign-up, in the background (if a loop runs)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # plain Python: whoever drives the widget awaits check() or register()
        if self._registrar is not None:
            self._tasks.spawn(self._owner.run(self.check()), "asking whether sign-up is open")

    async def check(self) -> bool:
        """Ask the server, show or hide the sign-up link, and return whether it is open.

        A server that cannot be asked offers nothing (the login form says why
        once someone tries to log in).
        """
        if self._registrar is None:
            return False
        try:
            said = await self._registrar.registration()
        except DirectusError as exc:
            logger.info("could not ask whether sign-up is open: %s", exc)
            said = Registration(allowed=False, verify_email=True)
        self._verify_email = said.verify_email
        self._form.can_register = said.allowed
        return said.allowed

    async def register(self, email: str, password: str, name: str = "") -> None:
        """Create an account, then log in with it: see :meth:`ChatWidget.register`."""
        if self._registrar is None:
            raise RegistrationClosed("this chat has no server to sign up on (no URL was given)")
        if self._login.busy:
            raise RuntimeError("already logged in (or logging in): log out first")
        email = email.strip()
        form = self._form
        form.busy = True
        form.show_error(None)
        try:
            await self._registrar.register(email, password, first_name=name.strip())
        except BaseException as exc:
            logger.info("sign-up failed: %s", exc)
            form.show_error(explain("signing up", exc, self._url))
            if isinstance(exc, RegistrationClosed):
                form.can_register = False
            raise
        finally:
            form.busy = False
        form.email = email
        form.mode = "login"
        if self._verify_email:
            form.show_error(VERIFY_EMAIL)
            return
        try:
            await self._login.login(email, password)
        except InvalidCredentials as exc:
            taken = EmailTaken(
                f"{email} already has an account (its password is not this one): "
                "log in with it, or sign up with another email",
                code=exc.code,
            )
            form.show_error(explain("signing up", taken, self._url))
            raise taken from exc

    def _on_register(self, email: str, password: str, name: str) -> None:
        self._tasks.spawn(self._register_from_form(email, password, name), "signing up")

    async def _register_from_form(self, email: str, password: str, name: str) -> None:
        try:
            # On the owner loop, as ChatWidget.register runs.
            await self._owner.run(self.register(email, password, name))
        except (DirectusError, RuntimeError) as exc:
            # Already shown in the form; the log says why for whoever debugs.
            logger.info("sign-up from the form failed: %s", exc)
