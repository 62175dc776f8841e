"""Authors' names for a room's live events, from a cache instead of a join per event.

Directus re-reads every event once per subscriber with that subscriber's
query. Asking it for ``user_created.first_name`` makes each of those re-reads
a join; the room subscribes with :data:`EVENT_FIELDS` instead (the author as a
bare id) and fills in the names here, from what it already knows: the logged-in
user, and every row read with the full :data:`.message.MESSAGE_FIELDS`
(history pages, earlier look-ups).

An event naming an author not known yet waits for one read of its rows with
the full fields (by id, under the room's own query). Events are applied in
the order they came: while such a read is under way, the ones after it wait
behind it, so the list never shows a later event before an earlier one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ._ports import SessionLike, SubscriptionEventLike
from .message import MESSAGE_FIELDS

__all__ = ["EVENT_FIELDS", "AuthorNames"]

logger = logging.getLogger(__name__)

# What the room's subscription asks for: MESSAGE_FIELDS with the author as a bare id.
EVENT_FIELDS = (*(f for f in MESSAGE_FIELDS if not f.startswith("user_created.")), "user_created")

Names = dict[str, Any]  # ``id``, ``first_name``, ``last_name`` (those readable)


class Event(NamedTuple):
    """An event with its authors filled in (what the room applies)."""

    event: str
    data: Sequence[Mapping[str, Any]]
    keys: Sequence[Any]


class AuthorNames:
    """Fills in authors' names on a room's events, in order; reads the unknown ones.

    Args:
        session: reads the rows of an unknown author.
        collection: the room's collection.
        apply: called with each event once its authors are filled in.

    Attributes:
        query: the room's query (set when it opens): its filter narrows the look-ups.
    """

    def __init__(
        self,
        session: SessionLike,
        collection: str,
        apply: Callable[[SubscriptionEventLike], None],
    ) -> None:
        self._session = session
        self._collection = collection
        self.query: dict[str, Any] = {}
        self._apply = apply
        self._names: dict[str, Names] = {}
        self._waiting: deque[SubscriptionEventLike] = deque()
        self._task: asyncio.Task[None] | None = None

    def learn(self, rows: Iterable[Any]) -> None:
        """Remember the names carried by full rows (history pages, look-ups)."""
        for row in rows:
            author = row.get("user_created") if isinstance(row, Mapping) else None
            if isinstance(author, Mapping) and isinstance(author.get("id"), str):
                self._names[author["id"]] = dict(author)

    def subscribing(self, query: dict[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
        """The room's ``query`` as the subscription asks it (the author as a bare id).

        Remembers the query, and the logged-in ``user`` (``id``, ``first_name``...).
        """
        self.query = query
        if user is not None and isinstance(user.get("id"), str):
            self._names[user["id"]] = dict(user)
        return {**query, "fields": list(EVENT_FIELDS)}

    def take(self, event: SubscriptionEventLike) -> None:
        """A subscription listener: apply ``event`` now, or after what waits before it."""
        if not self._waiting and not self._unknown(event):
            self._apply(self._filled(event))
            return
        self._waiting.append(event)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def close(self) -> None:
        """Stop: what still waits is dropped (the room is closing)."""
        self._waiting.clear()
        if self._task is not None:
            self._task.cancel()

    async def _drain(self) -> None:
        while self._waiting:
            event = self._waiting[0]
            unknown = self._unknown(event)
            if unknown:
                await self._look_up(event, unknown)
            self._waiting.popleft()
            try:
                self._apply(self._filled(event))
            except Exception:  # the room's callbacks report their own; never stall the rest
                logger.exception("applying a %s event failed", event.event)

    async def _look_up(self, event: SubscriptionEventLike, unknown: set[str]) -> None:
        """Read the event's rows by unknown authors with the full fields; learn the names."""
        keys = [
            row["id"]
            for row in event.data
            if _author_id(row) in unknown and isinstance(row.get("id"), int)
        ]
        bound = {"id": {"_in": keys}}
        wanted = self.query.get("filter")
        query = {
            "fields": list(MESSAGE_FIELDS),
            "filter": {"_and": [wanted, bound]} if wanted else bound,
            "limit": len(keys),
        }
        try:
            self.learn(await self._session.read(self._collection, query))
        except Exception as exc:  # shown without a name rather than not at all
            logger.info("could not read the names of %d author(s): %s", len(unknown), exc)
        for author in unknown:  # unreadable names: asked once, not on every event
            self._names.setdefault(author, {"id": author})

    def _unknown(self, event: SubscriptionEventLike) -> set[str]:
        if event.event not in ("create", "update"):
            return set()
        return {a for row in event.data if (a := _author_id(row)) and a not in self._names}

    def _filled(self, event: SubscriptionEventLike) -> SubscriptionEventLike:
        if event.event not in ("create", "update"):
            return event
        rows = [self._fill(row) for row in event.data]
        return Event(event.event, rows, event.keys)

    def _fill(self, row: Mapping[str, Any]) -> Mapping[str, Any]:
        author = _author_id(row)
        if author is None:
            return row
        return {**row, "user_created": self._names.get(author, {"id": author})}


def _author_id(row: Mapping[str, Any]) -> str | None:
    """The author's id when the row gives it bare (an object needs nothing filled in)."""
    author = row.get("user_created")
    return author if isinstance(author, str) and author else None
