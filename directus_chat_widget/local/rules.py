"""The chat's permission table, as data: what each policy may do, and how to read a server's rules.

The rules, as Directus permissions (``$CURRENT_USER`` is the logged-in user)::

    Chat user policy (held by every chat user, directly or through a role)
      messages        read     all fields
      messages        create   content, client_uid, room, attachment, reply_to
      messages        update   content              where user_created = $CURRENT_USER
      messages        delete                        where user_created = $CURRENT_USER
      directus_users  read     id, first_name, last_name   of users who hold this policy
      rooms           read     id, name, client_uid
      rooms           create   name, client_uid
      presence        read     id, key, room, typing, client_uid, user_created,
                               date_created, date_updated
      presence        create   key, room, typing, client_uid   if key starts with $CURRENT_USER
      presence        update   typing               where user_created = $CURRENT_USER
      presence        delete                        where user_created = $CURRENT_USER
      reactions       read     id, message, emoji, reaction_key, client_uid,
                               user_created, date_created
      reactions       create   message, emoji, reaction_key, client_uid
      reactions       delete                        where user_created = $CURRENT_USER
      read_positions  read     id, slot, room, last_read, client_uid   own rows only
      read_positions  create   slot, room, last_read, client_uid
                               valid only if slot starts with $CURRENT_USER
      read_positions  update   last_read            own rows only

    Rooms are never renamed or deleted by chat users: a room is shared, so a
    rename would move everyone's conversation and a delete would orphan
    other people's messages. Administrators do both in the admin app.

    Presence rows (one per user and room, see :mod:`.presence`) are written
    by their own user only; the key check keeps anyone from taking the key
    of another user's row before they do.

    Reactions are never updated: a change of mind is a delete and a create.
    Each row's ``reaction_key`` must end with its writer's id (the field's
    validation, see :mod:`.reactions`), so one user's row never blocks another's.

    A read position (see :mod:`.reads`) is one row per (user, room): its
    unique ``slot`` is ``"<user id>/<room id>"``, and the create rule's
    validation makes a slot start with its writer's own id, so nobody can
    take another user's slot. Nobody reads or changes anyone else's rows.

    Public policy (anyone, no login)
      nothing; with public_read=True (a display wall) the read rules above

    Files (attachments) on both policies: see :mod:`.file_rules`.

``id``, ``user_created``, ``date_created`` and ``date_updated`` are written by
Directus only: a create or update that names them is refused (FORBIDDEN).

Pure: no I/O. :mod:`.permissions` makes a server match this table,
:mod:`.access` makes the policies and the users that hold them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CHAT_POLICY_NAME",
    "MANAGED",
    "MESSAGES",
    "MESSAGE_CREATE_FIELDS",
    "MESSAGE_UPDATE_FIELDS",
    "PRESENCE",
    "PRESENCE_CREATE_FIELDS",
    "PRESENCE_FIELDS",
    "REACTIONS",
    "REACTION_CREATE_FIELDS",
    "REACTION_FIELDS",
    "READS",
    "READ_CREATE_FIELDS",
    "READ_FIELDS",
    "ROOMS",
    "ROOM_CREATE_FIELDS",
    "ROOM_FIELDS",
    "USERS",
    "USER_FIELDS",
    "Refusal",
    "Rule",
    "chat_rules",
    "members_filter",
    "public_rules",
    "row_body",
    "row_matches",
    "row_text",
]

CHAT_POLICY_NAME = "Chat user"
# `id` is readable because every message names its author's uuid in `user_created`;
# without it a client could not tell its own messages apart.
USER_FIELDS = ("id", "first_name", "last_name")
# attachment: a file of one's own upload (see .file_rules); never changed by an edit.
MESSAGE_CREATE_FIELDS = ("content", "client_uid", "room", "attachment", "reply_to")
# client_uid makes a room's create exactly-once, as a message's (it must be readable
# to be looked up after a lost reply).
ROOM_FIELDS = ("id", "name", "client_uid")
ROOM_CREATE_FIELDS = ("name", "client_uid")
REACTION_FIELDS = (
    "id",
    "message",
    "emoji",
    "reaction_key",
    "client_uid",
    "user_created",
    "date_created",
)
REACTION_CREATE_FIELDS = ("message", "emoji", "reaction_key", "client_uid")
MESSAGE_UPDATE_FIELDS = ("content",)
PRESENCE_FIELDS = (
    "id",
    "key",
    "room",
    "typing",
    "client_uid",
    "user_created",
    "date_created",
    "date_updated",
)
# client_uid, as on messages and rooms: the session makes every create exactly-once.
PRESENCE_CREATE_FIELDS = ("key", "room", "typing", "client_uid")
# A row's key is "<user id>@<room id>": it must be the creator's own.
_OWN_KEY: dict[str, Any] = {"key": {"_starts_with": "$CURRENT_USER"}}
_OWN: dict[str, Any] = {"user_created": {"_eq": "$CURRENT_USER"}}
_OWN_TEXT = "own messages only (user_created = $CURRENT_USER)"
_OWN_ROWS_TEXT = "own rows only (user_created = $CURRENT_USER)"
_MEMBERS_TEXT = f"only users holding the {CHAT_POLICY_NAME} policy"
MESSAGES = "messages"
USERS = "directus_users"
ROOMS = "rooms"
PRESENCE = "presence"
REACTIONS = "reactions"
READS = "read_positions"
READ_FIELDS = ("id", "slot", "room", "last_read", "client_uid")
READ_CREATE_FIELDS = ("slot", "room", "last_read", "client_uid")
_OWN_SLOT: dict[str, Any] = {"slot": {"_starts_with": "$CURRENT_USER"}}
# The (collection, action) pairs whose rules the kit decides, on both policies.
MANAGED = (
    (MESSAGES, "read"),
    (MESSAGES, "create"),
    (MESSAGES, "update"),
    (MESSAGES, "delete"),
    (USERS, "read"),
    (ROOMS, "read"),
    (ROOMS, "create"),
    (ROOMS, "update"),
    (ROOMS, "delete"),
    (PRESENCE, "read"),
    (PRESENCE, "create"),
    (PRESENCE, "update"),
    (PRESENCE, "delete"),
    (REACTIONS, "read"),
    (REACTIONS, "create"),
    (REACTIONS, "update"),
    (REACTIONS, "delete"),
    (READS, "read"),
    (READS, "create"),
    (READS, "update"),
    (READS, "delete"),
)


@dataclass(frozen=True)
class Rule:
    """One permission: ``action`` on ``collection``, for ``fields`` of the rows matching ``rows``.

    ``without`` says what stops working when the server refuses it;
    ``validation`` is what a written row must match (None: anything).
    """

    collection: str
    action: str
    fields: tuple[str, ...]
    rows: Mapping[str, Any] | None = None
    without: str = ""
    rows_text: str = ""  # ``rows`` for people, in reports
    validation: Mapping[str, Any] | None = None  # what a create's values must match
    presets: Mapping[str, Any] | None = None  # the values a create gets by default

    def describe(self) -> str:
        text = _describe(self.collection, self.action, self.fields)
        return f"{text}, {self.rows_text}" if self.rows_text else text


@dataclass(frozen=True)
class Refusal:
    """A rule the server would not store (Directus 12 without a licence), and why."""

    policy: str
    rule: Rule
    code: str | None
    message: str


def members_filter(chat_policy: str) -> dict[str, Any]:
    """Users who hold the chat policy, directly or through their role.

    Verified on 11.17.4: lists neither the administrator nor users of other
    policies, for a chat user and for the public alike.
    """
    held = {"policy": {"_eq": chat_policy}}
    return {"_or": [{"policies": held}, {"role": {"policies": held}}]}


def chat_rules(chat_policy: str) -> tuple[Rule, ...]:
    return (
        Rule(MESSAGES, "read", ("*",), without="chat users cannot read messages"),
        Rule(MESSAGES, "create", MESSAGE_CREATE_FIELDS, without="chat users cannot post"),
        Rule(
            MESSAGES,
            "update",
            MESSAGE_UPDATE_FIELDS,
            _OWN,
            without="nobody can edit their own messages",
            rows_text=_OWN_TEXT,
        ),
        Rule(
            MESSAGES,
            "delete",
            ("*",),
            _OWN,
            without="nobody can delete their own messages",
            rows_text=_OWN_TEXT,
        ),
        Rule(
            USERS,
            "read",
            USER_FIELDS,
            members_filter(chat_policy),
            without="messages show no author names",
            rows_text=_MEMBERS_TEXT,
        ),
        Rule(ROOMS, "read", ROOM_FIELDS, without="chat users see no rooms"),
        Rule(ROOMS, "create", ROOM_CREATE_FIELDS, without="chat users cannot open rooms"),
        *_reaction_rules(),
        *_presence_rules(),
        *_read_position_rules(),
    )


def _read_position_rules() -> tuple[Rule, ...]:
    """Each user's own read positions, and nobody else's (see the table above)."""
    lost = "no read position is kept"
    return (
        Rule(READS, "read", READ_FIELDS, _OWN, without=lost, rows_text=_OWN_ROWS_TEXT),
        Rule(
            READS,
            "create",
            READ_CREATE_FIELDS,
            without=lost,
            rows_text="slot starting with $CURRENT_USER",
            validation=_OWN_SLOT,
        ),
        Rule(READS, "update", ("last_read",), _OWN, without=lost, rows_text=_OWN_ROWS_TEXT),
    )


def _presence_rules() -> tuple[Rule, ...]:
    nobody = "nobody is shown online or typing"
    return (
        Rule(PRESENCE, "read", PRESENCE_FIELDS, without=nobody),
        Rule(
            PRESENCE,
            "create",
            PRESENCE_CREATE_FIELDS,
            without=nobody,
            rows_text="under the user's own key only",
            validation=_OWN_KEY,
        ),
        Rule(PRESENCE, "update", ("typing",), _OWN, without=nobody, rows_text=_OWN_ROWS_TEXT),
        Rule(PRESENCE, "delete", ("*",), _OWN, without=nobody, rows_text=_OWN_ROWS_TEXT),
    )


def _reaction_rules() -> tuple[Rule, ...]:
    return (
        Rule(REACTIONS, "read", REACTION_FIELDS, without="nobody sees reactions"),
        Rule(REACTIONS, "create", REACTION_CREATE_FIELDS, without="chat users cannot react"),
        Rule(
            REACTIONS,
            "delete",
            ("*",),
            _OWN,
            without="nobody can take back a reaction",
            rows_text="own reactions only (user_created = $CURRENT_USER)",
        ),
    )


def public_rules(chat_policy: str, *, public_read: bool) -> tuple[Rule, ...]:
    """Nothing, unless ``public_read``: then reading messages and chat members' names."""
    if not public_read:
        return ()
    return (
        Rule(MESSAGES, "read", ("*",), without="the public cannot read messages"),
        Rule(
            USERS,
            "read",
            USER_FIELDS,
            members_filter(chat_policy),
            without="the public sees no author names",
            rows_text=_MEMBERS_TEXT,
        ),
        Rule(ROOMS, "read", ROOM_FIELDS, without="the public sees no rooms"),
        Rule(REACTIONS, "read", REACTION_FIELDS, without="the public sees no reactions"),
    )


