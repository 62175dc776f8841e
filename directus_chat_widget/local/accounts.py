"""Who the tutorial logs in as: your accounts from the environment, else the local demo users.

On your own Directus, name two chat users (the tutorial has two people talk)
in the environment or in the ``.env`` that holds ``DIRECTUS_URL``::

    DIRECTUS_EMAIL=you@example.com        DIRECTUS_PASSWORD=...
    DIRECTUS_EMAIL_2=them@example.com     DIRECTUS_PASSWORD_2=...

Without them, the two demo users the local server makes (Ada and Grace). No
notebook names an account itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from ..config import find_dotenv
from ..errors import ConfigError
from .schema import DEMO_USERS

__all__ = ["LOGIN_VARIABLES", "ChatLogin", "chat_logins"]

# (email, password) variable names of the first and the second person.
LOGIN_VARIABLES = (
    ("DIRECTUS_EMAIL", "DIRECTUS_PASSWORD"),
    ("DIRECTUS_EMAIL_2", "DIRECTUS_PASSWORD_2"),
)


@dataclass(frozen=True)
class ChatLogin:
    """One account to log in with. The password never shows in ``repr``.

    Attributes:
        email, password: what the login form takes.
        from_environment: True for your own accounts, False for a demo user.
    """

    email: str
    password: str = field(repr=False)
    from_environment: bool = False


def _settings(environ: Mapping[str, str] | None, dotenv_path: Path | None) -> dict[str, str]:
    """The login variables: the environment first, then the .env file."""
    env = os.environ if environ is None else environ
    found = dotenv_path if dotenv_path is not None else find_dotenv()
    from_file = dotenv_values(found, interpolate=False) if found and found.is_file() else {}
    names = [name for pair in LOGIN_VARIABLES for name in pair]
    values = {name: env.get(name) or from_file.get(name) or "" for name in names}
    return {name: value.strip() for name, value in values.items() if value and value.strip()}


def chat_logins(
    *,
    demo: bool = False,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | os.PathLike[str] | None = None,
) -> tuple[ChatLogin, ChatLogin]:
    """The tutorial's two people: from ``DIRECTUS_EMAIL``... when set, else the demo users.

    Args:
        demo: the local demo users even if the environment names accounts (for
            a private server a notebook starts, which has only those).
        environ: instead of ``os.environ``.
        dotenv_path: the ``.env`` to read (default: the nearest one up from here).

    Raises:
        ConfigError: an email without its password (or the reverse), or a first
            person without a second.
    """
    demo_logins = tuple(ChatLogin(user.email, user.password) for user in DEMO_USERS)
    if demo:
        return demo_logins[0], demo_logins[1]
    settings = _settings(environ, Path(dotenv_path) if dotenv_path is not None else None)
    if not settings:
        return demo_logins[0], demo_logins[1]
    logins = []
    for index, (email_name, password_name) in enumerate(LOGIN_VARIABLES):
        email, password = settings.get(email_name), settings.get(password_name)
        if email and password:
            logins.append(ChatLogin(email, password, from_environment=True))
        elif email or password:
            given, missing = (email_name, password_name) if email else (password_name, email_name)
            raise ConfigError(f"{given} is set but {missing} is not: set both, or neither")
        elif index == 0:
            raise ConfigError(
                f"{', '.join(sorted(settings))} set, but not {email_name} and {password_name}: "
                "name the first chat user too"
            )
        else:
            raise ConfigError(
                f"{LOGIN_VARIABLES[0][0]} is set, so the tutorial logs in with your accounts; "
                f"it needs a second chat user too: set {email_name} and {password_name}"
            )
    return logins[0], logins[1]
