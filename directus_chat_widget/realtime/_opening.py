"""Opening a websocket to Directus and its auth handshake, with clear errors.

The keepalive of the websockets library is off: Directus does not answer
protocol pings (its heartbeat is JSON ``ping``/``pong``), and with the
library's default the link is closed after 40 s (measured). Nothing is sent
after the auth frame until ``auth ok`` comes: what is sent before is lost.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..errors import AuthError, ServerUnreachable, error_for
from . import protocol
from ._closing import SocketClosed
from ._link import Link
from ._tap import FrameTap

__all__ = ["handshake", "open_socket"]

# The largest frame taken from the server (a big history page fits).
_MAX_FRAME = 2**27


async def open_socket(url: str, timeout: float, tap: FrameTap | None = None) -> ClientConnection:
    """Open the websocket at ``url`` (its frames shown through ``tap``, if given).

    Raises:
        ServerUnreachable: no connection within ``timeout`` seconds, or a bad URL.
    """
    try:
        ws = await connect(
            url,
            ping_interval=None,
            open_timeout=timeout,
            close_timeout=2.0,
            max_size=_MAX_FRAME,
        )
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        raise ServerUnreachable(
            f"cannot open the websocket {url}: {exc or type(exc).__name__}"
        ) from exc
    except InvalidURI as exc:
        raise ServerUnreachable(f"bad websocket URL {url}: {exc}") from exc
    return ws if tap is None else tap.wrap(ws)


async def handshake(link: Link, access_token: str, timeout: float) -> None:
    """Send the auth frame and wait for its answer; the server's pings are answered.

    Raises:
        AuthError, TokenExpired: the server refused the token (or closed as an auth refusal).
        ServerUnreachable: no answer within ``timeout`` seconds, or the socket closed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        await link.ws.send(protocol.encode(protocol.auth_access_token(access_token)))
        while True:
            raw = await asyncio.wait_for(link.ws.recv(), max(0.0, deadline - loop.time()))
            link.last_rx = loop.time()
            frame = protocol.parse(raw)
            if isinstance(frame, protocol.AuthOk):
                return
            if isinstance(frame, protocol.AuthFailed):
                raise error_for(frame.code, frame.message, "websocket authentication")
            if isinstance(frame, protocol.Ping):
                await link.ws.send(protocol.encode(protocol.pong()))
    except TimeoutError as exc:
        raise ServerUnreachable(f"no answer to the websocket auth within {timeout:.0f} s") from exc
    except ConnectionClosed as exc:
        closed = SocketClosed(exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else None
        if closed is not None and closed.kind == "auth":
            raise AuthError(f"{closed} during auth", code=f"CLOSE_{closed.code}") from exc
        raise ServerUnreachable(f"the websocket closed during auth ({exc})") from exc
