"""Who holds the chat's policies: the "Chat user" policy, the Public policy, and chat users.

What each policy may do is the table in :mod:`.rules`, applied by
:mod:`.permissions`. Policies are attached to users directly
(``directus_access``), as the seed tutorial attaches Public; a role that holds
the policy works as well, and the user filter counts both.
"""

from __future__ import annotations

import logging

from ..errors import ServerError
from ..rest import DirectusRest
from .report import SchemaReport
from .rules import CHAT_POLICY_NAME

__all__ = [
    "CHAT_POLICY_NAME",
    "chat_policy_id",
    "ensure_chat_user",
    "find_chat_policy",
    "move_public_users",
    "public_policy_id",
]

logger = logging.getLogger(__name__)

_CHAT_POLICY_NOTE = (
    "directus-chat-widget: read messages and chat members' names; post, edit and delete "
    "one's own messages. No app access."
)

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
