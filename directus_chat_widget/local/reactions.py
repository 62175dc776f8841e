"""Reactions and replies, applied as code and idempotent.

- collection ``reactions``, one row per (message, user, emoji): ``id`` (auto
  integer), ``message`` (many-to-one to ``messages``; the database deletes a
  message's reactions with it), ``emoji``, ``reaction_key``, ``client_uid``,
  ``user_created`` and ``date_created`` (filled by Directus);
- field ``messages.reply_to``: the id of the message a message answers.

**One per (message, user, emoji).** Directus can make a single column unique,
not three together, so ``reaction_key`` holds ``"<message>:<emoji>:<user id>"``
and is unique. The field's own validation makes every write end the key with
the writer's id (``$CURRENT_USER``), so nobody can take someone else's place;
and a client counts a row as a reaction only when its key is exactly what its
``message``, ``emoji`` and ``user_created`` make (see
:mod:`directus_chat_widget.chat.reactions`). A double click therefore stores
one row: the second create breaks the unique key.

**A deleted message takes its reactions with it** (``ON DELETE CASCADE``): a
reaction on nothing means nothing. The database does it, so no subscription
hears of those rows; a client drops a message's reactions with the message.

**``reply_to`` is a plain integer, with no relation.** A parent that is
deleted leaves the id in place, so every view, even one opened later, can say
"the message it answered was deleted"; a key set to null on delete could not
tell that from "not a reply". (Measured on 11.17.4: a relation, even one
posted with ``schema: null``, adds a foreign key, and then deleting a message
that has a reply fails with INTERNAL_SERVER_ERROR on SQLite.)

Rows are checked again where the server cannot: ``emoji`` is at most 32
characters and has no ASCII but a keycap's; whether it is exactly one emoji
is the client's check (:func:`directus_chat_widget.chat.reactions.check_emoji`).
"""

from __future__ import annotations

from typing import Any

from ..rest import DirectusRest
from .fields import client_uid_field, filled_field, id_field
from .report import SchemaReport
from .rules import MESSAGES, REACTIONS

__all__ = ["ensure_reactions"]

# No ASCII but a keycap (1️⃣ #️⃣ *️⃣): "ok" and ":)" are not reactions. A JavaScript
# pattern (Directus validates with Joi), without the u flag: UTF-16 units.
_EMOJI_PATTERN = r"^(?:[0-9#*]\uFE0F?\u20E3|[^\x00-\x7F]+)$"


def _reaction_fields() -> list[dict[str, Any]]:
    return [
        id_field(),
        {
            "field": "message",
            "type": "integer",
            "meta": {"interface": "select-dropdown-m2o", "required": True},
            "schema": {"is_nullable": False, "is_indexed": True},
        },
        {
            "field": "emoji",
            "type": "string",
            "meta": {
                "interface": "input",
                "required": True,
                "validation": {"emoji": {"_regex": _EMOJI_PATTERN}},
                "validation_message": "a reaction is one emoji",
            },
            "schema": {"is_nullable": False, "max_length": 32},
        },
        {
            "field": "reaction_key",
            "type": "string",
            "meta": {
                "interface": "input",
                "hidden": True,
                "note": "<message>:<emoji>:<user id>: unique, so one per (message, user, emoji)",
                # Resolved per request: only the writer's own id can end a key.
                "validation": {"reaction_key": {"_ends_with": "$CURRENT_USER"}},
                "validation_message": "a reaction key ends with your own user id",
            },
            "schema": {"is_unique": True, "is_nullable": False, "max_length": 128},
        },
        client_uid_field(),
        filled_field("user_created", "uuid", "user-created", "select-dropdown-m2o", "user"),
        filled_field("date_created", "timestamp", "date-created", "datetime", "datetime"),
    ]


def _reply_field() -> dict[str, Any]:
    return {
        "field": "reply_to",
        "type": "integer",
        "meta": {"interface": "input", "note": "The id of the message this one answers"},
        "schema": {"is_nullable": True},
    }


async def _names(rest: DirectusRest, token: str, path: str, key: str) -> set[str]:
    return {str(item[key]) for item in await rest.request("GET", path, token=token)}


async def _relate(
    rest: DirectusRest,
    token: str,
    report: SchemaReport,
    collection: str,
    field: str,
    related: str,
    schema: dict[str, Any],
) -> None:
    relations = await rest.request("GET", f"/relations/{collection}", token=token)
    linked = any(rel.get("field") == field for rel in relations)
    if not linked:
        body = {"collection": collection, "field": field, "related_collection": related}
        await rest.request("POST", "/relations", token=token, json={**body, "schema": schema})
    report.note(f"relation {collection}.{field} -> {related}", not linked)


async def ensure_reactions(rest: DirectusRest, token: str, report: SchemaReport) -> None:
    """Make reactions and ``messages.reply_to`` exist. Run after ``messages``; safe again."""
    collections = await _names(rest, token, "/collections", "collection")
    if REACTIONS not in collections:
        body = {
            "collection": REACTIONS,
            "meta": {"icon": "add_reaction", "note": "Emoji reactions (directus-chat-widget)"},
            "schema": {},
            "fields": _reaction_fields(),
        }
        await rest.request("POST", "/collections", token=token, json=body)
    report.note(f"collection {REACTIONS}", REACTIONS not in collections)
    await _relate(rest, token, report, REACTIONS, "message", MESSAGES, {"on_delete": "CASCADE"})
    users = "directus_users"
    await _relate(rest, token, report, REACTIONS, "user_created", users, {"on_delete": "SET NULL"})
    fields = await _names(rest, token, f"/fields/{MESSAGES}", "field")
    if "reply_to" not in fields:
        await rest.request("POST", f"/fields/{MESSAGES}", token=token, json=_reply_field())
    report.note(f"field {MESSAGES}.reply_to", "reply_to" not in fields)
