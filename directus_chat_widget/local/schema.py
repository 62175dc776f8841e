"""The chat's schema, permissions and demo users, applied as code and idempotent.

What the tutorial has a reader click in the admin app, done over the REST API
with an admin token, against any Directus (not only the local one):

- collection ``messages``: ``id`` (auto integer), ``content`` (text, textarea),
  ``user_created`` (uuid, m2o to ``directus_users``, filled by Directus),
  ``date_created`` (timestamp, filled by Directus), and one field the tutorial
  does not have: ``client_uid`` (unique string the client sets on each create,
  so a create resent after a lost reply is never stored twice);
- the Public policy may create and read ``messages`` and read only the
  ``id``, ``first_name`` and ``last_name`` of ``directus_users``;
- chat users hold the Public policy only (no role, no admin-app access).

Every step reads first and writes only what is missing, so applying twice
changes nothing. A permission the server refuses (Directus 12 without a licence
refuses field-limited rules with RESOURCE_RESTRICTED) raises
:class:`PermissionRefused`; access is never widened to make it fit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DirectusError, PermissionRefused, ServerError
from ..rest import DirectusRest

__all__ = [
    "CHAT_COLLECTION",
    "DEMO_USERS",
    "USER_FIELDS",
    "DemoUser",
    "SchemaReport",
    "apply_chat_schema",
    "apply_chat_schema_as_admin",
]

logger = logging.getLogger(__name__)

CHAT_COLLECTION = "messages"

# `id` is readable because every message already names its author's uuid in
# `user_created`; without it a client could not tell its own messages apart.
USER_FIELDS = ("id", "first_name", "last_name")


@dataclass(frozen=True)
class DemoUser:
    """A chat account the local setup creates. Demo only: the password is public."""

    email: str
    password: str = field(repr=False)
    first_name: str
    last_name: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("ada@example.com", "ada-chat-demo", "Ada", "Lovelace"),
    DemoUser("grace@example.com", "grace-chat-demo", "Grace", "Hopper"),
)


@dataclass
class SchemaReport:
    """What :func:`apply_chat_schema` changed; empty lists mean it was already in place."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created)

    def note(self, what: str, created: bool) -> None:
        (self.created if created else self.unchanged).append(what)
        if created:
            logger.info("chat schema: created %s", what)


def _message_fields() -> list[dict[str, Any]]:
    return [
        {
            "field": "id",
            "type": "integer",
            "meta": {"hidden": True, "interface": "input", "readonly": True},
            "schema": {"is_primary_key": True, "has_auto_increment": True},
        },
        {
            "field": "content",
            "type": "text",
            "meta": {"interface": "input-multiline", "required": True},
            "schema": {},
        },
        {
            "field": "user_created",
            "type": "uuid",
            "meta": {
                "special": ["user-created"],
                "interface": "select-dropdown-m2o",
                "display": "user",
                "readonly": True,
                "hidden": True,
            },
            "schema": {},
        },
        {
            "field": "date_created",
            "type": "timestamp",
            "meta": {
                "special": ["date-created"],
                "interface": "datetime",
                "display": "datetime",
                "readonly": True,
                "hidden": True,
            },
            "schema": {},
        },
        {
            # Written by the client with each create; unique, so a create resent
            # after a lost reply is looked up instead of stored twice.
            "field": "client_uid",
            "type": "string",
            "meta": {
                "interface": "input",
                "hidden": True,
                "readonly": True,
                "note": "Set by the chat client to make resends idempotent",
            },
            "schema": {"is_unique": True, "is_nullable": True, "max_length": 64},
        },
    ]


async def _ensure_collection(rest: DirectusRest, token: str, report: SchemaReport) -> None:
    names = {item["collection"] for item in await rest.request("GET", "/collections", token=token)}
    if CHAT_COLLECTION not in names:
        await rest.request(
            "POST",
            "/collections",
            token=token,
            json={
                "collection": CHAT_COLLECTION,
                "meta": {"icon": "chat", "note": "Chat messages (directus-chat-widget)"},
                "schema": {},
                "fields": _message_fields(),
            },
        )
        report.note(f"collection {CHAT_COLLECTION}", True)
    else:
        existing = {
            item["field"]
            for item in await rest.request("GET", f"/fields/{CHAT_COLLECTION}", token=token)
        }
        for spec in _message_fields():
            if spec["field"] not in existing:
                await rest.request("POST", f"/fields/{CHAT_COLLECTION}", token=token, json=spec)
            report.note(f"field {CHAT_COLLECTION}.{spec['field']}", spec["field"] not in existing)
    relations = await rest.request("GET", f"/relations/{CHAT_COLLECTION}", token=token)
    has_author = any(rel.get("field") == "user_created" for rel in relations)
    if not has_author:
        await rest.request(
            "POST",
            "/relations",
            token=token,
            json={
                "collection": CHAT_COLLECTION,
                "field": "user_created",
                "related_collection": "directus_users",
                "schema": {"on_delete": "SET NULL"},
            },
        )
    report.note("relation messages.user_created -> directus_users", not has_author)


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


