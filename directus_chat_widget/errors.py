"""Every error the kit raises, in one tree.

Errors from lower libraries (httpx, websockets, subprocess) are translated at
the boundary where they happen, with ``raise OurError(...) from exc`` so the
original stays attached for debugging::

    DirectusError
    ├── ConfigError                  no URL, or a URL that is not http(s)://host
    ├── ServerUnreachable            connection refused, DNS failure, timeout
    ├── AuthError                    the server refused who we are
    │   ├── InvalidCredentials       wrong email or password (AUTH_FAILED / 401)
    │   └── TokenExpired             an access or refresh token is no longer valid
    ├── Forbidden                    no permission (or no such collection: same answer)
    │   └── RegistrationClosed       the server lets nobody sign up (or not this email)
    ├── ServerError                  any other error answer; keeps code and message
    │   └── RegistrationRefused      a sign-up refused: invalid email, empty or weak password
    │       └── EmailTaken           signed up, yet the password does not log in
    ├── InvalidPayload               a request that cannot be sent as it is (also ValueError)
    ├── RequestTimeout               no reply to a request within its timeout
    ├── SessionClosed                the realtime session was closed by the caller
    ├── SessionGaveUp                reconnecting ran out of its retry budget
    ├── PermissionRefused            the server refused a permission the chat needs
    └── LocalDirectusError           the kit's own local server
        ├── NodeNotFound             no Node >= 22 to run Directus with
        ├── InstallFailed            npm failed; carries the tail of its log
        ├── PortInUse                the chosen port is taken
        ├── DataFolderMismatch       a data folder made by another Directus version
        └── StartupFailed            the process exited or never became ready

Every error has a one-line ``str()`` meant for people; ``code`` carries the
Directus error code where the server sent one.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "DataFolderMismatch",
    "DirectusError",
    "EmailTaken",
    "Forbidden",
    "InstallFailed",
    "InvalidCredentials",
    "InvalidPayload",
    "LocalDirectusError",
    "NodeNotFound",
    "PermissionRefused",
    "PortInUse",
    "RegistrationClosed",
    "RegistrationRefused",
    "RequestTimeout",
    "ServerError",
    "ServerUnreachable",
    "SessionClosed",
    "SessionGaveUp",
    "StartupFailed",
    "TokenExpired",
    "error_for",
]


class DirectusError(Exception):
    """Root of every error raised by directus_chat_widget.

    Args:
        message: one line for people.
        code: the Directus error code (``AUTH_FAILED``, ``FORBIDDEN``...), if any.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ConfigError(DirectusError):
    """The Directus URL (or another setting) is missing or malformed."""


class ServerUnreachable(DirectusError):
    """The server could not be reached: refused, unresolvable or timed out."""


class AuthError(DirectusError):
    """The server refused our identity."""


class InvalidCredentials(AuthError):
    """Wrong email or password."""


class TokenExpired(AuthError):
    """An access or refresh token is expired or was revoked."""


class Forbidden(DirectusError):
    """No permission for that action; Directus says the same for a missing collection."""


class ServerError(DirectusError):
    """Any other error answer from Directus, with its code and message kept."""


class RegistrationClosed(Forbidden):
    """Public sign-up is off on this server, or its email filter refuses this address.

    Directus answers both with a bare FORBIDDEN, so the two cannot be told apart.
    """


class RegistrationRefused(ServerError):
    """The server refused a sign-up's details; ``str()`` is the server's own reason."""


class EmailTaken(RegistrationRefused):
    """A sign-up was accepted but its password does not log in: the email had an account.

    Directus answers a sign-up for a known email exactly as for a new one (204,
    after the same delay), so that nobody can probe which emails have accounts;
    only the login that follows shows it.
    """


class InvalidPayload(DirectusError, ValueError):
    """A request that cannot be encoded (a lone surrogate, a value JSON cannot hold).

    Raised to the caller before anything is sent: the socket never sees it.
    """


class RequestTimeout(DirectusError):
    """No reply to a request within its timeout."""


class SessionClosed(DirectusError):
    """The realtime session is closed; open a new one or call ``reconnect()``."""


class SessionGaveUp(DirectusError):
    """Reconnecting failed more times than the retry budget allows."""


class LocalDirectusError(DirectusError):
    """A problem with the kit's own local Directus server."""


class NodeNotFound(LocalDirectusError):
    """No Node.js >= 22 is available to run Directus."""


class InstallFailed(LocalDirectusError):
    """Installing Directus with npm failed.

    Attributes:
        log_tail: the last lines npm printed.
    """

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail


class PortInUse(LocalDirectusError):
    """The port asked for is already taken by another process."""


class DataFolderMismatch(LocalDirectusError):
    """The data folder was made by another Directus version."""


class StartupFailed(LocalDirectusError):
    """Directus exited during start-up or did not become ready in time.

    Attributes:
        log_tail: the last lines the server printed.
    """

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail


class PermissionRefused(DirectusError):
    """The server refused to store a permission the chat schema needs."""


def error_for(code: str, message: str, what: str) -> DirectusError:
    """The kit's exception for a Directus error ``code`` about ``what``, keeping the message."""
    text = f"{what}: {message or code}"
    if code in ("FORBIDDEN", "INVALID_COLLECTION"):
        return Forbidden(text, code=code)
    if code in ("TOKEN_EXPIRED", "INVALID_TOKEN"):
        return TokenExpired(text, code=code)
    if code in ("AUTH_FAILED", "INVALID_CREDENTIALS"):
        return AuthError(text, code=code)
    return ServerError(text, code=code)
