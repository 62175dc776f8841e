"""The reactions of one open room, live: read, subscribed, added and taken back.

:class:`RoomReactions` belongs to a :class:`~directus_chat_widget.chat.room.ChatRoom`
(``room.reactions``). It subscribes to the room's reactions (filtered on the
server by ``message.room``), reads the reactions of every page of messages the
room reads, and keeps a :class:`~.reactions.ReactionBook`. After a reconnect
gap the session reads back what the subscription missed: rows above its
floor come as creates, and rows the book holds that are gone come as deletes.

Writes check first and let the server decide: an emoji that is not one
emoji, a message not stored yet, or a reaction already there (or not there)
is answered before any request; the server's unique key turns a second
create of the same reaction (a double click in two views) into "there
already", which is then read back rather than raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._callbacks import CallbackList
from ..errors import DirectusError, Forbidden
from ._ports import SessionLike, SubscriptionEventLike, SubscriptionLike, attach, detach
from .message import ChatMessage, MessageStatus, StoreChange
from .reactions import (
    REACTION_FIELDS,
    REACTIONS,
    Reaction,
    ReactionBook,
    check_emoji,
    reaction_key,
)
from .store import MessageStore

__all__ = ["ReactionChange", "RoomReactions"]

logger = logging.getLogger(__name__)

_CHUNK = 100  # message ids per read of their reactions
# A change: the messages (key, id) whose reactions changed.
ReactionChange = tuple[tuple[str, int], ...]


class RoomReactions:
    """Reactions on one room's messages. Made by ChatRoom; usable once the room is open.

    Attributes:
        available: False when the server has no reactions (an older schema,
            or no permission): the room works, without them.
    """

    def __init__(self, session: SessionLike, store: MessageStore) -> None:
        self._session = session
        self._store = store
        self._book = ReactionBook()
        self._room: int | None = None
        self._subscription: SubscriptionLike | None = None
        self._remove_listener: Callable[[], Any] | None = None
        self._callbacks: CallbackList[[ReactionChange]] = CallbackList("an on_reactions callback")
        self.available = False

    # -- reading ------------------------------------------------------------------

    def of(self, message: str | ChatMessage) -> tuple[Reaction, ...]:
        """The reactions on ``message`` (a key or a ChatMessage), each emoji once."""
        found = self._store.get(message) if isinstance(message, str) else message
        own = self._own_id()
        return self._book.summary(found.id if found is not None else None, own)

    def on_change(self, callback: Callable[[ReactionChange], None]) -> Callable[[], None]:
        """Call ``callback(((key, id), ...))`` when reactions on those messages change."""
        return self._callbacks.add(callback)

    # -- lifecycle (ChatRoom's) ------------------------------------------------------

    async def open(self, room_id: int | None, rows: Sequence[Any]) -> None:
        """Subscribe to the room's reactions, then read those on ``rows`` (the first page).

        A server without reactions leaves :attr:`available` False; nothing is raised.
        """
        self._room = room_id
        query: dict[str, Any] = {"fields": list(REACTION_FIELDS)}
        if room_id is not None:
            query["filter"] = {"message": {"room": {"_eq": room_id}}}
        try:
            subscription = await self._session.subscribe(REACTIONS, query=query)
        except DirectusError as exc:
            logger.info("no reactions on this server (%s): the chat goes on without", exc)
            return
        self._remove_listener = attach(subscription, self._on_event, lambda: self._book.ids)
        self._subscription = subscription
        self.available = True
        await self.load(rows)

    async def load(self, rows: Iterable[Any]) -> None:
        """Read the reactions on the messages ``rows`` (a page just read); tell the news."""
        ids = sorted({row["id"] for row in rows if isinstance(row, dict) and "id" in row})
        if not self.available or not ids:
            return
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            query = {"fields": list(REACTION_FIELDS), "filter": {"message": {"_in": chunk}}}
            found += await self._session.read(REACTIONS, {**query, "limit": -1, "sort": ["id"]})
        self._tell(self._book.add_rows(found))

    def forget(self, change: StoreChange) -> None:
        """Messages left the room: their reactions went with them (the database cascades)."""
        if change.kind == "remove":
            self._book.forget_messages(m.id for m in change.messages if m.id is not None)

    async def close(self) -> None:
        remover, self._remove_listener = self._remove_listener, None
        subscription, self._subscription = self._subscription, None
        await detach(subscription, remover, REACTIONS)

    # -- writing --------------------------------------------------------------------

    async def add(self, message: str, emoji: str) -> tuple[Reaction, ...]:
        """React to ``message`` (a key) with ``emoji``; returns its reactions now.

        Reacting again with an emoji already yours changes nothing (no request).

        Raises:
            ValueError: not exactly one emoji; the message is not stored yet.
            KeyError: no such message.  RuntimeError: reactions are not available.
            Forbidden, DirectusError: the server refused, or did not answer.
        """
        target, clean, own = self._check(message, emoji)
        if self._book.own_row(target, clean, own) is None:
            key = reaction_key(target, clean, own)
            data = {"message": target, "emoji": clean, "reaction_key": key}
            try:
                row = await self._session.create(data, collection=REACTIONS)
            except DirectusError as exc:
                if exc.code != "RECORD_NOT_UNIQUE":
                    raise
                row = await self._read_key(key)  # there already: a click in another view
            if row.get("user_created") == own:  # the reply names us by id: we know our name
                row = {**row, "user_created": dict(self._session.user or {})}
            self._tell(self._book.add_rows([row]))
        return self.of(message)

    async def remove(self, message: str, emoji: str) -> tuple[Reaction, ...]:
        """Take back your ``emoji`` on ``message``; returns its reactions now.

        Taking back one that is not there changes nothing (no request).

        Raises:
            ValueError, KeyError, RuntimeError: as :meth:`add`.
            Forbidden: the server refused (only your own reactions can be taken back).
            DirectusError: the delete failed (the reaction stays).
        """
        target, clean, own = self._check(message, emoji)
        row_id = self._book.own_row(target, clean, own)
        if row_id is not None:
            try:
                await self._session.delete(row_id, collection=REACTIONS)
            except Forbidden as exc:
                # Taken back in another view meanwhile (a gone row is refused too)?
                query = {"fields": ["id"], "filter": {"id": {"_eq": row_id}}, "limit": 1}
                if await self._session.read(REACTIONS, query):
                    raise Forbidden(
                        f"the server refused to take back reaction {row_id} "
                        f"(only your own reactions can be taken back): {exc}",
                        code=exc.code,
                    ) from exc
            self._tell(self._book.remove_ids([row_id]))
        return self.of(message)

    async def toggle(self, message: str, emoji: str) -> tuple[Reaction, ...]:
        """:meth:`remove` your ``emoji`` on ``message`` if it is there, else :meth:`add` it."""
        target, clean, own = self._check(message, emoji)
        mine = self._book.own_row(target, clean, own) is not None
        return await (self.remove if mine else self.add)(message, clean)

    # -- internals ------------------------------------------------------------------

    def _check(self, key: str, emoji: str) -> tuple[int, str, str]:
        """The message's id, the emoji (checked) and the user's id, for a write."""
        clean = check_emoji(emoji)
        if not self.available:
            raise RuntimeError("this server has no reactions (apply the chat schema)")
        target = self._store.get(key)
        if target is None:
            raise KeyError(key)
        if target.status is not MessageStatus.SENT or target.id is None:
            status = target.status.value
            raise ValueError(f"only a sent message takes reactions; this one is {status}")
        own = self._own_id()
        if own is None:
            raise RuntimeError("not logged in")
        return target.id, clean, own

    async def _read_key(self, key: str) -> dict[str, Any]:
        query = {"fields": list(REACTION_FIELDS), "filter": {"reaction_key": {"_eq": key}}}
        rows = await self._session.read(REACTIONS, {**query, "limit": 1})
        if not rows:
            raise DirectusError(
                f"the reaction {key!r} was refused as a duplicate, yet is not there"
            )
        return rows[0]

    def _own_id(self) -> str | None:
        user = self._session.user or {}
        own = user.get("id")
        return own if isinstance(own, str) else None

    def _on_event(self, event: SubscriptionEventLike) -> None:
        if event.event == "delete":
            self._tell(self._book.remove_ids(event.keys))
        elif event.event in ("create", "update"):
            self._tell(self._book.add_rows(event.data))

    def _tell(self, message_ids: set[int]) -> None:
        shown = []
        for message_id in sorted(message_ids):
            message = self._store.by_id(message_id)
            if message is not None:
                shown.append((message.key, message_id))
        if shown:
            self._callbacks(tuple(shown))
