"""Showing the frames on a session's socket, for learning and debugging (``frames=True``).

``RealtimeSession(..., frames=True)`` prints every frame its socket sends
(``→``) and receives (``←``), one line each, as the JSON Directus sees, with
every secret masked: the value of any key that names a token, password or
secret (``access_token``, ``refresh_token``, ``password``...) and anything
shaped like a JWT, wherever it appears. A long ``data`` list is shortened to
its first rows and a count. ``frames="ada"`` puts a label in front of each
line; ``frames=callable`` hands each line to that callable instead of printing
(a logger's ``debug``, a list's ``append``); ``frames=FrameLog()`` prints them
and keeps them, so a notebook can check what went over the wire.

The frames are printed by the session's background tasks. Jupyter files the
output of a task under the cell that started it (the login's), so they are
printed outside any task's context, where it files them under the cell that
runs now: a cell that sends and awaits shows its own frames.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from websockets.asyncio.client import ClientConnection

__all__ = ["MASK", "FrameLog", "FrameSink", "FrameTap", "describe", "mask_secrets", "tap_for"]

logger = logging.getLogger(__name__)

FrameSink = Callable[[str], None]

MASK = "***"
SENT, RECEIVED = "→", "←"
# Keys whose values are secrets, whatever the nesting: access_token, refresh_token,
# token, password, secret, tfa_secret...
_SECRET_KEY = re.compile(r"token|password|secret", re.IGNORECASE)
# A JWT (header.payload.signature; the header is base64 of '{"'), anywhere in a string.
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")
# Rows of a long `data` list shown before the count of the rest.
_ROWS_SHOWN = 2


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` (JSON data) with every secret replaced by ``***``."""
    if isinstance(value, dict):
        return {
            key: MASK if _SECRET_KEY.search(str(key)) and item else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return _JWT.sub(MASK, value)
    return value


def _shortened(frame: Any) -> Any:
    if isinstance(frame, dict) and isinstance(frame.get("data"), list):
        rows = frame["data"]
        if len(rows) > _ROWS_SHOWN + 1:
            more = f"… {len(rows) - _ROWS_SHOWN} more"
            return {**frame, "data": [*rows[:_ROWS_SHOWN], more]}
    return frame


def describe(raw: str | bytes, *, shorten: bool = True) -> str:
    """One frame as a line of JSON with its secrets masked (text that is not JSON: masked too)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    try:
        frame = json.loads(text)
    except ValueError:
        return _JWT.sub(MASK, text)
    frame = mask_secrets(frame)
    return json.dumps(_shortened(frame) if shorten else frame, ensure_ascii=False)


def _print_in_the_running_cell(line: str) -> None:
    # An empty context: no parent message inherited from the task that logged in.
    contextvars.Context().run(print, line)


class FrameLog:
    """A ``frames=`` sink that prints each line (unless ``echo`` is False) and keeps it.

    :meth:`sent` and :meth:`received` give the frames back as dicts, masked and
    shortened as shown, for a check of what went over the wire.
    """

    def __init__(self, label: str = "", *, echo: bool = True) -> None:
        self.prefix = f"{label} " if label else ""
        self.echo = echo
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if self.echo:
            _print_in_the_running_cell(self.prefix + line)

    def sent(self) -> list[dict[str, Any]]:
        """The frames sent so far, oldest first."""
        return self._frames(SENT)

    def received(self) -> list[dict[str, Any]]:
        """The frames received so far, oldest first."""
        return self._frames(RECEIVED)

    def _frames(self, direction: str) -> list[dict[str, Any]]:
        found = []
        for line in self.lines:
            arrow, _, text = line.partition(" ")
            if arrow == direction:
                with contextlib.suppress(ValueError):
                    frame = json.loads(text)
                    found.append(frame if isinstance(frame, dict) else {"data": frame})
        return found


class FrameTap:
    """Where a session's frames are shown: a sink and an optional label."""

    def __init__(self, sink: FrameSink = _print_in_the_running_cell, label: str = "") -> None:
        self.sink = sink
        self.prefix = f"{label} " if label else ""

    def show(self, direction: str, raw: str | bytes) -> None:
        """Hand one frame to the sink; a sink that fails is logged, never raised."""
        try:
            self.sink(f"{self.prefix}{direction} {describe(raw)}")
        except Exception:
            logger.exception("showing a frame failed")

    def wrap(self, ws: ClientConnection) -> ClientConnection:
        """``ws``, with every frame it sends and receives shown."""
        return cast(ClientConnection, _TappedSocket(ws, self))


def tap_for(frames: bool | str | FrameSink) -> FrameTap | None:
    """The tap a session's ``frames=`` argument asks for (None: frames are not shown)."""
    if frames is False or frames is None:
        return None
    if frames is True:
        return FrameTap()
    if isinstance(frames, str):
        return FrameTap(label=frames)
    if callable(frames):
        return FrameTap(frames)
    raise TypeError(f"frames= takes True, a label or a callable, not {type(frames).__name__}")


class _TappedSocket:
    """A websocket connection that shows its frames; everything else is the connection's."""

    def __init__(self, ws: ClientConnection, tap: FrameTap) -> None:
        self._ws = ws
        self._tap = tap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    async def send(self, message: str | bytes, *args: Any, **kwargs: Any) -> None:
        self._tap.show(SENT, message)
        await self._ws.send(message, *args, **kwargs)

    async def recv(self, *args: Any, **kwargs: Any) -> str | bytes:
        message: str | bytes = await self._ws.recv(*args, **kwargs)
        self._tap.show(RECEIVED, message)
        return message

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        async for message in self._ws:
            self._tap.show(RECEIVED, message)
            yield message
