"""Directus over HTTP: login, refresh, logout, the current user, items.

A thin async layer on ``httpx.AsyncClient``. Its one job besides the requests
is translating failures at the boundary into the kit's error tree, keeping the
server's own message and code (the table is in :mod:`._rest_errors`).

Tokens and passwords are never logged and never appear in a ``repr``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from ._rest_errors import error_from_response, registration_error
from .config import normalise_url
from .errors import (
    AuthError,
    Forbidden,
    ServerError,
    ServerUnreachable,
    SessionClosed,
    TokenExpired,
)

__all__ = ["DirectusRest", "Registration", "Tokens", "encode_query"]

logger = logging.getLogger(__name__)

_DEFAULT_ME_FIELDS = ("id", "first_name", "last_name", "email")


@dataclass(frozen=True)
class Tokens:
    """What a login or refresh returns. The tokens never appear in ``repr``.

    Attributes:
        access_token: bearer token for requests and socket auth.
        refresh_token: single use: Directus rotates it on every refresh.
        expires_ms: lifetime of the access token, in milliseconds.
        received_at: ``time.time()`` when the server answered.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_ms: int
    received_at: float = field(default_factory=time.time)

    @property
    def expires_at(self) -> float:
        """When the access token expires, in epoch seconds."""
        return self.received_at + self.expires_ms / 1000


@dataclass(frozen=True)
class Registration:
    """What a logged-out client can learn about sign-up (from ``/server/info``).

    Attributes:
        allowed: the server accepts ``POST /users/register``.
        verify_email: new accounts must follow a mailed link before they can log in.
    """

    allowed: bool
    verify_email: bool


def _json_default(value: Any) -> str:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot put a {type(value).__name__} in a Directus query")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"), default=_json_default)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return ",".join(_param(item) for item in value)
    return str(value)


def encode_query(query: Mapping[str, Any]) -> dict[str, str]:
    """Turn a Directus query into URL parameters the way the REST API reads them.

    ``fields``, ``sort`` and other lists become comma lists; ``filter``,
    ``deep`` and other mappings become compact JSON (dates as ISO 8601);
    booleans are ``true``/``false``; strings pass as written; ``None`` values
    are left out.

    Raises:
        TypeError: a value inside a mapping cannot be written as JSON.
    """
    return {key: _param(value) for key, value in query.items() if value is not None}


