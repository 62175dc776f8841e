"""Directus error answers turned into the kit's errors, keeping the server's message and code.

=====================================================  =====================
what happened                                           raised
=====================================================  =====================
no connection, DNS failure, timeout                     ServerUnreachable
``INVALID_CREDENTIALS`` on a login                      InvalidCredentials
``INVALID_CREDENTIALS`` on a request with a token       TokenExpired
``TOKEN_EXPIRED``, ``INVALID_TOKEN``                    TokenExpired
``INVALID_OTP``, ``USER_SUSPENDED``                     AuthError
HTTP 403 or ``FORBIDDEN``                               Forbidden
anything else                                           ServerError
=====================================================  =====================

Sign-up (``POST /users/register``) has its own reading, measured on Directus
11.17.4 in :func:`registration_error`.
"""

from __future__ import annotations

import httpx

from .errors import (
    AuthError,
    DirectusError,
    Forbidden,
    InvalidCredentials,
    RegistrationClosed,
    RegistrationRefused,
    ServerError,
    TokenExpired,
)

__all__ = ["error_from_response", "registration_error"]

_TOKEN_CODES = frozenset({"TOKEN_EXPIRED", "INVALID_TOKEN"})
_AUTH_CODES = frozenset({"INVALID_OTP", "USER_SUSPENDED"})


def error_from_response(response: httpx.Response, *, with_token: bool) -> DirectusError:
    """The kit's error for an error answer; Directus bodies are ``{"errors": [...]}``."""
    message, code = f"HTTP {response.status_code}", None
    try:
        first = response.json()["errors"][0]
        message = str(first.get("message") or message)
        found = (first.get("extensions") or {}).get("code")
        code = str(found) if found is not None else None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        # Not a Directus error body (a proxy's HTML page, say): keep a bit of it.
        text = " ".join(response.text.split())[:200]
        if text:
            message = f"{message}: {text}"
    if code == "INVALID_CREDENTIALS":
        if with_token:
            # A token Directus cannot match (not a JWT, or unknown) is reported as
            # bad credentials; for the caller it is a token that no longer works.
            return TokenExpired(f"the access token is not valid ({message})", code=code)
        return InvalidCredentials("Invalid email or password", code=code)
    if code in _TOKEN_CODES:
        return TokenExpired(message, code=code)
    if code in _AUTH_CODES:
        return AuthError(message, code=code)
    if response.status_code == 403 or code == "FORBIDDEN":
        return Forbidden(message, code=code or "FORBIDDEN")
    if response.status_code == 401:
        if with_token:
            return TokenExpired(message, code=code)
        return AuthError(message, code=code)
    return ServerError(message, code=code)


def registration_error(exc: DirectusError) -> DirectusError:
    """What a refused ``POST /users/register`` means, keeping the server's message.

    Measured on Directus 11.17.4: sign-up off, or an email its
    ``public_registration_email_filter`` rejects, is 403 FORBIDDEN "You don't
    have permission to access this."; an invalid email or an empty or missing
    password is 400 INVALID_PAYLOAD ('Invalid payload. "email" must be a valid
    email.'); a password against ``auth_password_policy`` is 400
    FAILED_VALIDATION (whose ``extensions.invalid`` echoes the password: only
    the message is ever kept). Too many sign-ups from one address (5 a minute
    by default) is 429 REQUESTS_EXCEEDED, left as the ServerError it is.
    """
    if isinstance(exc, Forbidden):
        return RegistrationClosed(
            "this server does not let people sign up (public registration is off, "
            "or this email address is not allowed)",
            code=exc.code,
        )
    if exc.code in ("INVALID_PAYLOAD", "FAILED_VALIDATION") and isinstance(exc, ServerError):
        return RegistrationRefused(exc.message, code=exc.code)
    return exc
