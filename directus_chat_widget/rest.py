"""Directus over HTTP: login, refresh, logout, the current user, items.

A thin async layer on ``httpx.AsyncClient``. Its one job besides the requests
is translating failures at the boundary into the kit's error tree, keeping the
server's own message and code.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from .errors import (
    DirectusError,
    Forbidden,
    InvalidCredentials,
    ServerError,
    ServerUnreachable,
    SessionClosed,
    TokenExpired,
)

__all__ = ["DirectusRest", "Tokens", "encode_query"]

logger = logging.getLogger(__name__)

_TOKEN_CODES = {"TOKEN_EXPIRED", "INVALID_TOKEN"}


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


def encode_query(query: Mapping[str, Any]) -> dict[str, str]:
    """Turn a query mapping (``fields``, ``filter``, ``sort``, ``limit``...) into URL params.

    Lists become comma lists, mappings JSON, everything else ``str``.
    """
    params: dict[str, str] = {}
    for key, value in query.items():
        if isinstance(value, Mapping):
            params[key] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, Sequence) and not isinstance(value, str):
            params[key] = ",".join(str(item) for item in value)
        else:
            params[key] = str(value)
    return params


def _error_from_response(response: httpx.Response) -> DirectusError:
    message, code = f"HTTP {response.status_code}", None
    try:
        body = response.json()
        first = body["errors"][0]
        message = str(first.get("message") or message)
        code = first.get("extensions", {}).get("code")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        if response.text:
            message = f"{message}: {response.text[:200]}"
    if code == "INVALID_CREDENTIALS":
        return InvalidCredentials("Invalid email or password", code=code)
    if code in _TOKEN_CODES:
        return TokenExpired(message, code=code)
    if response.status_code == 403 or code == "FORBIDDEN":
        return Forbidden(message, code=code or "FORBIDDEN")
    if response.status_code == 401:
        return TokenExpired(message, code=code)
    return ServerError(message, code=code)


class DirectusRest:
    """An async REST client for one Directus server.

    Args:
        url: the Directus base URL.
        timeout: seconds for connect and read.
        client: an ``httpx.AsyncClient`` to use (its base URL is ignored); the
            caller then closes it.

    Use ``async with DirectusRest(url) as rest:`` or call :meth:`aclose`.
    """

    def __init__(
        self, url: str, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._closed = False

    async def __aenter__(self) -> DirectusRest:
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

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request and return the ``data`` member of the answer (None if empty).

        Raises:
            SessionClosed: this client was closed.
            ServerUnreachable: no connection, or no answer in time.
            InvalidCredentials, TokenExpired, Forbidden, ServerError: the server said no.
        """
        if self._closed:
            raise SessionClosed("this DirectusRest client is closed; make a new one")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            response = await self._client.request(
                method, f"{self.url}{path}", headers=headers, json=json, params=params
            )
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(f"Directus at {self.url} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach Directus at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            error = _error_from_response(response)
            logger.debug("%s %s -> %s (%s)", method, path, response.status_code, error.code)
            raise error
        if not response.content:
            return None
        try:
            return response.json().get("data")
        except ValueError as exc:
            raise ServerError(
                f"{method} {path} answered {response.status_code} with a body that is not JSON"
            ) from exc

    async def login(self, email: str, password: str) -> Tokens:
        """Log in with email and password.

        Raises:
            InvalidCredentials: wrong email or password.
            ServerUnreachable: the server does not answer.
        """
        data = await self.request(
            "POST", "/auth/login", json={"email": email, "password": password}
        )
        return _tokens(data)

    async def refresh(self, refresh_token: str) -> Tokens:
        """Trade a refresh token for new tokens; the old refresh token stops working.

        Raises:
            TokenExpired: the refresh token is expired, used or unknown.
        """
        try:
            data = await self.request(
                "POST", "/auth/refresh", json={"refresh_token": refresh_token, "mode": "json"}
            )
        except InvalidCredentials as exc:
            raise TokenExpired("the refresh token is no longer valid", code=exc.code) from exc
        return _tokens(data)

    async def logout(self, refresh_token: str) -> None:
        """End the login that ``refresh_token`` belongs to.

        Raises:
            ServerUnreachable: the server does not answer.
        """
        try:
            await self.request("POST", "/auth/logout", json={"refresh_token": refresh_token})
        except (InvalidCredentials, TokenExpired):
            logger.debug("logout: the refresh token was already invalid")

    async def me(
        self, access_token: str, fields: Sequence[str] = ("id", "first_name", "last_name", "email")
    ) -> dict[str, Any]:
        """The current user, with ``fields``.

        Raises:
            TokenExpired: the access token is no longer valid.
        """
        data = await self.request(
            "GET", "/users/me", token=access_token, params={"fields": ",".join(fields)}
        )
        return dict(data or {})

    async def read_items(
        self, collection: str, *, token: str | None, query: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Read items of ``collection`` with a Directus query (fields, filter, sort, limit).

        Raises:
            Forbidden: no read permission, or no such collection.
        """
        data = await self.request(
            "GET", f"/items/{collection}", token=token, params=encode_query(query or {})
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
