"""The chat's schema, permissions and users, applied as code and idempotent.

What the tutorial has a reader click in the admin app, done over the REST API
with an admin token, against any Directus (not only the local one):

- collection ``messages``: ``id`` (auto integer), ``content`` (text, textarea),
  ``user_created`` (uuid, m2o to ``directus_users``, filled by Directus),
  ``date_created`` and ``date_updated`` (timestamps, filled by Directus), and
  ``client_uid`` (unique string the client sets on each create, so a create
  resent after a lost reply is never stored twice), and ``room`` (see
  :mod:`.rooms`: every message belongs to one room; an old folder's
  messages move into ``general``);
- the policy ``Chat user`` and what it and the Public policy may do (see
  :mod:`.rules`): chat users read, post, and edit or delete only their own
  messages; the public gets nothing unless ``public_read`` asks for reading;
- users attached to the Public policy itself (the seed tutorial's chat users)
  are moved onto ``Chat user``; chat accounts are created only when asked.

Every step reads first and writes only what differs, so applying twice changes
nothing; what it did is in the returned :class:`SchemaReport`. A permission the
server refuses (Directus 12 without a licence refuses field-limited and
filtered rules with RESOURCE_RESTRICTED) raises :class:`PermissionRefused`
after everything else was applied, naming each refusal and what still works;
access is never widened to make it fit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._sync import run_sync
from ..errors import PermissionRefused, ServerError, TokenExpired
from ..rest import DirectusRest
from .access import (
    chat_policy_id,
    ensure_chat_user,
    find_chat_policy,
    move_public_users,
    public_policy_id,
)
from .fields import client_uid_field, filled_field, id_field
from .guard import guard_missing
from .permissions import apply_rules
from .registration import ensure_chat_role, set_registration
from .report import SchemaReport
from .rooms import ensure_rooms
from .rules import CHAT_POLICY_NAME, USER_FIELDS, Refusal, chat_rules, public_rules

__all__ = [
    "CHAT_COLLECTION",
    "CHAT_POLICY_NAME",
    "DEMO_USERS",
    "USER_FIELDS",
    "DemoUser",
    "SchemaReport",
    "add_chat_user",
    "apply_chat_schema",
    "apply_chat_schema_as_admin",
]

logger = logging.getLogger(__name__)

# Logins an admin setup may use when its tokens expire before it is done.
_ADMIN_PASSES = 3

CHAT_COLLECTION = "messages"


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


def _message_fields() -> list[dict[str, Any]]:
    return [
        id_field(),
        {
            "field": "content",
            "type": "text",
            "meta": {"interface": "input-multiline", "required": True},
            "schema": {},
        },
        filled_field("user_created", "uuid", "user-created", "select-dropdown-m2o", "user"),
        filled_field("date_created", "timestamp", "date-created", "datetime", "datetime"),
        filled_field("date_updated", "timestamp", "date-updated", "datetime", "datetime"),
        client_uid_field(),
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


def _refused_error(refusals: Sequence[Refusal], in_place: Sequence[str]) -> PermissionRefused:
    refused = "; ".join(
        f"{one.policy} {one.rule.describe()} ({one.code}): {one.rule.without}" for one in refusals
    )
    still = "; ".join(in_place) if in_place else "no permission of the chat"
    return PermissionRefused(
        f"the server refused {len(refusals)} permission(s) the chat needs: {refused}. "
        f"Nothing was widened to make them fit. What is in place: {still}. "
        "Directus 12 without a licence refuses field-limited and filtered permissions "
        "(RESOURCE_RESTRICTED); use Directus 11.17.4 (the kit's default) or a licensed "
        "Directus 12.",
        code=refusals[0].code,
    )


async def apply_chat_schema(
    url: str,
    admin_token: str,
    *,
    demo_users: Sequence[DemoUser] = (),
    public_read: bool = False,
    collection_only: bool = False,
    registration: bool | None = None,
) -> SchemaReport:
    """Make a Directus ready for the chat; safe to call any number of times.

    Args:
        url: the Directus base URL.
        admin_token: an access token (or static token) of an administrator.
        demo_users: chat accounts to create if missing (default none: their
            passwords are published; the local server passes ``DEMO_USERS``).
        public_read: let anyone read messages and chat members' names without
            logging in (a display wall, a Voila page); the public never writes.
            False takes such access away again.
        collection_only: create the collection but leave permissions and users alone.
        registration: True lets anyone sign up (``/users/register``) into a
            ``Chat user`` role holding the chat policy, with no email check;
            False turns public sign-up off; None (default) leaves it as it is.
            See :mod:`.registration` before turning it on for a real server.

    Raises:
        InvalidCredentials, TokenExpired: the token is not accepted.
        Forbidden: the token is not an administrator's.
        PermissionRefused: the server refused permissions the chat needs (the
            rest is applied; the message names each refusal and what works).
        ServerUnreachable: the URL does not answer.
    """
    report = SchemaReport()
    async with DirectusRest(url) as rest:
        await _ensure_collection(rest, admin_token, report)
        await ensure_rooms(rest, admin_token, report)
        if collection_only:
            return report
        public = await public_policy_id(rest, admin_token)
        chat = await chat_policy_id(rest, admin_token, report)
        # Public first: whatever it must lose goes before anything is granted.
        asked = [
            ("public", public, public_rules(chat, public_read=public_read)),
            ("chat user", chat, chat_rules(chat)),
        ]
        refused: list[Refusal] = []
        for label, policy, rules in asked:
            refused += await apply_rules(rest, admin_token, policy, label, rules, report)
        await move_public_users(rest, admin_token, public, chat, report)
        if registration is not None:
            role = await ensure_chat_role(rest, admin_token, chat, report)
            await set_registration(rest, admin_token, role if registration else None, report)
        for user in demo_users:
            await ensure_chat_user(
                rest,
                admin_token,
                chat,
                email=user.email,
                password=user.password,
                first_name=user.first_name,
                last_name=user.last_name,
                report=report,
                label="demo user",
            )
        warning = await guard_missing(rest, admin_token)
        if warning:
            report.warn(warning)
    if refused:
        left_out = [(one.policy, one.rule) for one in refused]
        in_place = [
            f"{label} {rule.describe()}"
            for label, _, rules in asked
            for rule in rules
            if (label, rule) not in left_out
        ]
        raise _refused_error(refused, in_place)
    return report


async def apply_chat_schema_as_admin(
    url: str,
    email: str,
    password: str,
    *,
    demo_users: Sequence[DemoUser] = (),
    public_read: bool = False,
    registration: bool | None = None,
) -> SchemaReport:
    """Log in as an administrator, then :func:`apply_chat_schema`.

    A token that expires before the schema is in place (a server with
    ``ACCESS_TOKEN_TTL=5s`` on a busy machine) means a new login and another
    pass, which skips what the last one did (the schema is idempotent).

    Raises:
        InvalidCredentials: the admin login was refused; and as apply_chat_schema.
    """
    async with DirectusRest(url) as rest:
        for attempt in range(1, _ADMIN_PASSES + 1):
            tokens = await rest.login(email, password)
            try:
                return await apply_chat_schema(
                    url,
                    tokens.access_token,
                    demo_users=demo_users,
                    public_read=public_read,
                    registration=registration,
                )
            except TokenExpired:
                if attempt == _ADMIN_PASSES:
                    raise
                logger.info("the admin token expired while applying the schema: again")
            finally:
                await rest.logout(tokens.refresh_token)
    raise AssertionError("unreachable")


class AdminLogin(Protocol):
    """A running server and its administrator's login: a LocalDirectus or a LocalCluster."""

    @property
    def url(self) -> str: ...
    @property
    def admin_email(self) -> str: ...
    @property
    def admin_password(self) -> str: ...


