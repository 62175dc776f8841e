"""What the widget tells a person when something fails: sentences, not exceptions.

The exception itself goes to the log (``logging``), where whoever debugs
finds it whole; the reader gets what happened and what to do.
"""

from __future__ import annotations

from ..errors import (
    AuthError,
    ConfigError,
    DirectusError,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    RegistrationClosed,
    RequestTimeout,
    ServerUnreachable,
    SessionClosed,
    SessionGaveUp,
    TokenExpired,
)

__all__ = ["FILL_IN_ALL_FIELDS", "INVALID_CREDENTIALS", "explain"]

FILL_IN_ALL_FIELDS = "Please fill in all fields"
INVALID_CREDENTIALS = "Invalid email or password"


def explain(what: str, exc: BaseException, url: str | None = None) -> str:
    """One or two sentences about ``exc``, raised while ``what`` ("logging in"...).

    Args:
        what: the action that failed, as a gerund ("sending", "reconnecting").
        exc: what it raised.
        url: the server's address, where it helps the reader.
    """
    where = f" at {url}" if url else ""
    if isinstance(exc, InvalidCredentials):
        return INVALID_CREDENTIALS
    if isinstance(exc, ServerUnreachable):
        return f"Cannot reach the Directus server{where}. Is it running?"
    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, TokenExpired):
        return "Your login has expired. Please log in again."
    if isinstance(exc, RegistrationClosed):
        return "This server does not let people sign up. Ask its admin for an account."
    if isinstance(exc, EmailTaken):
        return "An account with this email exists already. Log in, or use another email."
    if isinstance(exc, AuthError):
        return "The server did not accept this login. Please log in again."
    if isinstance(exc, Forbidden):
        return f"The server refused this while {what}: this account may not do that."
    if isinstance(exc, RequestTimeout):
        return f"The server did not answer in time while {what}. Please try again."
    if isinstance(exc, SessionGaveUp):
        return "The connection could not be restored. Press Reconnect to try again."
    if isinstance(exc, SessionClosed):
        return "The chat was closed. Please log in again."
    if isinstance(exc, DirectusError) and str(exc):
        # The server's own words: a sentence of theirs, shown as text.
        return f"The server refused this while {what}: {str(exc).rstrip('.')}."
    # A bug of ours or below us: nothing a reader can act on beyond reporting it.
    return (
        f"Something went wrong while {what}. The details are in the log "
        "(logger 'directus_chat_widget')."
    )
