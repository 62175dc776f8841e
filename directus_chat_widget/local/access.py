"""Who may do what in the chat: the "Chat user" policy, the Public policy, and chat users.

The rules, as Directus permissions (``$CURRENT_USER`` is the logged-in user)::

    Chat user policy (held by every chat user, directly or through a role)
      messages        read     all fields
      messages        create   content, client_uid
      messages        update   content              where user_created = $CURRENT_USER
      messages        delete                        where user_created = $CURRENT_USER
      directus_users  read     id, first_name, last_name   of users who hold this policy

    Public policy (anyone, no login)
      nothing; with public_read=True (a display wall) the two read rules above

``id``, ``user_created``, ``date_created`` and ``date_updated`` are written by
Directus only: a create or update that names them is refused (FORBIDDEN).

For each (collection, action) pair above, on both policies, the kit makes the
server match: a missing rule is created, a rule that differs (more fields, no
filter) is changed in place, and a rule the table does not list is removed.
Rules on other collections are never touched. Policies are attached to users
directly (``directus_access``), as the seed tutorial attaches Public; a role
that holds the policy works as well, and the user filter counts both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DirectusError, ServerError
from ..rest import DirectusRest
from .report import SchemaReport

__all__ = [
    "CHAT_POLICY_NAME",
    "MESSAGE_CREATE_FIELDS",
    "MESSAGE_UPDATE_FIELDS",
    "USER_FIELDS",
    "Refusal",
    "Rule",
    "apply_rules",
    "chat_policy_id",
    "chat_rules",
    "ensure_chat_user",
    "find_chat_policy",
    "members_filter",
    "move_public_users",
    "public_policy_id",
    "public_rules",
]

logger = logging.getLogger(__name__)

CHAT_POLICY_NAME = "Chat user"
_CHAT_POLICY_NOTE = (
    "directus-chat-widget: read messages and chat members' names; post, edit and delete "
    "one's own messages. No app access."
)
# `id` is readable because every message names its author's uuid in `user_created`;
# without it a client could not tell its own messages apart.
USER_FIELDS = ("id", "first_name", "last_name")
MESSAGE_CREATE_FIELDS = ("content", "client_uid")
MESSAGE_UPDATE_FIELDS = ("content",)
_OWN: dict[str, Any] = {"user_created": {"_eq": "$CURRENT_USER"}}
_OWN_TEXT = "own messages only (user_created = $CURRENT_USER)"
_MEMBERS_TEXT = f"only users holding the {CHAT_POLICY_NAME} policy"
_MESSAGES = "messages"
_USERS = "directus_users"
# The (collection, action) pairs whose rules the kit decides, on both policies.
_MANAGED = (
    (_MESSAGES, "read"),
    (_MESSAGES, "create"),
    (_MESSAGES, "update"),
    (_MESSAGES, "delete"),
    (_USERS, "read"),
)


@dataclass(frozen=True)
class Rule:
    """One permission: ``action`` on ``collection``, for ``fields`` of the rows matching ``rows``.

    ``without`` says what stops working when the server refuses it.
    """

    collection: str
    action: str
    fields: tuple[str, ...]
    rows: Mapping[str, Any] | None = None
    without: str = ""
    rows_text: str = ""  # ``rows`` for people, in reports

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
        Rule(_MESSAGES, "read", ("*",), without="chat users cannot read messages"),
        Rule(_MESSAGES, "create", MESSAGE_CREATE_FIELDS, without="chat users cannot post"),
        Rule(
            _MESSAGES,
            "update",
            MESSAGE_UPDATE_FIELDS,
            _OWN,
            without="nobody can edit their own messages",
            rows_text=_OWN_TEXT,
        ),
        Rule(
            _MESSAGES,
            "delete",
            ("*",),
            _OWN,
            without="nobody can delete their own messages",
            rows_text=_OWN_TEXT,
        ),
        Rule(
            _USERS,
            "read",
            USER_FIELDS,
            members_filter(chat_policy),
            without="messages show no author names",
            rows_text=_MEMBERS_TEXT,
        ),
    )


def public_rules(chat_policy: str, *, public_read: bool) -> tuple[Rule, ...]:
    """Nothing, unless ``public_read``: then reading messages and chat members' names."""
    if not public_read:
        return ()
    return (
        Rule(_MESSAGES, "read", ("*",), without="the public cannot read messages"),
        Rule(
            _USERS,
            "read",
            USER_FIELDS,
            members_filter(chat_policy),
            without="the public sees no author names",
            rows_text=_MEMBERS_TEXT,
        ),
    )


