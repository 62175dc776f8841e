"""After a socket loss or a rate-limit drop: put things back as if nothing happened.

Functions over a :class:`~._link.LinkEngine` (the session), run while it is
not yet READY (so nothing else is being sent) or, for rate limits, beside the
writer:

- :func:`restore`: subscribe again under the same uids, read back what each
  subscription missed (ids above its floor, in pages, oldest first, delivered
  as ``replayed`` create events and de-duplicated), then settle every create
  whose reply was lost: if it was stored, its caller gets the stored row;
  otherwise it goes back in the outbox at its old place.
- :func:`find_stored`: was a create stored? Exact through the dedupe field
  (``client_uid``, a unique column); without one, the newest rows by this user
  above what was known at send time, with the same values, not already the
  answer to another create.
- :func:`on_rate_limited` / :func:`recheck`: ``REQUESTS_EXCEEDED`` names no
  frame, so after the pause every request still unanswered is taken as dropped:
  reads and subscribes are resent, creates are looked up first.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from . import protocol
from ._pending import LinkLost, Request
from .errors import DirectusError, Forbidden, ServerError
from .subscription import Subscription

if TYPE_CHECKING:
    from ._link import Link, LinkEngine

__all__ = ["backfill", "find_stored", "highest_id", "on_rate_limited", "recheck", "restore"]

logger = logging.getLogger(__name__)

_BACKFILL_PAGE = 200
# Rows compared when a create without a dedupe field has to be looked for.
_LOOKBACK = 200


async def restore(engine: LinkEngine, link: Link) -> None:
    """Re-subscribe, read back what each subscription missed, settle lost creates."""
    resumed: list[Subscription] = []
    for sub in list(engine._subscriptions.values()):
        if not sub.active or sub.closed:
            continue
        if sub.backfills and sub.backfill_floor is not None:
            sub.hold()
        frame = protocol.subscribe(sub.collection, sub.uid, event=sub.event, query=sub.query)
        try:
            await engine._control(link, frame, "subscribe")
        except (Forbidden, ServerError) as exc:
            logger.warning("re-subscribing to %s was refused: %s", sub.collection, exc)
            sub.interrupt(exc)
            sub.close()
            engine._subscriptions.pop(sub.uid, None)
            continue
        resumed.append(sub)
    for sub in resumed:
        if sub.backfills and sub.backfill_floor is not None:
            await backfill(engine, link, sub)
        sub.release()
    for request in engine._pending.in_doubt():
        row = await find_stored(engine, link, request)
        if row is not None:
            logger.info("a create sent before the connection dropped was stored; not resent")
            engine._stats["creates_found"] += 1
            engine._note_created(request, row)
            request.settle(row)
        else:
            engine._stats["creates_resent"] += 1
            engine._pending.enqueue(request)


async def backfill(engine: LinkEngine, link: Link, sub: Subscription) -> None:
    floor = sub.backfill_floor
    while floor is not None:
        query = protocol.after_id_query(sub.query, floor, limit=_BACKFILL_PAGE)
        frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
        answer = await engine._control(link, frame, "items:read")
        rows = [r for r in answer or [] if isinstance(r, dict)]
        keys = tuple(r["id"] for r in rows if isinstance(r.get("id"), int))
        if rows:
            engine._stats["rows_backfilled"] += len(rows)
            engine._note_ids(sub.collection, keys)
            sub.deliver(
                protocol.SubscriptionEvent(sub.uid, "create", tuple(rows), keys, replayed=True)
            )
        if len(rows) < _BACKFILL_PAGE or not keys:
            return
        floor = max(keys)


async def highest_id(engine: LinkEngine, sub: Subscription) -> int | None:
    """The highest id the subscription's filter lets through right now."""
    query: dict[str, Any] = {"fields": ["id"], "sort": ["-id"], "limit": 1}
    if sub.query and sub.query.get("filter"):
        query["filter"] = sub.query["filter"]
    frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
    rows = await engine._request(frame, "items:read", label=f"subscribe to {sub.collection}")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        value = rows[0].get("id")
        return value if isinstance(value, int) else None
    return None


