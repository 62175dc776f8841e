"""After a socket loss or a rate-limit drop: put things back as if nothing happened.

Functions over a :class:`._connection.Connection`, run while it is not yet
READY (so nothing else is being sent) or, for rate limits, beside the writer:

- :func:`restore`: subscribe again under the same uids, read back what each
  subscription missed (creates above its floor, changes since its newest
  ``date_updated``, rows gone; see :mod:`._backfill`), then settle every create
  whose reply was lost: if it was stored, its caller gets the stored row;
  otherwise it goes back in the outbox at its old place.
- :func:`find_stored`: was a create stored? Exact through the dedupe field
  (``client_uid``, a unique column); without one, the newest rows by this user
  above what was known at send time, with the same values, not already the
  answer to another create.
- :func:`on_rate_limited` / :func:`recheck`: ``REQUESTS_EXCEEDED`` names no
  frame, so after the pause every request still unanswered is taken as dropped:
  reads and subscribes are resent, creates are looked up first
  (:func:`resend_unanswered`, which the token-expiry recovery uses too).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..errors import DirectusError, Forbidden, ServerError, error_for
from . import protocol
from ._backfill import backfill, backfill_deletes, backfill_updates
from ._pending import LinkLost, Request
from .subscription import Subscription

if TYPE_CHECKING:
    from ._connection import Connection
    from ._link import Link

__all__ = ["find_stored", "on_rate_limited", "recheck", "resend_unanswered", "restore"]

logger = logging.getLogger(__name__)

# Rows compared when a create without a dedupe field has to be looked for.
_LOOKBACK = 200


async def restore(conn: Connection, link: Link) -> None:
    """Re-subscribe, read back what each subscription missed, settle lost creates."""
    resumed: list[Subscription] = []
    for sub in list(conn.subscriptions.values()):
        if not sub.active or sub.closed:
            continue
        if sub.marks.floor is not None or sub.wants_updates or sub.wants_deletes:
            sub.hold()
        frame = protocol.subscribe(sub.collection, sub.uid, event=sub.event, query=sub.query)
        try:
            await conn.wire.control(link, frame, "subscribe")
        except (Forbidden, ServerError) as exc:
            logger.warning("re-subscribing to %s was refused: %s", sub.collection, exc)
            sub.interrupt(exc)
            sub.close()
            conn.subscriptions.pop(sub.uid, None)
            continue
        resumed.append(sub)
    for sub in resumed:
        if sub.backfills and sub.marks.floor is not None:
            owed = sub.marks.owing()  # the floor is at or below each of these
            await backfill(conn, link, sub)
            sub.marks.repay(*owed)
        if sub.wants_updates and sub.marks.updates_known:
            await backfill_updates(conn, link, sub)
        if sub.wants_deletes:
            await backfill_deletes(conn, link, sub)
        sub.release()
        sub.restored()
        sub.resume()
    for request in conn.pending.in_doubt():
        row = await find_stored(conn, link, request)
        if row is not None:
            logger.info("a create sent before the connection dropped was stored; not resent")
            conn.stats["creates_found"] += 1
            conn.note_created(request, row)
            request.settle(row)
        else:
            conn.stats["creates_resent"] += 1
            conn.pending.enqueue(request)


async def find_stored(conn: Connection, link: Link, request: Request) -> dict[str, Any] | None:
    """Was this create stored although its reply never came? The row, or None.

    By its dedupe field when the collection has one (exact); otherwise the
    newest rows by this user, above what was known when it was sent, with
    the same values and not already the answer to another create.
    """
    collection = request.collection or ""
    field_name = conn.known.dedupe_field
    if request.dedupe is not None and conn.known.dedupe_usable(collection):
        found = await _rows_by_dedupe(conn, link, collection, [request.dedupe])
        if found is not None:
            return found[0] if found else None
    user = (conn.user or {}).get("id")
    data = request.frame.get("data")
    if user is None or not isinstance(data, dict):
        return None
    bounds: list[dict[str, Any]] = [{"user_created": {"_eq": user}}]
    if request.watermark is not None:
        bounds.append({"id": {"_gt": request.watermark}})
    query = {"filter": {"_and": bounds}, "sort": ["-id"], "limit": _LOOKBACK}
    frame = protocol.items(collection, "read", protocol.new_uid(), query=query)
    try:
        rows = await conn.wire.control(link, frame, "items:read")
    except Forbidden:
        return None
    wanted = {k: v for k, v in data.items() if k != field_name}
    for row in reversed(rows if isinstance(rows, list) else []):
        if not isinstance(row, dict) or conn.known.claimed(row.get("id")):
            continue
        if all(row.get(k) == v for k, v in wanted.items()):
            return row
    return None


async def settle_duplicate(conn: Connection, link: Link, request: Request) -> None:
    try:
        row = await find_stored(conn, link, request)
    except (DirectusError, LinkLost) as exc:
        request.settle(error=ServerError(f"create stored but not read back: {exc}"))
        return
    if row is None:
        missing = ServerError("RECORD_NOT_UNIQUE, but no such row", code="RECORD_NOT_UNIQUE")
        request.settle(error=missing)
    else:
        conn.note_created(request, row)
        request.settle(row)


async def settle_repeated_delete(
    conn: Connection, link: Link, request: Request, refusal: protocol.ItemsError
) -> None:
    """A delete sent again (after a reconnect) was refused: done if its row is gone."""
    key = request.frame.get("id")
    query = {"filter": {"id": {"_eq": key}}, "fields": ["id"], "limit": 1}
    frame = protocol.items(request.collection or "", "read", protocol.new_uid(), query=query)
    try:
        rows = await conn.wire.control(link, frame, "items:read")
    except (DirectusError, LinkLost) as exc:
        request.settle(error=ServerError(f"delete sent twice; could not check its row: {exc}"))
        return
    if rows:
        request.settle(error=error_for(refusal.code, refusal.message, request.what))
    else:
        request.settle(None)


def on_rate_limited(conn: Connection, link: Link, frame: protocol.ServerErrorFrame) -> None:
    """The server dropped one of our frames (which one, it does not say)."""
    conn.stats["rate_limited"] += 1
    wait = frame.retry_after or 1.0
    conn.pacer.pause(wait)
    if conn.pacer.rate is None:
        conn.pace_to_server()
    # Every frame the server dropped was sent before this error arrived.
    conn.rate_cutoff = asyncio.get_running_loop().time()
    if not conn.recheck_pending:
        logger.info("rate limited by the server: pausing %.2f s, then resending", wait)
        conn.recheck_pending = True
        conn.spawn(recheck(conn, link, wait))


async def recheck(conn: Connection, link: Link, wait: float) -> None:
    """After the pause, resend what got no reply: it was most likely dropped."""
    try:
        await asyncio.sleep(wait + 0.5)  # + time for replies to what was not dropped
    finally:
        conn.recheck_pending = False
    if link.over:
        return
    await resend_unanswered(conn, link, conn.rate_cutoff)


async def resend_unanswered(conn: Connection, link: Link, cutoff: float) -> None:
    """Resend what was sent on ``link`` up to ``cutoff`` and is still unanswered.

    Reads, updates and subscribes go back in the outbox (deletes stay as they
    are, see below); creates are looked up first
    (one read for all of them when the collection has the dedupe field) and
    only resent when not stored. If the lookup fails, the link is dropped:
    reconnecting settles the creates left in doubt.
    """
    doubtful: list[Request] = []
    for request in conn.pending.sent_on(link.number):
        if request.control or request.sent_at > cutoff or request.future.done():
            continue
        if request.kind == "items:delete":
            # Not twice on one socket: if the first copy was only slow, the second
            # meets its deletion with a uid-less FORBIDDEN that another request
            # could be charged with. Its reply or its timeout answers it.
            continue
        if request.idempotent:
            conn.pending.enqueue(request)
            continue
        request.disarm()
        request.state = "in_doubt"
        doubtful.append(request)
    try:
        stored = await _find_all_stored(conn, link, doubtful)
    except (DirectusError, LinkLost) as exc:
        logger.info("could not check unanswered creates (%s); reconnecting", exc)
        conn.abort(link, "unanswered creates could not be checked")
        return
    for request in doubtful:
        row = stored.get(request)
        if row is not None:
            conn.note_created(request, row)
            request.settle(row)
        elif not request.future.done():
            conn.pending.enqueue(request)
    conn.wire.kick()


async def _find_all_stored(
    conn: Connection, link: Link, requests: list[Request]
) -> dict[Request, dict[str, Any]]:
    """Which of ``requests`` were stored: by their dedupe values in one read, else one by one."""
    found: dict[Request, dict[str, Any]] = {}
    field_name = conn.known.dedupe_field
    by_value = {r.dedupe: r for r in requests if r.dedupe is not None}
    collections = {r.collection for r in by_value.values()}
    looked_up: set[Request] = set()
    if field_name and len(collections) == 1 and len(by_value) > 1:
        collection = collections.pop() or ""
        stored = None
        if conn.known.dedupe_usable(collection):
            stored = await _rows_by_dedupe(conn, link, collection, list(by_value))
        if stored is not None:
            looked_up.update(by_value.values())
            for row in stored:
                if hit := by_value.get(str(row.get(field_name))):
                    found[hit] = row
    for request in requests:
        if request not in looked_up and (one := await find_stored(conn, link, request)):
            found[request] = one
    return found


async def _rows_by_dedupe(
    conn: Connection, link: Link, collection: str, values: list[str]
) -> list[dict[str, Any]] | None:
    """The rows whose dedupe field holds one of ``values``; None: the field may not be read.

    Either answer teaches the connection whether the collection has the field.
    """
    field_name = conn.known.dedupe_field
    query = {"filter": {field_name: {"_in": values}}, "limit": len(values)}
    frame = protocol.items(collection, "read", protocol.new_uid(), query=query)
    try:
        rows = await conn.wire.control(link, frame, "items:read")
    except Forbidden:
        conn.known.dedupe_works(collection, False)
        return None
    conn.known.dedupe_works(collection, True)
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