def _describe(collection: str, action: str, fields: Sequence[str] | None) -> str:
    text = f"{action} on {collection}"
    if fields and action != "delete":
        text += f" ({', '.join(fields)})"
    return text


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def row_matches(row: Mapping[str, Any], rule: Rule) -> bool:
    """The server's permission ``row`` grants exactly ``rule``: no more fields, no other rows."""
    if rule.action != "delete" and set(row.get("fields") or []) != set(rule.fields):
        return False
    pairs = (("permissions", rule.rows), ("validation", rule.validation), ("presets", rule.presets))
    return all(
        (_empty(row.get(name)) and _empty(want)) or row.get(name) == want for name, want in pairs
    )


def row_body(rule: Rule) -> dict[str, Any]:
    """What a permission row holds for ``rule``."""
    return {
        "fields": list(rule.fields),
        "permissions": dict(rule.rows) if rule.rows else None,
        "validation": dict(rule.validation) if rule.validation else None,
        "presets": dict(rule.presets) if rule.presets else None,
    }


def row_text(row: Mapping[str, Any]) -> str:
    """A rule as the server holds it, in the words of :meth:`Rule.describe` where it can."""
    rows = row.get("permissions")
    text = _describe(str(row["collection"]), str(row["action"]), row.get("fields") or [])
    if not isinstance(rows, Mapping) or not rows:
        return text
    if rows == _OWN:
        return f"{text}, {_OWN_TEXT if row['collection'] == MESSAGES else _OWN_ROWS_TEXT}"
    held = rows.get("_or")
    if isinstance(held, list) and held and isinstance(held[0], Mapping):
        policy = held[0].get("policies", {}).get("policy", {}).get("_eq")
        if policy is not None and rows == members_filter(str(policy)):
            return f"{text}, {_MEMBERS_TEXT}"
    return f"{text} where {json.dumps(rows, separators=(',', ':'))}"