async def find_stored(engine: LinkEngine, link: Link, request: Request) -> dict[str, Any] | None:
    """Was this create stored although its reply never came? The row, or None.

    By its dedupe field when the collection has one (exact); otherwise the
    newest rows by this user, above what was known when it was sent, with
    the same values and not already the answer to another create.
    """
    collection = request.collection or ""
    field_name = engine._dedupe_field
    usable = field_name is not None and engine._dedupe_ok.get(collection) is not False
    if request.dedupe is not None and field_name and usable:
        query = {"filter": {field_name: {"_eq": request.dedupe}}, "limit": 1}
        frame = protocol.items(collection, "read", protocol.new_uid(), query=query)
        try:
            rows = await engine._control(link, frame, "items:read")
        except Forbidden:
            engine._dedupe_ok[collection] = False
        else:
            engine._dedupe_ok[collection] = True
            return rows[0] if isinstance(rows, list) and rows else None
    user = (engine._user or {}).get("id")
    data = request.frame.get("data")
    if user is None or not isinstance(data, dict):
        return None
    bounds: list[dict[str, Any]] = [{"user_created": {"_eq": user}}]
    if request.watermark is not None:
        bounds.append({"id": {"_gt": request.watermark}})
    query = {"filter": {"_and": bounds}, "sort": ["-id"], "limit": _LOOKBACK}
    frame = protocol.items(collection, "read", protocol.new_uid(), query=query)
    try:
        rows = await engine._control(link, frame, "items:read")
    except Forbidden:
        return None
    wanted = {k: v for k, v in data.items() if k != field_name}
    for row in reversed(rows if isinstance(rows, list) else []):
        if not isinstance(row, dict) or row.get("id") in engine._claimed:
            continue
        if all(row.get(k) == v for k, v in wanted.items()):
            return row
    return None


async def settle_duplicate(engine: LinkEngine, link: Link, request: Request) -> None:
    try:
        row = await find_stored(engine, link, request)
    except (DirectusError, LinkLost) as exc:
        request.settle(error=ServerError(f"create stored but not read back: {exc}"))
        return
    if row is None:
        missing = ServerError("RECORD_NOT_UNIQUE, but no such row", code="RECORD_NOT_UNIQUE")
        request.settle(error=missing)
    else:
        engine._note_created(request, row)
        request.settle(row)


def on_rate_limited(engine: LinkEngine, link: Link, frame: protocol.ServerErrorFrame) -> None:
    """The server dropped one of our frames (which one, it does not say)."""
    engine._stats["rate_limited"] += 1
    wait = frame.retry_after or 1.0
    engine._pacer.pause(wait)
    if engine._pacer.rate is None:
        engine._pace_to_server()
    # Every frame the server dropped was sent before this error arrived.
    engine._rate_cutoff = asyncio.get_running_loop().time()
    if not engine._recheck_pending:
        logger.info("rate limited by the server: pausing %.2f s, then resending", wait)
        engine._recheck_pending = True
        engine._spawn(recheck(engine, link, wait))


async def recheck(engine: LinkEngine, link: Link, wait: float) -> None:
    """After the pause, resend what got no reply: it was most likely dropped."""
    try:
        await asyncio.sleep(wait + 0.5)  # + time for replies to what was not dropped
    finally:
        engine._recheck_pending = False
    if link.over:
        return
    for request in engine._pending.sent_on(link.number):
        if request.control or request.sent_at > engine._rate_cutoff:
            continue
        if request.idempotent:
            engine._pending.enqueue(request)
            continue
        request.disarm()
        request.state = "in_doubt"
        try:
            row = await find_stored(engine, link, request)
        except (DirectusError, LinkLost) as exc:
            logger.info("could not check a dropped create: %s", exc)
            return  # the link is in trouble; reconnecting settles the rest
        if row is not None:
            engine._note_created(request, row)
            request.settle(row)
        elif not request.future.done():
            engine._pending.enqueue(request)
    engine._kick()
