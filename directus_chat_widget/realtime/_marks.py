"""A subscription's marks: which rows it delivered, and from where a backfill reads.

Pure bookkeeping, no I/O (unit-tested without a socket):

- ids delivered (the last few thousand), to drop a create seen twice;
- the backfill floor: the lowest of the last few ids, not the highest, since
  events can arrive slightly out of id order (Directus re-reads each event's
  rows concurrently); a row still in flight below the highest is read again,
  and the de-duplication drops what was delivered;
- floors owed a read-back (after a token expiry), kept until repaid;
- each row's newest ``date_updated`` delivered, to drop an update seen twice,
  and the newest overall, from which changes missed in a gap are read.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any

from .protocol import Key, SubscriptionEvent

__all__ = ["UPDATED_FIELD", "RowMarks"]

# The field whose value says when a row last changed; a gap is read back from it.
UPDATED_FIELD = "date_updated"
# How many recent ids bound the backfill floor; events further out of order than
# this are not expected (Directus dispatches each event as soon as it is stored).
_RECENT = 32
# How many delivered ids (and row versions) are remembered for de-duplication.
_SEEN = 4096

Rows = Sequence[dict[str, Any]]


class RowMarks:
    """What one subscription has delivered, and what a backfill must read.

    Attributes:
        since: the highest id when the subscription started (None: not known).
        last_id: the highest id delivered (None before the first).
        updated_mark: the newest ``date_updated`` delivered or known at the start.
        updates_known: ``updated_mark`` was read from the server at least once.
    """

    def __init__(self) -> None:
        self.since: int | None = None
        self.last_id: int | None = None
        self.updated_mark: str | None = None
        self.updates_known = False
        self._seen: OrderedDict[Key, None] = OrderedDict()
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._owed: dict[int, int] = {}
        self._next_debt = 0
        self._versions: OrderedDict[Key, str] = OrderedDict()

    # -- where a backfill starts ------------------------------------------------

    @property
    def floor(self) -> int | None:
        """Read rows with ids above this after a gap; None: nothing to go by.

        Never above a floor still owed a read-back (:meth:`owe`).
        """
        floor = min(self._recent) if self._recent else self.since
        if self._owed:
            lowest = min(self._owed.values())
            return lowest if floor is None else min(floor, lowest)
        return floor

    def note_since(self, since: int | None) -> None:
        """The highest id that existed when the subscription started (None: empty)."""
        self.since = since if since is not None else 0

    def note_updated(self, mark: str | None) -> None:
        """The newest change the server had when the subscription started (None: none)."""
        self.updates_known = True
        if mark is not None and (self.updated_mark is None or mark > self.updated_mark):
            self.updated_mark = mark

    def owe(self) -> tuple[int, int] | None:
        """Rows above today's floor may have been dropped: keep the floor until repaid.

        Returns ``(debt, floor)``: read the rows above ``floor``, then
        :meth:`repay` ``debt``. Until then :attr:`floor` stays at or below it,
        so a read-back that fails (the socket is lost in the middle) is done by
        the next reconnect's. None: there is no floor to go by.
        """
        floor = self.floor
        if floor is None:
            return None
        self._next_debt += 1
        self._owed[self._next_debt] = floor
        return self._next_debt, floor

    def owing(self) -> tuple[int, ...]:
        """The debts not yet repaid (a backfill from :attr:`floor` repays them all)."""
        return tuple(self._owed)

    def repay(self, *debts: int) -> None:
        """The read-backs of ``debts`` are done."""
        for debt in debts:
            self._owed.pop(debt, None)

    # -- what was delivered -------------------------------------------------------

    def known(self) -> list[Key]:
        """The ids delivered (the last few thousand)."""
        return list(self._seen)

    def delivered(self, key: Key) -> bool:
        """Whether the row ``key`` was delivered (among the last few thousand)."""
        return key in self._seen

    def fresh(self, event: SubscriptionEvent) -> SubscriptionEvent:
        """A create ``event`` without the rows already delivered; notes the rest."""
        rows, keys = [], []
        for row in event.data:
            key = row.get("id")
            if isinstance(key, (int, str)) and not isinstance(key, bool):
                if key in self._seen:
                    continue
                keys.append(key)
            rows.append(row)
        self._note_ids(keys)
        self._note_versions(rows)
        if len(rows) == len(event.data):
            return event
        return SubscriptionEvent(event.uid, "create", tuple(rows), tuple(keys), event.replayed)

    def newer(self, event: SubscriptionEvent) -> SubscriptionEvent:
        """An update ``event`` without rows already delivered at the same version."""
        rows = [
            row
            for row in event.data
            if not (
                isinstance(row.get(UPDATED_FIELD), str)
                and self._versions.get(row.get("id", "")) == row[UPDATED_FIELD]
            )
        ]
        self._note_versions(rows)
        for row in rows:  # an update makes a row known, but never moves the floor
            key = row.get("id")
            if isinstance(key, (int, str)) and not isinstance(key, bool):
                self._seen[key] = None
        if len(rows) == len(event.data):
            return event
        keys = tuple(row["id"] for row in rows if row.get("id") is not None)
        return SubscriptionEvent(event.uid, "update", tuple(rows), keys, event.replayed)

    def forget_versions(self, keys: Sequence[Key]) -> None:
        """Rows deleted: a later row under the same id is a new one."""
        for key in keys:
            self._versions.pop(key, None)

    def _note_versions(self, rows: Rows) -> None:
        for row in rows:
            stamp, key = row.get(UPDATED_FIELD), row.get("id")
            if not isinstance(stamp, str) or key is None:
                continue
            self._versions[key] = stamp
            self._versions.move_to_end(key)
            if self.updated_mark is None or stamp > self.updated_mark:
                self.updated_mark = stamp
        while len(self._versions) > _SEEN:
            self._versions.popitem(last=False)

    def _note_ids(self, keys: Sequence[Key]) -> None:
        for key in keys:
            self._seen[key] = None
            self._seen.move_to_end(key)
            if isinstance(key, int):
                self._recent.append(key)
                if self.last_id is None or key > self.last_id:
                    self.last_id = key
        while len(self._seen) > _SEEN:
            self._seen.popitem(last=False)
