"""Read positions, applied as code and idempotent: how far each user has read in each room.

- collection ``read_positions``, one row per (user, room):

  - ``slot``: ``"<user id>/<room id>"``, unique and required. Directus makes
    no unique constraint over two fields, so the pair is one string, and the
    database refuses a second row for it. The chat-user policy only accepts a
    slot that starts with its writer's own id (see :mod:`.rules`): a user
    cannot take, read or change another user's slot;
  - ``room``: a many-to-one to ``rooms``;
  - ``last_read``: the id of the newest message the user has seen there;
  - ``user_created`` (the owner, filled by Directus; the rows go with the
    user), ``date_updated``, and ``client_uid`` (the session fills it on
    every create, as on messages and rooms).

Run after :func:`.rooms.ensure_rooms`. The chat's client writes these rows
sparingly (see :mod:`directus_chat_widget.chat.reads`).
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
from .rules import READS, ROOMS

__all__ = ["ensure_read_positions"]

# Room and message ids are integers, a user id a 36-character uuid: "<uuid>/<room>".
SLOT_LENGTH = 64


def _fields() -> list[dict[str, Any]]:
    return [
        id_field(),
        slot_field("slot", "<user id>/<room id>", SLOT_LENGTH),
        room_field(),
        {
            "field": "last_read",
            "type": "integer",
            "meta": {"interface": "input", "note": "the newest message id seen"},
            "schema": {"is_nullable": False, "default_value": 0},
        },
        filled_field("user_created", "uuid", "user-created", "select-dropdown-m2o", "user"),
        filled_field("date_updated", "timestamp", "date-updated", "datetime", "datetime"),
        client_uid_field(),
    ]


# (field, related collection, what a delete of the related row does)
_RELATIONS = (("room", ROOMS, "CASCADE"), ("user_created", "directus_users", "CASCADE"))


async def ensure_read_positions(rest: DirectusRest, token: str, report: SchemaReport) -> None:
    """Make the ``read_positions`` collection and its two relations exist. Safe to run again."""
    meta = {"icon": "mark_chat_read", "note": "Read positions (directus-chat-widget)"}
    await ensure_collection(rest, token, report, READS, meta, _fields())
    await ensure_relations(rest, token, report, READS, _RELATIONS)
