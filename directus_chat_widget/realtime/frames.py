"""Frames as data: what can arrive on a Directus realtime socket, and :func:`parse`.

:func:`parse` turns whatever arrived into one small frozen dataclass and never
raises: text that is not JSON, JSON that is not an object, a missing ``type`` or
a field of the wrong type all come back as a :class:`MalformedFrame`, a
``type`` this module does not know as an :class:`UnknownFrame`. Re-exported by
:mod:`.protocol`, which builds the frames we send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "EVENTS",
    "AuthFailed",
    "AuthOk",
    "Event",
    "Frame",
    "ItemsError",
    "ItemsReply",
    "Key",
    "MalformedFrame",
    "Ping",
    "Pong",
    "Row",
    "ServerErrorFrame",
    "SubscriptionError",
    "SubscriptionEvent",
    "SubscriptionInit",
    "UnknownFrame",
    "Unsubscribed",
    "parse",
]

Event: TypeAlias = Literal["create", "update", "delete"]
Key: TypeAlias = "int | str"
Row: TypeAlias = "dict[str, Any]"

EVENTS: tuple[Event, ...] = ("create", "update", "delete")

# "Too many messages, retry after 734ms." (REQUESTS_EXCEEDED)
_RETRY_AFTER = re.compile(r"retry after (\d+(?:\.\d+)?)\s*ms", re.IGNORECASE)


# -- frames -----------------------------------------------------------------


@dataclass(frozen=True)
class AuthOk:
    """``auth ok``. After a refresh-token auth it carries the new refresh token."""

    uid: str | None = None
    refresh_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AuthFailed:
    """An ``auth`` error: ``AUTH_FAILED``, ``TOKEN_EXPIRED`` or ``AUTH_TIMEOUT``.

    On ``TOKEN_EXPIRED`` the socket stays open but acts as the public role.
    """

    code: str
    message: str
    uid: str | None = None

    @property
    def token_expired(self) -> bool:
        return self.code == "TOKEN_EXPIRED"


@dataclass(frozen=True)
class SubscriptionInit:
    """The first reply to a subscribe; ``data`` holds the rows when no event filter was set."""

    uid: str | None
    data: tuple[Row, ...] | None = None


@dataclass(frozen=True)
class SubscriptionEvent:
    """A change on a subscribed collection.

    Attributes:
        event: ``create``, ``update`` or ``delete``.
        data: the rows as the subscriber may read them (empty for a delete).
        keys: the primary keys concerned: the ids of a delete, the ``id`` of
            each row otherwise (rows without an ``id`` add nothing).
        replayed: False for what the server sent live; True for rows the
            session read back after a reconnect (never set by :func:`parse`).
    """

    uid: str | None
    event: Event
    data: tuple[Row, ...] = ()
    keys: tuple[Key, ...] = ()
    replayed: bool = False


@dataclass(frozen=True)
class Unsubscribed:
    """The reply to an unsubscribe."""

    uid: str | None


@dataclass(frozen=True)
class SubscriptionError:
    """A ``subscribe``/``unsubscribe`` error (uid absent for per-event FORBIDDEN)."""

    code: str
    message: str
    uid: str | None = None


@dataclass(frozen=True)
class ItemsReply:
    """The answer to an items request: a row, a list of rows, or an id."""

    uid: str | None
    data: Any = None
    meta: dict[str, Any] | None = None


@dataclass(frozen=True)
class ItemsError:
    """An items error; ``uid`` is absent when a Directus service raised it (FORBIDDEN...)."""

    code: str
    message: str
    uid: str | None = None


@dataclass(frozen=True)
class Ping:
    """The server's heartbeat: answer with :func:`pong`."""

    uid: str | None = None


@dataclass(frozen=True)
class Pong:
    """The answer to our :func:`ping` (uid echoed)."""

    uid: str | None = None


