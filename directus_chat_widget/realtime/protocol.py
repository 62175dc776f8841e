"""The Directus realtime protocol as data: frame builders here, the parser in
:mod:`.frames` (re-exported). No I/O.

Builders return plain dicts (``encode`` turns one into the JSON text to send);
:func:`parse` turns whatever arrived on the socket into one small frozen
dataclass and never raises: text that is not JSON, JSON that is not an object,
a missing ``type`` or a field of the wrong type all come back as a
:class:`MalformedFrame`, a ``type`` this module does not know as an
:class:`UnknownFrame`. The session decides what to do with each.

Facts about the server this module encodes (Directus 11.17, see
``shared/design/directus-realtime.md`` and the server's ``websocket/`` code):

- Errors look like ``{"type": T, "status": "error", "error": {"code", "message"}}``.
  Directus puts the request's ``uid`` on errors it raises itself
  (``INVALID_COLLECTION``, ``AUTH_FAILED`` for a re-auth) but *not* on errors
  raised by its services (``FORBIDDEN``, ``RECORD_NOT_UNIQUE``...), nor on
  ``TOKEN_EXPIRED`` or ``REQUESTS_EXCEEDED``: ``uid`` is optional everywhere.
- A ``uid`` may be a string or a number; it is normalised to ``str`` here.
- Subscription events carry a list in ``data``; a delete carries ids only.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from .frames import (
    EVENTS,
    AuthFailed,
    AuthOk,
    Event,
    Frame,
    ItemsError,
    ItemsReply,
    Key,
    MalformedFrame,
    Ping,
    Pong,
    Row,
    ServerErrorFrame,
    SubscriptionError,
    SubscriptionEvent,
    SubscriptionInit,
    UnknownFrame,
    Unsubscribed,
    parse,
)

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
    "after_id_query",
    "among_ids_query",
    "auth_access_token",
    "auth_credentials",
    "auth_refresh_token",
    "changed_since_query",
    "encode",
    "items",
    "jwt_expiry",
    "new_uid",
    "parse",
    "ping",
    "pong",
    "subscribe",
    "unsubscribe",
]

Action: TypeAlias = Literal["create", "read", "update", "delete"]

_ACTIONS: tuple[Action, ...] = ("create", "read", "update", "delete")


# -- builders ---------------------------------------------------------------


def new_uid() -> str:
    """A fresh request id: the server generates none, and echoes ours on replies."""
    return str(uuid.uuid4())


def _with_uid(frame: dict[str, Any], uid: str | None) -> dict[str, Any]:
    if uid is not None:
        frame["uid"] = uid
    return frame


def auth_access_token(token: str, uid: str | None = None) -> dict[str, Any]:
    """Authenticate the socket with an access token (milliseconds: no password hash)."""
    return _with_uid({"type": "auth", "access_token": token}, uid)


def auth_refresh_token(refresh_token: str, uid: str | None = None) -> dict[str, Any]:
    """Authenticate with a refresh token; the reply carries a new one (they rotate)."""
    return _with_uid({"type": "auth", "refresh_token": refresh_token}, uid)


def auth_credentials(email: str, password: str, uid: str | None = None) -> dict[str, Any]:
    """Authenticate with email and password (an argon2 hash on the server: slow).

    Kept for comparison (the tutorial's flow); the session logs in over REST
    once and uses :func:`auth_access_token`.
    """
    return _with_uid({"type": "auth", "email": email, "password": password}, uid)


def subscribe(
    collection: str,
    uid: str,
    *,
    event: Event | None = None,
    query: Mapping[str, Any] | None = None,
    item: Key | None = None,
) -> dict[str, Any]:
    """Subscribe to changes of ``collection``; reusing a ``uid`` replaces that subscription.

    Without ``event`` the first reply (``init``) carries the current rows, as a
    read with ``query`` would (default limit 100).

    Raises:
        ValueError: ``event`` is not create, update or delete.
    """
    if event is not None and event not in EVENTS:
        raise ValueError(f"event must be one of {EVENTS}, got {event!r}")
    frame: dict[str, Any] = {"type": "subscribe", "collection": collection, "uid": uid}
    if event is not None:
        frame["event"] = event
    if query is not None:
        frame["query"] = dict(query)
    if item is not None:
        frame["item"] = item
    return frame


def unsubscribe(uid: str) -> dict[str, Any]:
    """End the subscription registered under ``uid``."""
    return {"type": "unsubscribe", "uid": uid}


def items(
    collection: str,
    action: Action,
    uid: str,
    data: Any = None,
    query: Mapping[str, Any] | None = None,
    id: Key | None = None,
    ids: Sequence[Key] | None = None,
) -> dict[str, Any]:
    """An items request (create, read, update, delete); the reply echoes ``uid``.

    Raises:
        ValueError: unknown ``action``, or a create/update without ``data``.
    """
    if action not in _ACTIONS:
        raise ValueError(f"action must be one of {_ACTIONS}, got {action!r}")
    if action in ("create", "update") and data is None:
        raise ValueError(f"items/{action} needs data")
    frame: dict[str, Any] = {"type": "items", "collection": collection, "action": action}
    if data is not None:
        frame["data"] = data
    if query is not None:
        frame["query"] = dict(query)
    if id is not None:
        frame["id"] = id
    if ids is not None:
        frame["ids"] = list(ids)
    frame["uid"] = uid
    return frame


def ping(uid: str | None = None) -> dict[str, Any]:
    """A liveness probe; the server answers ``pong`` with the same uid (heartbeat enabled)."""
    return _with_uid({"type": "ping"}, uid)


def pong() -> dict[str, Any]:
    """The answer to the server's heartbeat ``ping``."""
    return {"type": "pong"}


def encode(frame: Mapping[str, Any]) -> str:
    """The JSON text for one frame (compact; non-ASCII kept as is).

    Raises:
        ValueError: the frame holds what JSON cannot (a set, NaN...) or text
            that is not valid Unicode (a lone surrogate such as ``"\\ud800"``,
            which the websocket could not send as UTF-8).
    """
    try:
        text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the frame cannot be written as JSON: {exc}") from exc
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = text[exc.start : exc.end].encode("unicode_escape").decode("ascii")
            raise ValueError(
                f"the frame holds text that is not valid Unicode ({bad}, a lone surrogate)"
            ) from exc
    return text


def after_id_query(
    query: Mapping[str, Any] | None, after: int, *, limit: int, field_name: str = "id"
) -> dict[str, Any]:
    """``query`` narrowed to rows with ``field_name > after``, oldest first, at most ``limit``.

    Used to read what a subscription missed while the socket was down: the
    caller's own filter is kept (combined with ``_and``) so the backfill shows
    exactly what the subscription would have shown.
    """
    narrowed: dict[str, Any] = {
        key: value for key, value in (query or {}).items() if key not in ("offset", "page")
    }
    bound = {field_name: {"_gt": after}}
    existing = narrowed.get("filter")
    narrowed["filter"] = {"_and": [existing, bound]} if existing else bound
    narrowed["sort"] = [field_name]
    narrowed["limit"] = limit
    return narrowed


def changed_since_query(
    query: Mapping[str, Any] | None, field_name: str, since: str | None, *, limit: int
) -> dict[str, Any]:
    """``query`` narrowed to rows whose ``field_name`` (a timestamp) is after ``since``.

    Oldest change first, at most ``limit``; ``since`` None means every row that
    ever changed. Used to read back the updates a subscription missed.
    """
    narrowed: dict[str, Any] = {
        key: value for key, value in (query or {}).items() if key not in ("offset", "page")
    }
    bound = {field_name: {"_gt": since} if since is not None else {"_nnull": True}}
    existing = narrowed.get("filter")
    narrowed["filter"] = {"_and": [existing, bound]} if existing else bound
    narrowed["sort"] = [field_name, "id"]
    narrowed["limit"] = limit
    return narrowed


def among_ids_query(query: Mapping[str, Any] | None, ids: Sequence[Key]) -> dict[str, Any]:
    """Which of ``ids`` the subscription's filter still finds (ids only)."""
    bound = {"id": {"_in": list(ids)}}
    existing = (query or {}).get("filter")
    return {
        "fields": ["id"],
        "filter": {"_and": [existing, bound]} if existing else bound,
        "limit": len(ids),
    }


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, read without verifying it.

    The server schedules ``TOKEN_EXPIRED`` from this very claim, which is whole
    seconds, so it can fall up to a second before ``login time + expires``.
    Returns None for anything that is not a JWT with a numeric ``exp``.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp)
