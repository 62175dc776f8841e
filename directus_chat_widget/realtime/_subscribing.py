"""Starting and ending a subscription on the session's socket.

A new subscription is registered before its frame goes out (events may come
right after the reply), learns what it counts from for a backfill
(:func:`._backfill.note_marks`), and is forgotten again, on the server too, if
any of that fails.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..errors import DirectusError
from . import _backfill, protocol
from ._connection import Connection
from .state import SessionState
from .subscription import Subscription, with_id_field

__all__ = ["start_subscription"]

logger = logging.getLogger(__name__)


async def start_subscription(
    conn: Connection,
    collection: str,
    *,
    query: Mapping[str, Any] | None,
    event: protocol.Event | None,
    since: int | None,
) -> Subscription:
    """Subscribe on ``conn``; see :meth:`RealtimeSession.subscribe`."""

    async def forget(sub: Subscription) -> None:
        conn.subscriptions.pop(sub.uid, None)
        if conn.link is not None and conn.state.now not in (
            SessionState.CLOSED,
            SessionState.GAVE_UP,
        ):
            await conn.wire.request(protocol.unsubscribe(sub.uid), "unsubscribe")

    sub = Subscription(
        protocol.new_uid(), collection, query=with_id_field(query), event=event, unsubscribe=forget
    )
    conn.subscriptions[sub.uid] = sub
    try:
        frame = protocol.subscribe(collection, sub.uid, event=event, query=sub.query)
        init = await conn.wire.request(frame, "subscribe")
        sub.active = True
        sub.initial = init.data if isinstance(init, protocol.SubscriptionInit) else None
        await _backfill.note_marks(conn, sub, since)
    except BaseException:
        conn.subscriptions.pop(sub.uid, None)
        was_active = sub.active
        sub.close()
        if was_active and conn.state.now is SessionState.READY:
            conn.spawn(_unsubscribe_quietly(conn, sub.uid))
        raise
    return sub


async def _unsubscribe_quietly(conn: Connection, uid: str) -> None:
    try:
        await conn.wire.request(protocol.unsubscribe(uid), "unsubscribe")
    except DirectusError as exc:
        logger.debug("unsubscribe %s failed: %s", uid, exc)