def _describe(collection: str, action: str, fields: Sequence[str] | None) -> str:
    text = f"{action} on {collection}"
    if fields and action != "delete":
        text += f" ({', '.join(fields)})"
    return text


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _matches(row: Mapping[str, Any], rule: Rule) -> bool:
    if rule.action != "delete" and set(row.get("fields") or []) != set(rule.fields):
        return False
    rows = row.get("permissions")
    same_rows = (_empty(rows) and _empty(rule.rows)) or rows == rule.rows
    return same_rows and _empty(row.get("validation")) and _empty(row.get("presets"))


def _body(rule: Rule) -> dict[str, Any]:
    return {
        "fields": list(rule.fields),
        "permissions": dict(rule.rows) if rule.rows else None,
        "validation": None,
        "presets": None,
    }


def _restricted(exc: DirectusError) -> bool:
    return exc.code == "RESOURCE_RESTRICTED" or "restricted" in str(exc).lower()


# -- policies ------------------------------------------------------------------------------


async def public_policy_id(rest: DirectusRest, token: str) -> str:
    """The id of the Public policy: the one attached to no role and no user.

    Raises:
        ServerError: the server has no Public policy (Directus < 11).
    """
    rows = await rest.request(
        "GET",
        "/access",
        token=token,
        params={"filter[role][_null]": "true", "filter[user][_null]": "true", "fields": "policy"},
    )
    if not rows:
        raise ServerError("this Directus has no Public policy (policies need Directus >= 11)")
    return str(rows[0]["policy"])


async def find_chat_policy(rest: DirectusRest, token: str) -> str | None:
    """The id of the policy named ``Chat user``, None when there is none."""
    rows = await rest.request(
        "GET",
        "/policies",
        token=token,
        params={"filter": {"name": {"_eq": CHAT_POLICY_NAME}}, "fields": "id", "sort": "id"},
    )
    return str(rows[0]["id"]) if rows else None


async def chat_policy_id(rest: DirectusRest, token: str, report: SchemaReport) -> str:
    """The chat policy's id, made (no app access, no admin access) if missing."""
    found = await find_chat_policy(rest, token)
    what = f"policy {CHAT_POLICY_NAME}"
    if found is not None:
        report.keep(what)
        return found
    made = await rest.request(
        "POST",
        "/policies",
        token=token,
        json={
            "name": CHAT_POLICY_NAME,
            "icon": "forum",
            "description": _CHAT_POLICY_NOTE,
            "admin_access": False,
            "app_access": False,
            "enforce_tfa": False,
        },
    )
    report.add(what)
    return str(made["id"])


# -- permissions -----------------------------------------------------------------------------


async def apply_rules(
    rest: DirectusRest,
    token: str,
    policy: str,
    label: str,
    rules: Sequence[Rule],
    report: SchemaReport,
) -> list[Refusal]:
    """Make ``policy``'s rules for the managed pairs exactly ``rules``; returns the refusals.

    A rule the server refuses is left out, and whatever the policy held for
    that pair is removed rather than kept broader than asked: access is
    narrowed, never widened, when the server will not store a rule.
    """
    rows = await rest.request(
        "GET",
        "/permissions",
        token=token,
        params={
            "filter": {"policy": {"_eq": policy}, "collection": {"_in": [_MESSAGES, _USERS]}},
            "fields": "id,collection,action,fields,permissions,validation,presets",
            "limit": -1,
            "sort": "id",
        },
    )
    wanted = {(rule.collection, rule.action): rule for rule in rules}
    refused: list[Refusal] = []
    for pair in _MANAGED:
        have = [row for row in rows or [] if (row["collection"], row["action"]) == pair]
        rule = wanted.get(pair)
        if rule is None:
            for row in have:
                await _delete(rest, token, label, row, report)
            continue
        exact = next((row for row in have if _matches(row, rule)), None)
        if exact is not None:
            report.keep(f"{label} {rule.describe()}")
            extra = [row for row in have if row is not exact]
        else:
            try:
                await _put(rest, token, policy, label, rule, have[0] if have else None, report)
            except DirectusError as exc:
                if not _restricted(exc):
                    raise
                refused.append(Refusal(label, rule, exc.code, str(exc)))
                extra = have  # none of them is what was asked: take them away
            else:
                extra = have[1:]
        for row in extra:
            await _delete(rest, token, label, row, report)
    return refused


