"""Public sign-up: a "Chat user" role holding the chat policy, and the settings that use it.

Measured on Directus 11.17.4 (SQLite):

- ``directus_settings`` holds ``public_registration`` (false on a new
  server), ``public_registration_role`` (null), ``public_registration_verify_email``
  (true) and ``public_registration_email_filter`` (null). Logged out, only
  ``/server/info`` shows anything of it: ``project.public_registration`` and
  ``project.public_registration_verify_email``; ``/settings`` is FORBIDDEN.
- ``POST /users/register`` creates the user with ``role`` set to
  ``public_registration_role`` and no policy of its own, so the chat policy
  must reach it through the role: a ``directus_access`` row (role, policy),
  made here with the role's ``policies.create``.
- With verification off the new user is ``active`` and can log in at once;
  with it on the user is ``unverified`` until a mailed link is followed, and a
  local demo server sends no mail. So the local server turns it off; a real
  deployment should decide that for itself (and set up mail if it keeps it).

The role is found by name, made if missing, and given the policy if it lacks
it; the settings are written only where they differ, so this runs any number
of times (an existing data folder gets sign-up on its next setup).
"""

from __future__ import annotations

import logging
from typing import Any

from ..rest import DirectusRest
from .report import SchemaReport
from .rules import CHAT_POLICY_NAME

__all__ = ["CHAT_ROLE_NAME", "ensure_chat_role", "set_registration"]

logger = logging.getLogger(__name__)

CHAT_ROLE_NAME = "Chat user"


async def ensure_chat_role(
    rest: DirectusRest, token: str, policy: str, report: SchemaReport
) -> str:
    """The id of the role ``Chat user``, made if missing, holding the chat policy."""
    what = f"role {CHAT_ROLE_NAME}"
    rows = await rest.request(
        "GET",
        "/roles",
        token=token,
        params={"filter": {"name": {"_eq": CHAT_ROLE_NAME}}, "fields": "id", "sort": "id"},
    )
    if not rows:
        made = await rest.request(
            "POST",
            "/roles",
            token=token,
            json={
                "name": CHAT_ROLE_NAME,
                "icon": "forum",
                "description": "directus-chat-widget: people who signed up to the chat",
                "policies": {"create": [{"policy": policy}]},
            },
        )
        report.add(f"{what} with the {CHAT_POLICY_NAME} policy")
        return str(made["id"])
    role = str(rows[0]["id"])
    held = await rest.request(
        "GET",
        "/access",
        token=token,
        params={"filter": {"role": {"_eq": role}, "policy": {"_eq": policy}}, "fields": "id"},
    )
    if held:
        report.keep(what)
    else:
        await rest.request("POST", "/access", token=token, json={"role": role, "policy": policy})
        report.modify(f"{what}: given the {CHAT_POLICY_NAME} policy")
    return role


async def set_registration(
    rest: DirectusRest, token: str, role: str | None, report: SchemaReport
) -> None:
    """Turn public sign-up on into ``role`` with no email check, or off (``role`` None)."""
    wanted: dict[str, Any] = {"public_registration": role is not None}
    if role is not None:
        wanted |= {"public_registration_role": role, "public_registration_verify_email": False}
    now = await rest.request("GET", "/settings", token=token, params={"fields": list(wanted)})
    differs = {key: value for key, value in wanted.items() if (now or {}).get(key) != value}
    what = "public sign-up " + ("on (role Chat user, no email check)" if role else "off")
    if differs:
        await rest.request("PATCH", "/settings", token=token, json=differs)
        report.modify(what)
    else:
        report.keep(what)