class DirectusRest:
    """An async REST client for one Directus server.

    Args:
        url: the Directus base URL, ``http(s)://host[:port][/path]``.
        timeout: seconds for connecting and for each read (ignored with ``client``).
        client: an ``httpx.AsyncClient`` to send with (its base URL is not used);
            the caller keeps ownership and closes it.

    Use ``async with DirectusRest(url) as rest:`` or call :meth:`aclose`. A
    closed client cannot be used again: make a new one.

    Raises:
        ConfigError: ``url`` is not an http(s) URL with a host.
    """

    def __init__(
        self, url: str, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = normalise_url(url, source="DirectusRest(url=...)")
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)
        self._closed = False

    def __repr__(self) -> str:
        return f"<DirectusRest {self.url} {'closed' if self.closed else 'open'}>"

    @property
    def closed(self) -> bool:
        """True after :meth:`aclose` (or when a borrowed ``client`` was closed)."""
        return self._closed or self._client.is_closed

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client every request goes through (files.py streams files with it)."""
        self._check_open()
        return self._client

    async def __aenter__(self) -> DirectusRest:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client (if this object made it). Safe to call twice."""
        if not self._closed and self._owns_client:
            await self._client.aclose()
        self._closed = True

    def _check_open(self) -> None:
        if self.closed:
            raise SessionClosed(
                f"cannot use a closed DirectusRest client (for {self.url}): make a new one"
            )

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request and return the ``data`` member of the answer.

        Args:
            method: ``GET``, ``POST``...
            path: below the base URL, e.g. ``/items/messages``.
            token: an access token, sent as ``Authorization: Bearer``; None: public.
            json: the request body.
            params: query parameters, encoded with :func:`encode_query`.

        Returns:
            ``data`` from the JSON answer, or None for an empty answer (204).

        Raises:
            SessionClosed: this client was closed.
            ServerUnreachable: no connection, or no answer in time.
            InvalidCredentials, TokenExpired, AuthError, Forbidden, ServerError:
                the server said no (its message and ``code`` are kept).
        """
        self._check_open()
        if not path.startswith("/"):
            path = "/" + path
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            response = await self._client.request(
                method,
                f"{self.url}{path}",
                headers=headers,
                json=json,
                params=encode_query(params) if params else None,
            )
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(
                f"Directus at {self.url} did not answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServerUnreachable(f"cannot reach Directus at {self.url}: {reason}") from exc
        except httpx.RequestError as exc:  # decoding, redirects: the server spoke, badly
            raise ServerError(f"{method} {path} on {self.url} failed: {exc}") from exc
        # Path and status only: the body and headers may hold tokens.
        logger.debug("%s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise error_from_response(response, with_token=token is not None)
        if not response.content:
            return None
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerError(
                f"{method} {path} answered {response.status_code} with a body that is not JSON"
            ) from exc
        return body.get("data") if isinstance(body, dict) else body

    async def login(self, email: str, password: str) -> Tokens:
        """Log in with email and password (one argon2 check on the server).

        Raises:
            InvalidCredentials: wrong email or password.
            AuthError: the account is suspended or needs a one-time password.
            ServerUnreachable: the server does not answer.
            ServerError: any other refusal, or an answer without tokens.
        """
        data = await self.request(
            "POST", "/auth/login", json={"email": email, "password": password, "mode": "json"}
        )
        return _tokens(data)

    async def refresh(self, refresh_token: str) -> Tokens:
        """Trade a refresh token for new tokens; the old refresh token stops working.

        Raises:
            TokenExpired: the refresh token is expired, already used, or unknown.
            ServerUnreachable: the server does not answer.
            ServerError: any other refusal, or an answer without tokens.
        """
        try:
            data = await self.request(
                "POST", "/auth/refresh", json={"refresh_token": refresh_token, "mode": "json"}
            )
        except TokenExpired:
            raise
        except AuthError as exc:
            # Directus answers INVALID_CREDENTIALS for a spent refresh token.
            raise TokenExpired("the refresh token is no longer valid", code=exc.code) from exc
        return _tokens(data)

    async def logout(self, refresh_token: str) -> None:
        """End the login that ``refresh_token`` belongs to.

        A refresh token that is already invalid is not an error: that login is
        over either way.

        Raises:
            ServerUnreachable: the server does not answer.
            ServerError: any other refusal.
        """
        try:
            await self.request(
                "POST", "/auth/logout", json={"refresh_token": refresh_token, "mode": "json"}
            )
        except AuthError:
            logger.debug("logout: the refresh token was already invalid")

    async def registration(self) -> Registration:
        """Whether anyone may sign up here, as the public sees it (no token needed).

        Directus 11 shows ``public_registration`` and
        ``public_registration_verify_email`` to the public in ``/server/info``
        (``/settings`` is FORBIDDEN to it); a server that says nothing allows nothing.

        Raises:
            ServerUnreachable: the server does not answer.
            ServerError: any other refusal.
        """
        info = await self.request("GET", "/server/info")
        project = info.get("project") if isinstance(info, dict) else None
        said = project if isinstance(project, dict) else {}
        return Registration(
            allowed=said.get("public_registration") is True,
            verify_email=said.get("public_registration_verify_email") is not False,
        )

    async def register(
        self, email: str, password: str, *, first_name: str = "", last_name: str = ""
    ) -> None:
        """Sign up (``POST /users/register``): the server makes the account in its sign-up role.

        The answer is the same (204) for a new email and for one that already
        has an account: Directus hides which emails exist. Log in afterwards
        to know (a taken email's old password stays). With email verification
        on, the account cannot log in until its mailed link is followed.

        Raises:
            RegistrationClosed: sign-up is off here, or this email is not allowed.
            RegistrationRefused: an invalid email, an empty or weak password (the
                server's reason is the message).
            ServerUnreachable: the server does not answer.
            ServerError: any other refusal (too many sign-ups: REQUESTS_EXCEEDED).
        """
        body: dict[str, str] = {"email": email, "password": password}
        # Directus stores "" as a name; leave out what was not given.
        names = {"first_name": first_name.strip(), "last_name": last_name.strip()}
        body |= {key: value for key, value in names.items() if value}
        try:
            await self.request("POST", "/users/register", json=body)
        except (Forbidden, ServerError) as exc:
            raise registration_error(exc) from exc

    async def me(
        self, access_token: str, fields: Sequence[str] = _DEFAULT_ME_FIELDS
    ) -> dict[str, Any]:
        """The current user: those of ``fields`` the user may read.

        Directus answers ``/users/me`` with the id alone when any asked field is
        not readable (a chat user may read their name but not their email, say);
        then the readable fields are fetched with ``*`` and the asked ones kept.
        Fields of relations (``role.name``) are not recovered that way.

        Raises:
            TokenExpired: the access token is expired or not valid.
            ServerUnreachable: the server does not answer.
        """
        asked = list(fields)
        data = await self.request("GET", "/users/me", token=access_token, params={"fields": asked})
        user = dict(data or {})
        if set(user) <= {"id"} and any(name != "id" for name in asked):
            everything = await self.request(
                "GET", "/users/me", token=access_token, params={"fields": ["*"]}
            )
            user = {name: value for name, value in dict(everything or {}).items() if name in asked}
        return user

    async def read_items(
        self, collection: str, *, token: str | None, query: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Read items of ``collection`` with a Directus query.

        Args:
            collection: the collection name.
            token: an access token, or None to read as the public.
            query: ``fields`` (list), ``filter`` (mapping), ``sort`` (list, ``-`` for
                descending), ``limit``, ``offset``, ``search``...; see :func:`encode_query`.

        Raises:
            Forbidden: no read permission, or no such collection (Directus
                answers both the same way).
            TokenExpired: ``token`` is expired or not valid.
            ServerUnreachable: the server does not answer.
            ServerError: a malformed query (unknown field, bad filter...).
        """
        data = await self.request(
            "GET", f"/items/{quote(collection, safe='')}", token=token, params=query
        )
        return list(data or [])


def _tokens(data: Any) -> Tokens:
    try:
        return Tokens(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            expires_ms=int(data["expires"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ServerError("the login answer had no tokens") from exc
