"""Renewing the socket's token, and the moment it spends as the public.

Measured on Directus 11 and 12: when a socket's access token expires, the
server sends ``TOKEN_EXPIRED`` and handles the socket as the public until the
next ``auth ok`` (with the kit's socket guard on 11.x). In that moment:

- a frame that raced the expiry gets a FORBIDDEN without a uid. It fails
  nobody: once re-authenticated and the replies have settled, whatever is
  still unanswered is resent (creates looked up by ``client_uid`` first, so
  stored once);
- subscription events are refused instead of sent. Each subscription owes a
  read-back from its floor at the expiry (:meth:`.Subscription.owe`), done
  after the re-auth; if that fails, the reconnect's backfill does it.

:class:`Renewal` runs the re-authentication itself: refresh over REST, auth
the socket again, while sends are held.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..errors import DirectusError, InvalidCredentials, TokenExpired
from . import _recovery, protocol
from ._backfill import backfill
from ._link import Link
from ._pending import LinkLost, Request
from .state import SessionState

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ["Renewal", "earned_as_public", "note_expiry", "on_refused_as_public"]

logger = logging.getLogger(__name__)


class Renewal:
    """One re-authentication at a time, for the connection ``conn``."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.task: asyncio.Task[None] | None = None
        # TOKEN_EXPIRED came while renewing: the server waits for one more auth frame.
        self.again = False

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self, link: Link, why: str) -> asyncio.Task[None]:
        """Re-authenticate in the background, unless that already runs."""
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(link, why))
            # The writer waits while a renewal runs: wake it once this one is done.
            self.task.add_done_callback(lambda _: self._conn.wire.kick())
        return self.task

    async def _run(self, link: Link, why: str) -> None:
        """Hold sends, refresh over REST, auth the socket again, then let the held frames go."""
        conn = self._conn
        # While restoring (AUTHENTICATING) the writer is held already, and
        # establish() says READY when it is done.
        holding = conn.ready()
        if holding:
            conn.state.set(SessionState.REAUTHENTICATING)
        try:
            tokens = await conn.auth.fresh(stale=conn.auth.tokens)
            while True:
                self.again = False
                frame = protocol.auth_access_token(tokens.access_token, protocol.new_uid())
                await conn.wire.control(link, frame, "auth")
                if not self.again:
                    break
        except (TokenExpired, InvalidCredentials) as exc:
            conn.give_up(exc)
            return
        except (DirectusError, LinkLost, OSError) as exc:
            logger.info("re-authentication (%s) failed: %s; reconnecting", why, exc)
            conn.abort(link, "re-authentication failed")
            return
        logger.debug("re-authenticated (%s)", why)
        conn.stats["reauthenticated"] += 1
        floors, link.floors_at_expiry = link.floors_at_expiry, None
        if floors and not link.over:
            # Events of the public moment were dropped by the server: read them back.
            conn.spawn(_backfill_after_expiry(conn, link, floors))
        if holding and conn.link is link and not link.over:
            conn.state.set(SessionState.READY)


def note_expiry(conn: Connection, link: Link) -> None:
    """``TOKEN_EXPIRED``: the socket is the public until the re-auth is answered."""
    link.expired_at = asyncio.get_running_loop().time()
    link.reauthed_at = None
    if link.floors_at_expiry is None:
        link.floors_at_expiry = {
            sub.uid: owed
            for sub in conn.subscriptions.values()
            if sub.active and not sub.closed and sub.backfills and (owed := sub.marks.owe())
        }


def earned_as_public(conn: Connection, link: Link, uid: str | None, code: str) -> bool:
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
        for request in conn.pending.sent_on(link.number)
        if not request.control
    )


def on_refused_as_public(conn: Connection, link: Link) -> None:
    """Re-authenticate (if not under way), then resend what the refusal may have hit."""
    conn.stats["refused_as_public"] += 1
    link.refused_at = asyncio.get_running_loop().time()
    if link.reauthed_at is None and not conn.renewal.running:
        conn.renewal.start(link, "refused as the public")
    if not link.refusal_check:
        link.refusal_check = True
        conn.spawn(_settle_refused(conn, link))


async def _settle_refused(conn: Connection, link: Link) -> None:
    try:
        while not link.over and link.reauthed_at is None:
            await asyncio.sleep(0.05)
        await _until_replies_settle(conn, link)
    finally:
        link.refusal_check = False
    if link.over:
        return
    if _unanswered(conn, link, control=True):
        # The session's own restore work met the refusal: start that over, whole.
        conn.abort(link, "restore work refused while the token was expired")
        return
    logger.info("resending what was refused while the token was expired")
    await _recovery.resend_unanswered(conn, link, link.refused_at)


def _unanswered(conn: Connection, link: Link, *, control: bool) -> list[Request]:
    """Requests sent on ``link`` before the last refusal and still waiting."""
    return [
        request
        for request in conn.pending.sent_on(link.number)
        if request.sent_at <= link.refused_at and (request.control or not control)
    ]


async def _until_replies_settle(conn: Connection, link: Link, step: float = 0.5) -> None:
    """Wait until no reply came for ``step`` seconds to what was sent before the refusal.

    The refused frames never get a reply; the others do, and must not be resent.
    """
    before = -1
    while not link.over:
        unanswered = len(_unanswered(conn, link, control=False))
        if unanswered in (0, before):
            return
        before = unanswered
        await asyncio.sleep(step)


async def _backfill_after_expiry(
    conn: Connection, link: Link, floors: dict[str, tuple[int, int]]
) -> None:
    """Read back, per subscription, what was created while the socket was the public.

    A read-back that fails leaves its debt on the subscription (the floor stays
    down) and drops the link: the reconnect's backfill reads the same rows.
    """
    for uid, (debt, floor) in floors.items():
        sub = conn.subscriptions.get(uid)
        if sub is None or not sub.active or sub.closed or link.over:
            continue
        sub.hold()
        try:
            await backfill(conn, link, sub, floor)
        except (DirectusError, LinkLost) as exc:
            # The debt stays: reconnecting now makes the restore read the rows back.
            logger.info("reading back after the token expired failed: %s; reconnecting", exc)
            conn.abort(link, "the read-back after a token expiry failed")
            return
        else:
            sub.marks.repay(debt)
        finally:
            sub.release()
