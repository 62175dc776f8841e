"""Reading back what a subscription missed: creates above its floor, changes since
its newest ``date_updated``, and which rows its listener shows are gone.

Each is delivered as its own kind (``create``, ``update``, ``delete``), marked
``replayed``, through the subscription's de-duplication. Run while the
session is restoring (nothing else is sent) or, after a token renewal, beside
the writer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..errors import Forbidden, ServerError
from . import protocol
from .subscription import UPDATED_FIELD, Subscription

if TYPE_CHECKING:
    from ._connection import Connection
    from ._link import Link

__all__ = [
    "backfill",
    "backfill_deletes",
    "backfill_updates",
    "highest_id",
    "highest_updated",
    "note_marks",
]

logger = logging.getLogger(__name__)

_BACKFILL_PAGE = 200


async def backfill(
    conn: Connection, link: Link, sub: Subscription, floor: int | None = None
) -> None:
    """Deliver the rows above ``floor`` (default: the subscription's own) as replayed creates."""
    if floor is None:
        floor = sub.marks.floor
    while floor is not None:
        query = protocol.after_id_query(sub.query, floor, limit=_BACKFILL_PAGE)
        frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
        answer = await conn.wire.control(link, frame, "items:read")
        rows = [r for r in answer or [] if isinstance(r, dict)]
        keys = tuple(r["id"] for r in rows if isinstance(r.get("id"), int))
        if rows:
            conn.stats["rows_backfilled"] += len(rows)
            conn.known.note_ids(sub.collection, keys)
            sub.deliver(
                protocol.SubscriptionEvent(sub.uid, "create", tuple(rows), keys, replayed=True)
            )
        if len(rows) < _BACKFILL_PAGE or not keys:
            return
        floor = max(keys)


async def backfill_updates(conn: Connection, link: Link, sub: Subscription) -> None:
    """Deliver rows changed since the newest change the subscription saw, as replayed updates."""
    since = sub.marks.updated_mark
    while True:
        query = protocol.changed_since_query(sub.query, UPDATED_FIELD, since, limit=_BACKFILL_PAGE)
        frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
        answer = await conn.wire.control(link, frame, "items:read")
        rows = [r for r in answer or [] if isinstance(r, dict)]
        stamps = [r[UPDATED_FIELD] for r in rows if isinstance(r.get(UPDATED_FIELD), str)]
        if rows:
            conn.stats["updates_backfilled"] += len(rows)
            keys = tuple(r["id"] for r in rows if r.get("id") is not None)
            sub.deliver(
                protocol.SubscriptionEvent(sub.uid, "update", tuple(rows), keys, replayed=True)
            )
        if len(rows) < _BACKFILL_PAGE or not stamps or max(stamps) == since:
            return
        since = max(stamps)


async def backfill_deletes(conn: Connection, link: Link, sub: Subscription) -> None:
    """Deliver, as replayed deletes, the known rows the server no longer has (or shows)."""
    known = sub.known_ids()
    gone: list[Any] = []
    for start in range(0, len(known), _BACKFILL_PAGE):
        chunk = known[start : start + _BACKFILL_PAGE]
        query = protocol.among_ids_query(sub.query, chunk)
        frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
        answer = await conn.wire.control(link, frame, "items:read")
        found = {r.get("id") for r in answer or [] if isinstance(r, dict)}
        gone.extend(key for key in chunk if key not in found)
    if gone:
        conn.stats["deletes_backfilled"] += len(gone)
        sub.deliver(protocol.SubscriptionEvent(sub.uid, "delete", (), tuple(gone), replayed=True))


async def note_marks(conn: Connection, sub: Subscription, since: int | None) -> None:
    """A new subscription: what it counts from (highest id, newest change) for a backfill.

    ``since``: the highest id the caller knows already (None: read it now).
    """
    if sub.backfills:
        sub.marks.note_since(since if since is not None else await highest_id(conn, sub))
    if sub.wants_updates:
        try:
            sub.marks.note_updated(await highest_updated(conn, sub))
        except (Forbidden, ServerError) as exc:
            # No such field here: changes missed in a gap cannot be read back.
            logger.info("%s: no %s to recover updates by (%s)", sub.collection, UPDATED_FIELD, exc)


async def highest_updated(conn: Connection, sub: Subscription) -> str | None:
    """The newest change (:data:`UPDATED_FIELD`) the subscription's filter lets through now.

    Raises:
        DirectusError: the collection has no such field, or it may not be read.
    """
    query: dict[str, Any] = {
        "fields": [UPDATED_FIELD],
        "sort": [f"-{UPDATED_FIELD}"],
        "filter": {UPDATED_FIELD: {"_nnull": True}},
        "limit": 1,
    }
    if sub.query and sub.query.get("filter"):
        query["filter"] = {"_and": [sub.query["filter"], query["filter"]]}
    frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
    rows = await conn.wire.request(frame, "items:read", label=f"subscribe to {sub.collection}")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        value = rows[0].get(UPDATED_FIELD)
        return value if isinstance(value, str) else None
    return None


async def highest_id(conn: Connection, sub: Subscription) -> int | None:
    """The highest id the subscription's filter lets through right now."""
    query: dict[str, Any] = {"fields": ["id"], "sort": ["-id"], "limit": 1}
    if sub.query and sub.query.get("filter"):
        query["filter"] = sub.query["filter"]
    frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
    rows = await conn.wire.request(frame, "items:read", label=f"subscribe to {sub.collection}")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        value = rows[0].get("id")
        return value if isinstance(value, int) else None
    return None
