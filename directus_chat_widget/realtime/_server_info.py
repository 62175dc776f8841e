"""What ``/server/info`` tells a realtime client: the heartbeat period and the rate limit.

Parsing is pure (:func:`parse_server_info`); anything missing or malformed
means "not said", never a value made up.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

__all__ = ["ServerInfo", "parse_server_info"]


@dataclass(frozen=True)
class ServerInfo:
    """Attributes:
    heartbeat: seconds between the server's pings; None when off or not said.
    rate: the rate limit as ``(points, seconds)``; None when off or not said.
    """

    heartbeat: float | None = None
    rate: tuple[float, float] | None = None


def parse_server_info(info: Any) -> ServerInfo:
    """The realtime facts in a ``/server/info`` reply's ``data``."""
    if not isinstance(info, dict):
        return ServerInfo()
    heartbeat: float | None = None
    socket = info.get("websocket")
    if isinstance(socket, dict):
        beat = socket.get("heartbeat")
        if isinstance(beat, (int, float, str)) and not isinstance(beat, bool):
            with contextlib.suppress(ValueError):
                heartbeat = float(beat) or None
    rate: tuple[float, float] | None = None
    limit = info.get("rateLimit")
    if isinstance(limit, dict):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            points, duration = float(limit["points"]), float(limit["duration"])
            if points > 0 and duration > 0:
                rate = (points, duration)
    return ServerInfo(heartbeat, rate)
