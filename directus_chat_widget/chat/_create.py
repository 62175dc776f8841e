"""Storing one send exactly once, however often it is tried. Used by ChatRoom.send/retry.

:func:`deliver` is a send's whole way: the create, then the store settled
(SENT, or FAILED with the reason), whatever ends it.

Every try of one send carries the same client uid (in the session's dedupe
field, when the collection has one): a try whose reply was lost may have been
stored, and the server's unique constraint then refuses the copy, which is
read back instead.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..errors import DirectusError
from ._ports import SessionLike
from .message import MESSAGE_FIELDS, ChatMessage, StoreChange
from .store import MessageStore

__all__ = ["create_once", "deliver"]

logger = logging.getLogger(__name__)


async def create_once(
    session: SessionLike,
    collection: str,
    key: str,
    data: dict[str, Any],
    uids: dict[str, str],
) -> dict[str, Any]:
    """Create the row for send ``key``; a duplicate of an earlier try is read back.

    Args:
        data: the row's fields (``content``, and ``room`` when there are rooms).
        uids: the client uid of each unsettled send, by key (one is added for
            ``key`` if the collection has a dedupe field).

    Raises:
        DirectusError: the create failed (and no earlier try was stored).
    """
    data = dict(data)
    field = _dedupe_field(session, collection)
    if field is None:
        return await session.create(data, collection=collection)
    uid = data[field] = uids.setdefault(key, str(uuid.uuid4()))
    try:
        return await session.create(data, collection=collection)
    except DirectusError as exc:
        # Directus refuses a second row with this uid: an earlier try was
        # stored after all (its reply was lost). RealtimeSession already
        # answers with that row; this covers any session that does not.
        if exc.code != "RECORD_NOT_UNIQUE":
            raise
        query = {"filter": {field: {"_eq": uid}}, "fields": list(MESSAGE_FIELDS), "limit": 1}
        try:
            rows = await session.read(collection, query)
        except DirectusError as lookup_exc:
            raise exc from lookup_exc
        if not rows:
            raise
        logger.info("send %s was stored by an earlier try: row %s", key, rows[0].get("id"))
        return rows[0]


def _dedupe_field(session: SessionLike, collection: str) -> str | None:
    # Optional in SessionLike: a session without it gets no client uid.
    field_for = getattr(session, "dedupe_field_for", None)
    if field_for is None:
        return None
    field = field_for(collection)
    return field if isinstance(field, str) and field else None


async def deliver(
    session: SessionLike,
    collection: str,
    store: MessageStore,
    emit: Callable[[StoreChange], None],
    key: str,
    data: dict[str, Any],
    uids: dict[str, str],
    *,
    extra: Callable[[], Awaitable[Mapping[str, Any]]] | None = None,
    on_stored: Callable[[], None] | None = None,
) -> ChatMessage:
    """Create the row of the send ``key`` and settle its entry in ``store``.

    ``extra`` gives more fields just before the create (a post's file, uploaded
    then: a failed upload fails the entry like a failed create); ``on_stored``
    is told once the row is stored.

    Returns:
        the message once settled: SENT, or FAILED with the server's error.

    Raises:
        CancelledError (the entry is FAILED first), or a bug below (likewise).
    """
    try:
        if extra is not None:
            data = {**data, **await extra()}
        row = await create_once(session, collection, key, data, uids)
    except DirectusError as exc:
        logger.info("send %s failed: %s", key, exc)
        emit(store.fail(key, str(exc) or type(exc).__name__))
    except BaseException as exc:
        # Cancelled, or a bug below us: never leave the entry pending forever.
        reason = "send cancelled" if isinstance(exc, asyncio.CancelledError) else repr(exc)
        if store.get(key) is not None:
            emit(store.fail(key, reason))
        raise
    else:
        uids.pop(key, None)
        if on_stored is not None:
            on_stored()
        if store.get(key) is not None:
            emit(store.confirm(key, row))
        else:  # discarded meanwhile: the server has it all the same
            emit(store.add_rows([row]))
    message = store.get(key)
    if message is not None:
        return message
    # The entry gave way to the copy its event had already put in the list.
    found = store.by_id(row["id"]) if isinstance(row.get("id"), int) else None
    if found is None:
        raise RuntimeError(f"send {key} settled but its message is not in the list")
    return found
