"""The sweep: a cheap periodic read that heals events the server lost without a word.

Why: on a cluster every event travels through Redis pub/sub, which keeps
nothing. An event published while an instance's subscriber link to Redis is
down (Redis restarting, say) reaches nobody, and the websockets stay open: no
reconnect, so no backfill. Only reading the rows back can tell.

How, for each subscription that delivers creates, every ``interval`` seconds
(a little jittered, so many sessions do not sweep in step):

1. read the ids above the sweep's floor: ``fields: ["id"]`` under the
   subscription's own filter, one small read (a page of ids at most, in the
   common case a handful);
2. an id read there and not delivered is a suspect. One still not delivered
   at the next sweep, an interval later (a live event takes well under a
   second), is taken as lost: its rows are read and delivered as replayed
   creates, through the subscription's de-duplication, so a row that the live
   event brings too is shown once. Live events that come meanwhile are held
   and follow the healed rows, as after a reconnect;
3. a loss means that updates and deletes of that moment may be gone too: those
   are read back as after a reconnect (only then, as they cost more).

The floor passes an id only once it is delivered, and stays one sweep behind
the newest id read: ids are handed out before their rows commit, so a lower id
can turn up after a higher one.

Server cost while nothing is lost: one id read per subscription per interval,
that is ``60 / interval`` reads a minute (2 at the default 30 s). Measured on a
2-instance cluster (bench/load.py --idle): about 5 ms of server CPU per read,
three times a delivered event's, so 10,000 idle subscriptions cost about 1.7
cores at 30 s, and 5 at 10 s.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import DirectusError
from . import protocol
from ._backfill import backfill_deletes, backfill_updates
from ._pending import LinkLost
from .state import SessionState
from .subscription import Subscription

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ["DEFAULT_SWEEP_INTERVAL", "SweepMarks", "Sweeper"]

logger = logging.getLogger(__name__)

# Seconds between sweeps unless the session says otherwise: a silent loss is
# healed within one to two of these (a Redis restart is rare; reads are not free).
DEFAULT_SWEEP_INTERVAL = 30.0
# Ids per read, and reads per subscription per sweep (the rest waits for the next).
_PAGE = 200
_PAGES = 5


class SweepMarks:
    """Where one subscription's sweep stands. Pure bookkeeping, no I/O.

    Attributes:
        checked: every row at or below this id was delivered, or predates the
            subscription; the next sweep reads the ids above it.
    """

    def __init__(self, checked: int) -> None:
        self.checked = checked
        self._last_top = checked
        self._suspects: set[int] = set()
        self._fetched: set[int] = set()

    def examine(self, ids: Iterable[int], delivered: Callable[[int], bool]) -> list[int]:
        """Take the ids read above :attr:`checked`; returns those to read back now.

        An id is due when it was missing at the previous sweep too. The floor
        stops below the lowest id still missing, and never passes the newest id
        of the previous sweep.
        """
        read = sorted(set(ids))
        missing = [key for key in read if not delivered(key) and key not in self._fetched]
        due = [key for key in missing if key in self._suspects]
        # Due ids stay suspects until fetched: a read-back that fails is tried again.
        self._suspects = set(missing)
        top = read[-1] if read else self._last_top
        bound = missing[0] - 1 if missing else top
        self.checked = max(self.checked, min(bound, self._last_top))
        self._last_top = max(self._last_top, top)
        self._fetched = {key for key in self._fetched if key > self.checked}
        return due

    def fetched(self, keys: Iterable[int]) -> None:
        """``keys`` were read back (or found gone): never due again."""
        for key in keys:
            self._fetched.add(key)
            self._suspects.discard(key)


class Sweeper:
    """The sweep for the connection ``conn``; ``interval`` None turns it off."""

    def __init__(self, conn: Connection, interval: float | None) -> None:
        if interval is not None and interval <= 0:
            raise ValueError(f"sweep_interval must be positive or None, not {interval!r}")
        self._conn = conn
        self.interval = interval
        self._marks: dict[str, SweepMarks] = {}
        self._rng = random.Random()

    async def run(self) -> None:
        """Sweep every interval while READY, as long as the session lives."""
        conn = self._conn
        if self.interval is None:
            return
        while conn.state.now is not SessionState.CLOSED:
            await asyncio.sleep(self.interval * self._rng.uniform(0.8, 1.2))
            if not conn.ready():
                continue
            try:
                await self.sweep()
            except Exception:  # a bug: say so, and keep sweeping
                logger.exception("a sweep failed")

    async def sweep(self) -> None:
        """One sweep of every subscription; a failed read ends it quietly.

        Its reads queue like the caller's (held while renewing a token or
        reconnecting, resent if their socket drops), so it never races a
        token's expiry the way the session's own restore work would.
        """
        conn = self._conn
        subs = [s for s in conn.subscriptions.values() if s.active and not s.closed and s.backfills]
        self._marks = {uid: m for uid, m in self._marks.items() if uid in conn.subscriptions}
        conn.stats["sweeps"] += 1
        for sub in subs:
            if sub.uid not in self._marks:
                if sub.marks.since is None:
                    continue
                self._marks[sub.uid] = SweepMarks(sub.marks.since)
            try:
                await self._sweep_one(sub, self._marks[sub.uid])
            except (DirectusError, LinkLost) as exc:
                # Nothing moved past what was not read: the next sweep tries again.
                logger.info("sweeping %s failed: %s", sub.collection, exc)
                return

    async def _sweep_one(self, sub: Subscription, marks: SweepMarks) -> None:
        conn = self._conn
        due = marks.examine(await self._ids_above(sub, marks.checked), sub.marks.delivered)
        if not due:
            return
        sub.hold()  # live events wait behind the healed rows
        try:
            answer = await self._read(sub, _rows_query(sub.query, due))
            marks.fetched(due)
            rows = sorted(
                (r for r in answer or [] if isinstance(r, dict) and isinstance(r.get("id"), int)),
                key=lambda row: int(row["id"]),
            )
            keys = tuple(row["id"] for row in rows)
            conn.known.note_ids(sub.collection, keys)
            event = protocol.SubscriptionEvent(sub.uid, "create", tuple(rows), keys, replayed=True)
            if not rows or not sub.deliver(event):
                return
            logger.warning(
                "%s: %d event(s) never came; read back (ids %s)", sub.collection, len(keys), keys
            )
            conn.stats["rows_swept"] += len(keys)
            link = conn.link
            if link is not None and not link.over and conn.ready():
                if sub.wants_updates and sub.marks.updates_known:
                    await backfill_updates(conn, link, sub)
                if sub.wants_deletes:
                    await backfill_deletes(conn, link, sub)
        finally:
            sub.release()

    async def _read(self, sub: Subscription, query: dict[str, Any]) -> Any:
        frame = protocol.items(sub.collection, "read", protocol.new_uid(), query=query)
        return await self._conn.wire.request(frame, "items:read")

    async def _ids_above(self, sub: Subscription, floor: int) -> list[int]:
        """The ids above ``floor`` that the subscription's filter lets through, oldest first."""
        wanted = (sub.query or {}).get("filter")
        base = {"filter": wanted} if wanted else None
        ids: list[int] = []
        for _ in range(_PAGES):
            query = {**protocol.after_id_query(base, floor, limit=_PAGE), "fields": ["id"]}
            answer = await self._read(sub, query)
            page = [r["id"] for r in answer or [] if isinstance(r, dict) and _is_id(r.get("id"))]
            ids += page
            if len(page) < _PAGE:
                break
            floor = page[-1]
        return ids


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rows_query(query: dict[str, Any] | None, keys: list[int]) -> dict[str, Any]:
    """The subscription's own fields, for exactly the rows ``keys`` under its filter."""
    narrowed = protocol.among_ids_query(query, keys)
    fields = (query or {}).get("fields")
    if fields is None:
        del narrowed["fields"]  # the subscription asked for every field
    else:
        narrowed["fields"] = fields
    narrowed["sort"] = ["id"]
    return narrowed
