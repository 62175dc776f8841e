"""What a websocket close code means for the session. Pure: no I/O, no clock.

Directus (and proxies in front of it) end a socket with a close code:

- 1000 (normal) and 1001 (going away: a restart): no fault; connect again.
- 1008 (policy violation) and 4000-4999 (application codes, which Directus
  and gateways use for authentication): the login is refused. Log in again
  once with fresh tokens; if the next socket is refused too before it could
  settle, give up and say why: retrying cannot help.
- Anything else (1005 no status, 1006 abnormal, 1011 server error...):
  transient; back off and connect again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CloseKind", "SocketClosed", "classify", "describe"]

CloseKind = Literal["normal", "auth", "transient"]


def classify(code: int | None) -> CloseKind:
    """The kind of a close code (None: no close frame at all, a dropped socket)."""
    if code in (1000, 1001):
        return "normal"
    if code == 1008 or (code is not None and 4000 <= code <= 4999):
        return "auth"
    return "transient"


def describe(code: int | None, reason: str) -> str:
    """One line for people: ``closed by the server with 1008 (policy says no)``."""
    if code is None:
        return "the connection dropped without a close frame"
    said = f" ({reason})" if reason else ""
    return f"the server closed the connection with {code}{said}"


@dataclass(frozen=True)
class SocketClosed:
    """How the server ended one socket: its code, its reason, and their kind."""

    code: int | None
    reason: str = ""

    @property
    def kind(self) -> CloseKind:
        return classify(self.code)

    def __str__(self) -> str:
        return describe(self.code, self.reason)
