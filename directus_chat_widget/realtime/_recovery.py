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
- :func:`note_expiry`, :func:`on_refused_as_public`, :func:`backfill_after_expiry`:
  from ``TOKEN_EXPIRED`` until the re-auth is answered, a locked-down server
  handles the socket as the public: a frame that raced the expiry gets a
  uid-less FORBIDDEN, and subscription events are refused instead of sent.
  Such a FORBIDDEN fails nobody: once re-authenticated and the replies have
  settled, whatever is still unanswered is resent (creates looked up by
  ``client_uid`` first, so stored once), and each subscription reads back
  what came in the window.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..errors import DirectusError, Forbidden, ServerError
from . import protocol
from ._backfill import backfill, backfill_deletes, backfill_updates
from ._pending import LinkLost, Request
from .subscription import Subscription

if TYPE_CHECKING:
    from ._link import Link, LinkEngine

__all__ = [
    "backfill_after_expiry",
    "earned_as_public",
    "find_stored",
    "note_expiry",
    "on_rate_limited",
    "on_refused_as_public",
    "recheck",
    "resend_unanswered",
    "restore",
]

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
        if sub.backfill_floor is not None or sub.wants_updates or sub.wants_deletes:
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
            owed = sub.owing()  # the floor is at or below each of these
            await backfill(engine, link, sub)
            sub.repay(*owed)
        if sub.wants_updates and sub.updates_known:
            await backfill_updates(engine, link, sub)
        if sub.wants_deletes:
            await backfill_deletes(engine, link, sub)
        sub.release()
        sub.restored()
        sub.resume()
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
    await resend_unanswered(engine, link, engine._rate_cutoff)


async def resend_unanswered(engine: LinkEngine, link: Link, cutoff: float) -> None:
    """Resend what was sent on ``link`` up to ``cutoff`` and is still unanswered.

    Reads and subscribes go back in the outbox; creates are looked up first
    (one read for all of them when the collection has the dedupe field) and
    only resent when not stored. If the lookup fails, the link is dropped:
    reconnecting settles the creates left in doubt.
    """
    doubtful: list[Request] = []
    for request in engine._pending.sent_on(link.number):
        if request.control or request.sent_at > cutoff or request.future.done():
            continue
        if request.idempotent:
            engine._pending.enqueue(request)
            continue
        request.disarm()
        request.state = "in_doubt"
        doubtful.append(request)
    try:
        stored = await _find_all_stored(engine, link, doubtful)
    except (DirectusError, LinkLost) as exc:
        logger.info("could not check unanswered creates (%s); reconnecting", exc)
        engine._abort(link, "unanswered creates could not be checked")
        return
    for request in doubtful:
        row = stored.get(request)
        if row is not None:
            engine._note_created(request, row)
            request.settle(row)
        elif not request.future.done():
            engine._pending.enqueue(request)
    engine._kick()


async def _find_all_stored(
    engine: LinkEngine, link: Link, requests: list[Request]
) -> dict[Request, dict[str, Any]]:
    """Which of ``requests`` were stored: by their dedupe values in one read, else one by one."""
    found: dict[Request, dict[str, Any]] = {}
    field_name = engine._dedupe_field
    by_value = {r.dedupe: r for r in requests if r.dedupe is not None}
    collections = {r.collection for r in by_value.values()}
    looked_up: set[Request] = set()
    if field_name and len(collections) == 1 and len(by_value) > 1:
        collection = collections.pop() or ""
        if engine._dedupe_ok.get(collection) is not False:
            query = {"filter": {field_name: {"_in": list(by_value)}}, "limit": len(by_value)}
            frame = protocol.items(collection, "read", protocol.new_uid(), query=query)
            try:
                rows = await engine._control(link, frame, "items:read")
            except Forbidden:
                engine._dedupe_ok[collection] = False
            else:
                looked_up.update(by_value.values())
                for row in rows if isinstance(rows, list) else []:
                    if isinstance(row, dict) and (hit := by_value.get(str(row.get(field_name)))):
                        found[hit] = row
    for request in requests:
        if request not in looked_up and (row := await find_stored(engine, link, request)):
            found[request] = row
    return found


