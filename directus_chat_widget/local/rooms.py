"""The chat's rooms, applied as code and idempotent: a ``rooms`` collection and ``messages.room``.

- collection ``rooms``: ``id`` (auto integer), ``name`` (unique, required),
  ``client_uid`` (unique, for exactly-once creates), ``user_created`` and
  ``date_created`` (filled by Directus);
- the room ``general`` (:data:`DEFAULT_ROOM`), the tutorial's single room;
- field ``messages.room``: a many-to-one to ``rooms``, not nullable, whose
  database default is ``general``'s id.

The default does two jobs. Adding the column to a table that holds messages
(an old data folder, from before rooms) fills every existing row with it, so
the migration is one schema change, and the messages keep their
``date_updated`` (an update through the API would stamp every one as edited).
And a create that names no room lands in ``general``, never in no room; an
explicit ``room: null`` is refused by the database.
"""

from __future__ import annotations

import logging
from typing import Any

from ..rest import DirectusRest
from .fields import client_uid_field, ensure_collection, filled_field, id_field
from .report import SchemaReport
from .rules import MESSAGES, ROOMS

__all__ = ["DEFAULT_ROOM", "ensure_rooms"]

logger = logging.getLogger(__name__)

DEFAULT_ROOM = "general"


def _room_fields() -> list[dict[str, Any]]:
    return [
        id_field(),
        {
            "field": "name",
            "type": "string",
            "meta": {"interface": "input", "required": True},
            "schema": {"is_unique": True, "is_nullable": False, "max_length": 80},
        },
        client_uid_field(),  # as on messages: a create resent after a lost reply is looked up
        filled_field("user_created", "uuid", "user-created", "select-dropdown-m2o", "user"),
        filled_field("date_created", "timestamp", "date-created", "datetime", "datetime"),
    ]


def _room_field(default_room: int) -> dict[str, Any]:
    return {
        "field": "room",
        "type": "integer",
        "meta": {"interface": "select-dropdown-m2o", "display": "related-values"},
        # Indexed: a room's latest page is read by room, newest id first.
        "schema": {"is_nullable": False, "default_value": default_room, "is_indexed": True},
    }


async def _names(rest: DirectusRest, token: str, path: str, key: str) -> set[str]:
    return {str(item[key]) for item in await rest.request("GET", path, token=token)}


async def _default_room(rest: DirectusRest, token: str, report: SchemaReport) -> int:
    query = {"filter": {"name": {"_eq": DEFAULT_ROOM}}, "fields": "id", "limit": 1}
    rows = await rest.request("GET", f"/items/{ROOMS}", token=token, params=query)
    report.note(f"room {DEFAULT_ROOM}", not rows)
    if rows:
        return int(rows[0]["id"])
    row = await rest.request("POST", f"/items/{ROOMS}", token=token, json={"name": DEFAULT_ROOM})
    return int(row["id"])


async def ensure_rooms(rest: DirectusRest, token: str, report: SchemaReport) -> int:
    """Make rooms exist and every message belong to one; returns the default room's id.

    Run after the ``messages`` collection exists. Safe to run again.
    """
    meta = {"icon": "forum", "note": "Chat rooms (directus-chat-widget)"}
    await ensure_collection(rest, token, report, ROOMS, meta, _room_fields())
    default_room = await _default_room(rest, token, report)
    fields = await _names(rest, token, f"/fields/{MESSAGES}", "field")
    if "room" not in fields:
        # Existing messages take the default: this is the migration of an old folder.
        spec = _room_field(default_room)
        await rest.request("POST", f"/fields/{MESSAGES}", token=token, json=spec)
        logger.info("messages without a room moved into %r", DEFAULT_ROOM)
    report.note(f"field {MESSAGES}.room", "room" not in fields)
    relations = await rest.request("GET", f"/relations/{MESSAGES}", token=token)
    linked = any(rel.get("field") == "room" for rel in relations)
    if not linked:
        relation = {
            "collection": MESSAGES,
            "field": "room",
            "related_collection": ROOMS,
            "schema": {"on_delete": "NO ACTION"},
        }
        await rest.request("POST", "/relations", token=token, json=relation)
    report.note(f"relation {MESSAGES}.room -> {ROOMS}", not linked)
    return default_room
