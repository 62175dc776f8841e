"""Who is online and typing in a room, judged by the server's clock. Pure: rows and times in.

Every presence row says when the server last stored it (``date_updated``, or
``date_created`` for a row never refreshed): the server's clock, never the
writer's. A reader compares it with the server's time now, which it keeps
from its own writes: each reply carries the server's stamp, and the time
since is counted on the reader's monotonic clock (:class:`ServerClock`). So a
kernel whose wall clock is off by an hour still judges right, and no
clock but the server's decides whether someone is online.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ._rows import author_of, parse_timestamp
from ._typing import PresenceTiming
from .message import UNKNOWN_AUTHOR

__all__ = ["Presence", "PresenceBook", "PresentUser", "ServerClock", "stamp_of"]


@dataclass(frozen=True)
class PresentUser:
    """Someone online in the room.

    Attributes:
        id: the user's id.
        name: first and last name (``Unknown User`` when unreadable).
        first_name: the first name alone, None when unreadable.
        typing: typing now.
        own: the logged-in user of this view.
    """

    id: str
    name: str
    first_name: str | None
    typing: bool
    own: bool

    @property
    def short_name(self) -> str:
        """The first name, else the whole name."""
        return self.first_name or self.name


@dataclass(frozen=True)
class Presence:
    """Who is online in a room right now, the logged-in user included, by name."""

    online: tuple[PresentUser, ...] = ()

    @property
    def others(self) -> tuple[PresentUser, ...]:
        """Everyone online but the logged-in user."""
        return tuple(user for user in self.online if not user.own)

    @property
    def typing(self) -> tuple[PresentUser, ...]:
        """The others who are typing (one's own typing is never shown to oneself)."""
        return tuple(user for user in self.others if user.typing)

    def typing_text(self) -> str:
        """``Ada is typing…``, ``Ada and Grace are typing…``, or ``""``."""
        names = [user.short_name for user in self.typing]
        if not names:
            return ""
        if len(names) == 1:
            return f"{names[0]} is typing…"
        if len(names) <= 3:
            return f"{', '.join(names[:-1])} and {names[-1]} are typing…"
        return f"{', '.join(names[:2])} and {len(names) - 2} others are typing…"


class ServerClock:
    """The server's time now: its last stamp, plus the time passed since on a monotonic clock.

    Args:
        monotonic: the clock that counts the time passed (never the wall clock).
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._anchor: tuple[datetime, float] | None = None

    def note(self, stamp: datetime | None) -> None:
        """The server stamped a row with ``stamp`` just now (a reply to our own write)."""
        if stamp is not None:
            self._anchor = (stamp, self._monotonic())

    def now(self) -> datetime | None:
        """The server's time now, as well as we know it; None before any stamp."""
        if self._anchor is None:
            return None
        stamp, at = self._anchor
        return stamp + timedelta(seconds=self._monotonic() - at)


def stamp_of(row: Mapping[str, Any]) -> datetime | None:
    """When the server last stored ``row``: ``date_updated``, else ``date_created``."""
    return parse_timestamp(row.get("date_updated")) or parse_timestamp(row.get("date_created"))


@dataclass(frozen=True)
class _Entry:
    user_id: str
    name: str | None
    first_name: str | None
    typing: bool
    seen: datetime


class PresenceBook:
    """The room's presence rows, by id, and what they say at a given server time.

    Args:
        timing: how long a row and a typing mark are believed.
        own_id: the logged-in user's id (marked ``own``).
    """

    def __init__(self, timing: PresenceTiming, own_id: str | None) -> None:
        self.timing = timing
        self.own_id = own_id
        self._rows: dict[int, _Entry] = {}

    @property
    def ids(self) -> list[int]:
        """The rows held (a gap's deletes are looked for among them)."""
        return list(self._rows)

    def apply(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Hold what ``rows`` say (created, refreshed, or read); a row that says too little is
        skipped. A row without names keeps the names already known for its user."""
        for row in rows:
            key, seen = row.get("id"), stamp_of(row)
            author = author_of(row.get("user_created"))
            if not isinstance(key, int) or isinstance(key, bool) or seen is None:
                continue
            old = self._rows.get(key)
            user_id = author.id or (old.user_id if old is not None else None)
            if user_id is None:
                continue
            name, first = author.name, author.first_name
            if name is None and old is not None and old.user_id == user_id:
                name, first = old.name, old.first_name
            if old is not None and seen < old.seen:
                continue  # an older copy (a replay) of what is held
            typing = bool(row.get("typing"))  # SQLite answers 0 and 1
            self._rows[key] = _Entry(user_id, name, first, typing, seen)

    def remove(self, ids: Sequence[Any]) -> None:
        """Forget the rows ``ids`` (deleted: their users left)."""
        for key in ids:
            self._rows.pop(key, None)

    def clear(self) -> None:
        self._rows.clear()

    def judge(self, now: datetime | None) -> Presence:
        """Who is online and typing at the server time ``now`` (None: nobody can be judged)."""
        if now is None:
            return Presence()
        people: dict[str, PresentUser] = {}
        for entry in self._rows.values():
            age = (now - entry.seen).total_seconds()
            if age >= self.timing.online_for:
                continue
            typing = entry.typing and age < self.timing.typing_for
            known = people.get(entry.user_id)
            name = entry.name or (known.name if known is not None else UNKNOWN_AUTHOR)
            people[entry.user_id] = PresentUser(
                entry.user_id,
                name,
                entry.first_name or (known.first_name if known is not None else None),
                typing or (known is not None and known.typing),
                entry.user_id == self.own_id,
            )
        ordered = sorted(people.values(), key=lambda user: (user.name.casefold(), user.id))
        return Presence(tuple(ordered))

    def next_change(self, now: datetime | None) -> float | None:
        """Seconds until :meth:`judge` may say otherwise with no new row; None: never."""
        if now is None:
            return None
        waits = []
        for entry in self._rows.values():
            age = (now - entry.seen).total_seconds()
            limits = [self.timing.online_for]
            if entry.typing:
                limits.append(self.timing.typing_for)
            waits += [limit - age for limit in limits if limit > age]
        return min(waits) if waits else None