async def _ensure_permission(
    rest: DirectusRest,
    token: str,
    policy: str,
    collection: str,
    action: str,
    fields: Sequence[str],
    report: SchemaReport,
) -> None:
    what = f"public {action} on {collection} ({', '.join(fields)})"
    rows = await rest.request(
        "GET",
        "/permissions",
        token=token,
        params={
            "filter[policy][_eq]": policy,
            "filter[collection][_eq]": collection,
            "filter[action][_eq]": action,
            "fields": "id,fields",
        },
    )
    wanted = set(fields)
    for row in rows:
        have = set(row.get("fields") or [])
        if "*" in have or wanted <= have:
            report.note(what, False)
            return
    body = {
        "policy": policy,
        "collection": collection,
        "action": action,
        "fields": list(fields),
        "permissions": {},
        "validation": {},
    }
    try:
        if rows:
            # Add the missing fields to the rule that exists rather than stacking a second rule.
            merged = sorted(set(rows[0].get("fields") or []) | wanted)
            await rest.request(
                "PATCH", f"/permissions/{rows[0]['id']}", token=token, json={"fields": merged}
            )
        else:
            await rest.request("POST", "/permissions", token=token, json=body)
    except DirectusError as exc:
        if exc.code == "RESOURCE_RESTRICTED" or "restricted" in str(exc).lower():
            raise PermissionRefused(
                f"the server refused the permission '{what}' ({exc.code}: {exc}). "
                "Directus 12 without a licence does not allow field-limited permissions; "
                "the chat needs them so the public cannot read users' emails. "
                "Use Directus 11.17.4 (the kit's default) or a licensed Directus 12. "
                "Nothing was widened to work around it.",
                code=exc.code,
            ) from exc
        raise
    report.note(what, True)


async def _ensure_demo_user(
    rest: DirectusRest, token: str, policy: str, user: DemoUser, report: SchemaReport
) -> None:
    found = await rest.request(
        "GET",
        "/users",
        token=token,
        params={"filter[email][_eq]": user.email, "fields": "id"},
    )
    if not found:
        await rest.request(
            "POST",
            "/users",
            token=token,
            json={
                "email": user.email,
                "password": user.password,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "policies": {"create": [{"policy": policy}]},
            },
        )
    report.note(f"demo user {user.email}", not found)


async def apply_chat_schema(
    url: str,
    admin_token: str,
    *,
    demo_users: Sequence[DemoUser] = DEMO_USERS,
    collection_only: bool = False,
) -> SchemaReport:
    """Make a Directus ready for the chat; safe to call any number of times.

    Args:
        url: the Directus base URL.
        admin_token: an access token (or static token) of an administrator.
        demo_users: chat accounts to create if missing; pass ``()`` for none.
        collection_only: create the collection but leave permissions alone.

    Raises:
        InvalidCredentials, TokenExpired: the token is not accepted.
        Forbidden: the token is not an administrator's.
        PermissionRefused: the server refuses a permission the chat needs.
        ServerUnreachable: the URL does not answer.
    """
    report = SchemaReport()
    async with DirectusRest(url) as rest:
        await _ensure_collection(rest, admin_token, report)
        if collection_only:
            return report
        policy = await public_policy_id(rest, admin_token)
        await _ensure_permission(rest, admin_token, policy, CHAT_COLLECTION, "read", ["*"], report)
        await _ensure_permission(
            rest, admin_token, policy, CHAT_COLLECTION, "create", ["*"], report
        )
        await _ensure_permission(
            rest, admin_token, policy, "directus_users", "read", USER_FIELDS, report
        )
        for user in demo_users:
            await _ensure_demo_user(rest, admin_token, policy, user, report)
    return report


async def apply_chat_schema_as_admin(
    url: str,
    email: str,
    password: str,
    *,
    demo_users: Sequence[DemoUser] = DEMO_USERS,
) -> SchemaReport:
    """Log in as an administrator, then :func:`apply_chat_schema`.

    Raises:
        InvalidCredentials: the admin login was refused; and as apply_chat_schema.
    """
    async with DirectusRest(url) as rest:
        tokens = await rest.login(email, password)
        try:
            return await apply_chat_schema(url, tokens.access_token, demo_users=demo_users)
        finally:
            await rest.logout(tokens.refresh_token)
