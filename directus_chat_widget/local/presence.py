"""Who is in a room and typing, as rows: the ``presence`` collection, as code and idempotent.

Directus has no presence of its own, so the chat keeps it in short-lived rows:
one per (user, room), which the user's client refreshes every few seconds and
readers judge by the server's own timestamps (see :mod:`directus_chat_widget.chat.presence`).

- ``id`` (auto integer);
- ``key``: ``<user id>@<room id>``, unique, so there is one row per user and
  room: a client that comes back finds its row instead of adding another;
- ``room``: a many-to-one to ``rooms`` (removed with its room);
- ``typing``: whether the user is typing now (judged by the row's age too);
- ``client_uid``: as on messages, so a create resent after a lost reply is
  looked up instead of refused;
- ``user_created``, ``date_created``, ``date_updated``: filled by Directus,
  never by the client. ``date_updated`` is the server's clock at the last
  refresh; it is what readers compare with.

The chat-user policy (see :mod:`.rules`) lets anyone read the rows, create a
row only under a key that starts with their own id (nobody can take another
user's key), and change or delete only their own rows.
"""

from __future__ import annotations

from typing import Any

from ..rest import DirectusRest
from .fields import (
    client_uid_field,
    ensure_collection,
    ensure_relations,
    filled_field,
    id_field,
    room_field,
    slot_field,
)
from .report import SchemaReport
from .rules import PRESENCE, ROOMS

__all__ = ["ensure_presence"]

_KEY_LENGTH = 100  # a uuid, "@" and a room id


def _presence_fields() -> list[dict[str, Any]]:
    return [
        id_field(),
        slot_field("key", "<user id>@<room id>", _KEY_LENGTH),
        room_field(indexed=True),
        {
            "field": "typing",
            "type": "boolean",
            "meta": {"interface": "boolean"},
            "schema": {"is_nullable": False, "default_value": False},
        },
        client_uid_field(),
        filled_field("user_created", "uuid", "user-created", "select-dropdown-m2o", "user"),
        filled_field("date_created", "timestamp", "date-created", "datetime", "datetime"),
        filled_field("date_updated", "timestamp", "date-updated", "datetime", "datetime"),
    ]


# A room removed by an administrator takes its presence rows along; so does a user.
_RELATIONS = (("room", ROOMS, "CASCADE"), ("user_created", "directus_users", "CASCADE"))


async def ensure_presence(rest: DirectusRest, token: str, report: SchemaReport) -> None:
    """Make the ``presence`` collection and its relations exist. Safe to run again.

    Run after the ``rooms`` collection exists.
    """
    meta = {
        "icon": "sensors",
        "hidden": True,
        "note": "Who is online and typing, per room (directus-chat-widget)",
    }
    await ensure_collection(rest, token, report, PRESENCE, meta, _presence_fields())
    await ensure_relations(rest, token, report, PRESENCE, _RELATIONS)