async def _put(
    rest: DirectusRest,
    token: str,
    policy: str,
    label: str,
    rule: Rule,
    old: Mapping[str, Any] | None,
    report: SchemaReport,
) -> None:
    if old is None:
        body = {"policy": policy, "collection": rule.collection, "action": rule.action}
        await rest.request("POST", "/permissions", token=token, json={**body, **_body(rule)})
        report.add(f"{label} {rule.describe()}")
        return
    await rest.request("PATCH", f"/permissions/{old['id']}", token=token, json=_body(rule))
    report.modify(f"{label} {_row_text(old)} -> {rule.describe()}")


async def _delete(
    rest: DirectusRest, token: str, label: str, row: Mapping[str, Any], report: SchemaReport
) -> None:
    await rest.request("DELETE", f"/permissions/{row['id']}", token=token)
    report.remove(f"{label} {_row_text(row)}")


def _row_text(row: Mapping[str, Any]) -> str:
    """A rule as the server holds it, in the words of :meth:`Rule.describe` where it can."""
    rows = row.get("permissions")
    text = _describe(str(row["collection"]), str(row["action"]), row.get("fields") or [])
    if not isinstance(rows, Mapping) or not rows:
        return text
    if rows == _OWN:
        return f"{text}, {_OWN_TEXT}"
    held = rows.get("_or")
    if isinstance(held, list) and held and isinstance(held[0], Mapping):
        policy = held[0].get("policies", {}).get("policy", {}).get("_eq")
        if policy is not None and rows == members_filter(str(policy)):
            return f"{text}, {_MEMBERS_TEXT}"
    return f"{text} where {json.dumps(rows, separators=(',', ':'))}"


# -- users -----------------------------------------------------------------------------------


async def move_public_users(
    rest: DirectusRest, token: str, public: str, chat: str, report: SchemaReport
) -> None:
    """Users attached to the Public policy itself (the seed's chat users) get the chat policy.

    Holding Public explicitly only ever served the seed's setup, where it let
    chat users post; with Public read-only or closed, they need the chat policy.
    """
    rows = await rest.request(
        "GET",
        "/access",
        token=token,
        params={
            "filter": {"policy": {"_eq": public}, "user": {"_nnull": True}},
            "fields": "id,user.id,user.email",
            "limit": -1,
        },
    )
    for row in rows or []:
        user = row.get("user") or {}
        who = f"user {user.get('email') or user.get('id')}"
        if await _holds(rest, token, str(user.get("id")), chat):
            await rest.request("DELETE", f"/access/{row['id']}", token=token)
        else:
            await rest.request("PATCH", f"/access/{row['id']}", token=token, json={"policy": chat})
        report.modify(f"{who}: moved from the Public policy to {CHAT_POLICY_NAME}")


async def _holds(rest: DirectusRest, token: str, user: str, policy: str) -> bool:
    rows = await rest.request(
        "GET",
        "/access",
        token=token,
        params={"filter": {"user": {"_eq": user}, "policy": {"_eq": policy}}, "fields": "id"},
    )
    return bool(rows)


async def ensure_chat_user(
    rest: DirectusRest,
    token: str,
    policy: str,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    report: SchemaReport,
    label: str = "chat user",
) -> str:
    """A user holding the chat policy: created if the email is new, else given the policy.

    An existing user keeps their password and names. Returns the user's id.
    """
    found = await rest.request(
        "GET",
        "/users",
        token=token,
        params={"filter": {"email": {"_eq": email}}, "fields": "id"},
    )
    what = f"{label} {email}"
    if not found:
        made = await rest.request(
            "POST",
            "/users",
            token=token,
            json={
                "email": email,
                "password": password,
                "first_name": first_name,
                "last_name": last_name,
                "policies": {"create": [{"policy": policy}]},
            },
        )
        report.add(what)
        return str(made["id"])
    user = str(found[0]["id"])
    if await _holds(rest, token, user, policy):
        report.keep(what)
    else:
        await rest.request("POST", "/access", token=token, json={"user": user, "policy": policy})
        report.modify(f"{what}: given the {CHAT_POLICY_NAME} policy")
    return user