def setup_chat_as_admin(
    server: AdminLogin,
    demo_users: Sequence[DemoUser],
    *,
    public_read: bool,
    registration: bool | None = None,
) -> SchemaReport:
    """:func:`apply_chat_schema_as_admin` on ``server``, from synchronous code.

    The REST calls run on a worker thread's loop, so a notebook cell (whose
    loop already runs) can call it too.

    Raises:
        StartupFailed: ``server`` has no URL (not running); and as apply_chat_schema.
    """
    return run_sync(
        apply_chat_schema_as_admin(
            server.url,
            server.admin_email,
            server.admin_password,
            demo_users=demo_users,
            public_read=public_read,
            registration=registration,
        )
    )


async def add_chat_user(
    url: str,
    admin_token: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> str:
    """Create a chat account (a user holding the Chat user policy); returns its id.

    An email that exists already is given the policy and keeps its password
    and names. Chat accounts cannot open the admin app.

    Raises:
        ServerError: the server has no Chat user policy yet (apply the schema first).
        Forbidden: the token is not an administrator's.
        ServerError: Directus refused the user (a bad email, a weak password...).
    """
    async with DirectusRest(url) as rest:
        policy = await find_chat_policy(rest, admin_token)
        if policy is None:
            raise ServerError(
                f"{url} has no '{CHAT_POLICY_NAME}' policy yet: run apply_chat_schema first"
            )
        return await ensure_chat_user(
            rest,
            admin_token,
            policy,
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            report=SchemaReport(),
        )