@dataclass(frozen=True)
class ServerErrorFrame:
    """Any other error: ``INVALID_PAYLOAD``, ``REQUESTS_EXCEEDED``...

    Attributes:
        scope: the frame's ``type`` (``server`` for most).
    """

    code: str
    message: str
    uid: str | None = None
    scope: str = "server"

    @property
    def rate_limited(self) -> bool:
        return self.code == "REQUESTS_EXCEEDED"

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asks us to wait (REQUESTS_EXCEEDED), if it said."""
        found = _RETRY_AFTER.search(self.message)
        return float(found.group(1)) / 1000 if found else None


@dataclass(frozen=True)
class UnknownFrame:
    """A well-formed frame of a ``type`` (or subscription event) this module does not know."""

    type: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class MalformedFrame:
    """Something that is not a valid frame; ``reason`` says why."""

    reason: str
    raw: str = field(repr=False)


Frame: TypeAlias = (
    "AuthOk | AuthFailed | SubscriptionInit | SubscriptionEvent | Unsubscribed"
    " | SubscriptionError | ItemsReply | ItemsError | Ping | Pong | ServerErrorFrame"
    " | UnknownFrame | MalformedFrame"
)


# -- parser -----------------------------------------------------------------


class _Bad(Exception):
    """A field of the wrong type: becomes a MalformedFrame (never leaves this module)."""


def _uid(body: Mapping[str, Any]) -> str | None:
    value = body.get("uid")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(f"uid must be a string or a number, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _error(body: Mapping[str, Any]) -> tuple[str, str]:
    error = body.get("error")
    if not isinstance(error, Mapping):
        raise _Bad("an error frame needs an 'error' object")
    code, message = error.get("code", "UNKNOWN"), error.get("message", "")
    if not isinstance(code, str) or not isinstance(message, str):
        raise _Bad("error.code and error.message must be strings")
    return code, message


def _rows(value: Any, what: str) -> tuple[Row, ...]:
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
        raise _Bad(f"{what} must be a list of objects")
    return tuple(dict(row) for row in value)


def _key(value: Any) -> Key:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Bad(f"a key must be an integer or a string, got {type(value).__name__}")
    return value


def _subscription(body: Mapping[str, Any], uid: str | None) -> Frame:
    event = body.get("event")
    if not isinstance(event, str):
        raise _Bad("a subscription frame needs a string 'event'")
    if event == "init":
        data = body.get("data")
        return SubscriptionInit(uid, None if data is None else _rows(data, "init data"))
    if event == "unsubscribe":
        return Unsubscribed(uid)
    if event == "delete":
        raw = body.get("data", [])
        ids = raw if isinstance(raw, list) else [raw]
        return SubscriptionEvent(uid, "delete", (), tuple(_key(one) for one in ids))
    if event in ("create", "update"):
        rows = _rows(body.get("data", []), f"{event} data")
        keys = tuple(_key(row["id"]) for row in rows if row.get("id") is not None)
        return SubscriptionEvent(uid, "create" if event == "create" else "update", rows, keys)
    return UnknownFrame(f"subscription/{event}", dict(body))


def _frame(body: Mapping[str, Any], raw: str) -> Frame:
    kind = body.get("type")
    if not isinstance(kind, str):
        return MalformedFrame("no string 'type'", raw)
    uid = _uid(body)
    if body.get("status") == "error":
        code, message = _error(body)
        if kind == "auth":
            return AuthFailed(code, message, uid)
        if kind in ("subscribe", "subscription", "unsubscribe"):
            return SubscriptionError(code, message, uid)
        if kind == "items":
            return ItemsError(code, message, uid)
        return ServerErrorFrame(code, message, uid, kind)
    if kind == "auth":
        token = body.get("refresh_token")
        if token is not None and not isinstance(token, str):
            raise _Bad("refresh_token must be a string")
        if body.get("status") != "ok":
            return UnknownFrame("auth", dict(body))
        return AuthOk(uid, token)
    if kind == "subscription":
        return _subscription(body, uid)
    if kind == "items":
        meta = body.get("meta")
        if meta is not None and not isinstance(meta, Mapping):
            raise _Bad("meta must be an object")
        return ItemsReply(uid, body.get("data"), None if meta is None else dict(meta))
    if kind == "ping":
        return Ping(uid)
    if kind == "pong":
        return Pong(uid)
    return UnknownFrame(kind, dict(body))


def parse(raw: str | bytes | bytearray) -> Frame:
    """Turn one received message into a frame. Never raises.

    Returns :class:`MalformedFrame` for bytes that are not UTF-8, text that is
    not JSON, JSON that is not an object, or a known frame with a field of the
    wrong type; :class:`UnknownFrame` for a ``type`` this module does not know.
    """
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return MalformedFrame("not UTF-8", repr(bytes(raw)[:200]))
    else:
        text = raw
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return MalformedFrame("not JSON", text)
    if not isinstance(body, dict):
        return MalformedFrame(f"JSON {type(body).__name__}, not an object", text)
    try:
        return _frame(body, text)
    except _Bad as exc:
        return MalformedFrame(str(exc), text)