# -- a socket that was the public for a moment ---------------------------------------------


def note_expiry(engine: LinkEngine, link: Link) -> None:
    """``TOKEN_EXPIRED``: the socket is the public until the re-auth is answered."""
    link.expired_at = asyncio.get_running_loop().time()
    link.reauthed_at = None
    if link.floors_at_expiry is None:
        link.floors_at_expiry = {
            sub.uid: owed
            for sub in engine._subscriptions.values()
            if sub.active and not sub.closed and sub.backfills and (owed := sub.owe())
        }


def earned_as_public(engine: LinkEngine, link: Link, uid: str | None, code: str) -> bool:
    """Whether a uid-less FORBIDDEN may answer a frame the server handled as the public.

    True while the token is expired and not yet renewed, or while anything
    sent before the renewal is still unanswered.
    """
    if uid is not None or code != "FORBIDDEN" or link.expired_at is None:
        return False
    if link.reauthed_at is None:
        return True
    return any(
        link.exposed(request.sent_at)
        for request in engine._pending.sent_on(link.number)
        if not request.control
    )


def on_refused_as_public(engine: LinkEngine, link: Link) -> None:
    """Re-authenticate (if not under way), then resend what the refusal may have hit."""
    engine._stats["refused_as_public"] += 1
    link.refused_at = asyncio.get_running_loop().time()
    if link.reauthed_at is None and (engine._reauth is None or engine._reauth.done()):
        engine._start_reauth(link, "refused as the public")
    if not link.refusal_check:
        link.refusal_check = True
        engine._spawn(_settle_refused(engine, link))


async def _settle_refused(engine: LinkEngine, link: Link) -> None:
    try:
        while not link.over and link.reauthed_at is None:
            await asyncio.sleep(0.05)
        await _until_replies_settle(engine, link)
    finally:
        link.refusal_check = False
    if link.over:
        return
    if _unanswered(engine, link, control=True):
        # The session's own restore work met the refusal: start that over, whole.
        engine._abort(link, "restore work refused while the token was expired")
        return
    logger.info("resending what was refused while the token was expired")
    await resend_unanswered(engine, link, link.refused_at)


def _unanswered(engine: LinkEngine, link: Link, *, control: bool) -> list[Request]:
    """Requests sent on ``link`` before the last refusal and still waiting."""
    return [
        request
        for request in engine._pending.sent_on(link.number)
        if request.sent_at <= link.refused_at and (request.control or not control)
    ]


async def _until_replies_settle(engine: LinkEngine, link: Link, step: float = 0.5) -> None:
    """Wait until no reply came for ``step`` seconds to what was sent before the refusal.

    The refused frames never get a reply; the others do, and must not be resent.
    """
    before = -1
    while not link.over:
        unanswered = len(_unanswered(engine, link, control=False))
        if unanswered in (0, before):
            return
        before = unanswered
        await asyncio.sleep(step)


async def backfill_after_expiry(
    engine: LinkEngine, link: Link, floors: dict[str, tuple[int, int]]
) -> None:
    """Read back, per subscription, what was created while the socket was the public.

    A read-back that fails leaves its debt on the subscription: the floor stays
    down, and the reconnect's backfill reads the same rows.
    """
    for uid, (debt, floor) in floors.items():
        sub = engine._subscriptions.get(uid)
        if sub is None or not sub.active or sub.closed or link.over:
            continue
        sub.hold()
        try:
            await backfill(engine, link, sub, floor)
        except (DirectusError, LinkLost) as exc:
            logger.info("reading back after the token expired failed: %s", exc)
        else:
            sub.repay(debt)
        finally:
            sub.release()
