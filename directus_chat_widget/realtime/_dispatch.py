"""What to do with each frame that arrives: route it to its request or subscription.

Replies are matched to their request by ``uid``. Directus leaves the uid off
errors its services raise (FORBIDDEN, RECORD_NOT_UNIQUE...); the socket never
has two requests in flight that could earn one (the link's gates), so such an
error is charged to the one that can, never guessed. ``TOKEN_EXPIRED`` (no uid
either) starts a re-authentication; a FORBIDDEN that may have been earned as
the public before it completed is charged to nobody: what was in flight is
resent after it. The server's ``ping`` gets a ``pong``; ``REQUESTS_EXCEEDED``
goes to the rate-limit recovery.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..errors import error_for
from . import _expiry, _recovery, protocol
from ._pending import Request, gate_of

if TYPE_CHECKING:
    from ._connection import Connection
    from ._link import Link

__all__ = ["dispatch"]

logger = logging.getLogger(__name__)


def dispatch(conn: Connection, link: Link, frame: protocol.Frame) -> None:
    match frame:
        case protocol.SubscriptionEvent():
            sub = conn.subscriptions.get(frame.uid or "")
            if sub is not None:
                conn.known.note_ids(sub.collection, frame.keys)
                sub.deliver(frame)
        case protocol.ItemsReply():
            request = conn.pending.get(frame.uid)
            if request is not None:
                if request.kind == "items:create" and isinstance(frame.data, dict):
                    conn.note_created(request, frame.data)
                request.settle(frame.data)
        case protocol.Ping():
            conn.stats["pings_answered"] += 1
            conn.spawn(conn.wire.send_quietly(link, protocol.pong()))
        case protocol.Pong():
            if frame.uid == link.ping_uid:
                link.ping_uid = None
        case protocol.SubscriptionInit() | protocol.Unsubscribed():
            request = conn.pending.get(frame.uid)
            if request is not None:
                request.settle(frame)
        case protocol.ItemsError():
            if _expiry.earned_as_public(conn, link, frame.uid, frame.code):
                _expiry.on_refused_as_public(conn, link)
                return
            request = waiting(conn, link, frame.uid, items_error_kind(frame.code))
            if request is None:
                logger.warning("items error with nothing waiting: %s", frame.message)
            else:
                items_failed(conn, link, request, frame)
        case protocol.SubscriptionError():
            if _expiry.earned_as_public(conn, link, frame.uid, frame.code):
                # An event the public may not read; the backfill after re-auth brings it.
                logger.debug("subscription event refused while the token was expired")
                return
            request = waiting(conn, link, frame.uid, "subscribe")
            if request is not None:
                request.settle(error=error_for(frame.code, frame.message, request.what))
            else:
                # The server refused to send an event (its fields or rows are no
                # longer readable). The frame names no subscription: every live
                # one on this socket is told (the kit holds one per socket).
                logger.warning("subscription error: %s %s", frame.code, frame.message)
                for sub in list(conn.subscriptions.values()):
                    if sub.active:
                        sub.refused(
                            error_for(frame.code, frame.message, f"events of {sub.collection}")
                        )
        case protocol.AuthOk() | protocol.AuthFailed():
            on_auth_frame(conn, link, frame)
        case protocol.ServerErrorFrame():
            if frame.rate_limited:
                _recovery.on_rate_limited(conn, link, frame)
            else:
                logger.warning("server error frame: %s %s", frame.code, frame.message)
        case _:
            logger.debug("ignored frame: %r", frame)


# The requests that write a row: only these can break a unique constraint.
_WRITES = ("items:create", "items:update")


def items_error_kind(code: str) -> str:
    """Which requests a uid-less items error can answer (a kind prefix).

    Only a write can break a unique constraint: RECORD_NOT_UNIQUE charged to a
    read or a delete in flight would fail it and leave the write waiting.
    """
    return "items:write" if code == "RECORD_NOT_UNIQUE" else "items:"


def waiting(conn: Connection, link: Link, uid: str | None, prefix: str) -> Request | None:
    """The request an error answers: by uid, or (no uid) the one of its gate in flight.

    The socket never has two requests of a gate in flight (see ``Link.busy``), so
    a uid-less error has exactly one request it can belong to, or none.
    """
    if uid is not None:
        return conn.pending.get(uid)
    holder = link.busy.get(gate_of(prefix) or "")
    if holder is None or holder.future.done():
        return None
    if prefix == "items:write" and holder.kind not in _WRITES:
        return None
    return holder


def on_auth_frame(
    conn: Connection, link: Link, frame: protocol.AuthOk | protocol.AuthFailed
) -> None:
    request = conn.pending.get(frame.uid)
    if request is not None and request.kind == "auth":
        if isinstance(frame, protocol.AuthOk):
            if link.expired_at is not None and link.reauthed_at is None:
                link.reauthed_at = asyncio.get_running_loop().time()
            request.settle(frame)
        else:
            request.settle(error=error_for(frame.code, frame.message, "re-authentication"))
        return
    if isinstance(frame, protocol.AuthFailed) and frame.token_expired:
        logger.info("access token expired on the socket: holding sends, re-authenticating")
        conn.stats["token_expired"] += 1
        _expiry.note_expiry(conn, link)
        if conn.renewal.running:
            conn.renewal.again = True  # the server now waits for one more auth frame
            return
        conn.renewal.start(link, "expired")
        return
    logger.warning("auth frame with nothing waiting: %r", frame)


def items_failed(
    conn: Connection, link: Link, request: Request, frame: protocol.ItemsError
) -> None:
    if frame.code == "RECORD_NOT_UNIQUE" and request.kind == "items:create" and request.dedupe:
        # A resend of a create that was stored after all: answer with the stored row.
        request.disarm()
        conn.spawn(_recovery.settle_duplicate(conn, link, request))
        return
    if frame.code == "FORBIDDEN" and request.kind == "items:delete" and request.sends > 1:
        # A resend of a delete that may have been done already: is the row gone?
        request.disarm()
        conn.spawn(_recovery.settle_repeated_delete(conn, link, request, frame))
        return
    request.settle(error=error_for(frame.code, frame.message, request.what))
