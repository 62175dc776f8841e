"""Directus files over HTTP as one logged-in user: upload (``POST /files``) and download.

The kernel does both with the session's own access token, sent in a header:
a browser never sees a file URL, and never a token. A download is read in
chunks and given up past a limit, so a file someone uploaded around the chat
(straight to the REST API, as large as the server takes) cannot fill the
kernel's memory. An access token that expires between two requests is
refreshed once, through the session's credentials, and the request sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from ._rest_errors import error_from_response
from .errors import ServerError, ServerUnreachable, TokenExpired
from .rest import DirectusRest, Tokens

__all__ = ["FileClient", "FileTooLarge", "TokenSource"]

logger = logging.getLogger(__name__)

_CHUNK = 256 * 1024


class TokenSource(Protocol):
    """Where the current tokens come from (a session's ``Credentials``)."""

    async def fresh(self, stale: Tokens | None = None) -> Tokens: ...


class FileTooLarge(ServerError):
    """A download stopped at the limit: the file on the server is larger than allowed."""


class FileClient:
    """Uploads and downloads of Directus files, as the user ``tokens`` belong to.

    Args:
        rest: the session's REST client (its HTTP connections are reused).
        tokens: the session's credentials.
    """

    def __init__(self, rest: DirectusRest, tokens: TokenSource) -> None:
        self._rest = rest
        self._tokens = tokens

    async def upload(self, name: str, data: bytes, mime: str) -> dict[str, Any]:
        """Store ``data`` as a new file named ``name``; returns its row (``id``, ``type``...).

        Raises:
            Forbidden: the user may not upload (or not into the chat's folder).
            ServerError: refused (``CONTENT_TOO_LARGE`` over the server's own limit).
            ServerUnreachable, TokenExpired: as every request.
        """

        async def send(token: str) -> httpx.Response:
            return await self._rest.client.post(
                f"{self._rest.url}/files",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (name, data, mime)},
            )

        response = await self._authorised("POST /files", send)
        row = response.json().get("data") if response.content else None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise ServerError("the upload was stored, but the server did not say as what")
        logger.debug("uploaded %d bytes as file %s", len(data), row["id"])
        return row

    async def download(self, file_id: str, *, max_bytes: int) -> bytes:
        """The bytes of file ``file_id``, if it is no larger than ``max_bytes``.

        Raises:
            Forbidden: the user may not read it (or there is no such file).
            FileTooLarge: it is larger than ``max_bytes`` (nothing beyond is read).
            ServerUnreachable, TokenExpired, ServerError: as every request.
        """
        path = f"/assets/{quote(file_id, safe='')}"

        async def send(token: str) -> httpx.Response:
            request = self._rest.client.build_request(
                "GET", f"{self._rest.url}{path}", headers={"Authorization": f"Bearer {token}"}
            )
            response = await self._rest.client.send(request, stream=True)
            if response.status_code >= 400:
                await response.aread()
                await response.aclose()
            return response

        response = await self._authorised(f"GET {path}", send)
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise FileTooLarge(f"file {file_id} is {int(declared):,} bytes: over {max_bytes:,}")
            received = bytearray()
            async for chunk in response.aiter_bytes(_CHUNK):
                received += chunk
                if len(received) > max_bytes:
                    raise FileTooLarge(f"file {file_id} is over {max_bytes:,} bytes")
            return bytes(received)
        except httpx.HTTPError as exc:
            raise ServerUnreachable(f"the download of file {file_id} broke off: {exc}") from exc
        finally:
            await response.aclose()

    async def _authorised(
        self, what: str, send: Callable[[str], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        """``send(token)``, and once more with refreshed tokens if the server says expired."""
        tokens = await self._tokens.fresh()
        for attempt in (1, 2):
            try:
                response = await send(tokens.access_token)
            except httpx.TimeoutException as exc:
                raise ServerUnreachable(f"{what} on {self._rest.url} timed out") from exc
            except httpx.HTTPError as exc:
                raise ServerUnreachable(f"{what} on {self._rest.url} failed: {exc}") from exc
            logger.debug("%s -> %s", what, response.status_code)
            if response.status_code < 400:
                return response
            error = error_from_response(response, with_token=True)
            if isinstance(error, TokenExpired) and attempt == 1:
                tokens = await self._tokens.fresh(tokens)
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover
