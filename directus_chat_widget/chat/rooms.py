"""Rooms: find, list and create them, and the queries that keep a room's messages apart.

A room is a row of the ``rooms`` collection (see :mod:`directus_chat_widget.local.rooms`);
every message names its room in ``messages.room``. Chat users may read and
create rooms, never rename or delete them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import DirectusError
from ._ports import SessionLike

__all__ = [
    "DEFAULT_ROOM",
    "MAX_ROOM_NAME",
    "ROOMS",
    "Room",
    "check_room_name",
    "create_room",
    "find_room",
    "in_room",
    "list_rooms",
]

ROOMS = "rooms"
DEFAULT_ROOM = "general"
MAX_ROOM_NAME = 80  # the schema's max_length on rooms.name


@dataclass(frozen=True)
class Room:
    """One room: its server id and its unique name."""

    id: int
    name: str


def check_room_name(name: str) -> str:
    """``name`` as it would be stored (stripped), if it can be a room's name.

    Raises:
        ValueError: blank, or longer than :data:`MAX_ROOM_NAME` characters.
    """
    clean = name.strip() if isinstance(name, str) else ""
    if not clean:
        raise ValueError("a room needs a name")
    if len(clean) > MAX_ROOM_NAME:
        raise ValueError(f"room name is too long: {len(clean)} characters, the limit is 80")
    return clean


def in_room(room_id: int | None, query_filter: dict[str, Any] | None = None) -> dict[str, Any]:
    """``query_filter`` narrowed to the room ``room_id`` (None: no rooms, the filter as is)."""
    if room_id is None:
        return dict(query_filter or {})
    room = {"room": {"_eq": room_id}}
    return {"_and": [room, query_filter]} if query_filter else room


def _room(row: dict[str, Any]) -> Room:
    return Room(int(row["id"]), str(row["name"]))


async def find_room(session: SessionLike, name: str) -> Room | None:
    """The room called ``name`` (exactly), or None.

    Raises:
        Forbidden: the server has no rooms, or the user may not read them.
        DirectusError: the read failed.
    """
    query = {"filter": {"name": {"_eq": name}}, "fields": ["id", "name"], "limit": 1}
    rows = await session.read(ROOMS, query)
    return _room(rows[0]) if rows else None


async def list_rooms(session: SessionLike) -> list[Room]:
    """Every room, by name.

    Raises:
        Forbidden, DirectusError: as :func:`find_room`.
    """
    query = {"fields": ["id", "name"], "sort": ["name"], "limit": -1}
    return [_room(row) for row in await session.read(ROOMS, query)]


async def create_room(session: SessionLike, name: str) -> Room:
    """Open a new room called ``name`` (stripped).

    Raises:
        ValueError: the name is blank, too long, or taken (nothing is created).
        Forbidden: the user may not create rooms.
        DirectusError: the create failed.
    """
    clean = check_room_name(name)
    try:
        row = await session.create({"name": clean}, collection=ROOMS)
    except DirectusError as exc:
        if exc.code == "RECORD_NOT_UNIQUE":
            raise ValueError(f"a room called {clean!r} exists already") from exc
        raise
    return _room(row)
