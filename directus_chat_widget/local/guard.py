"""A socket whose token expired acts as the public, not as nobody (a hook for Directus 11).

Measured on Directus 11.17.4: when a websocket's access token expires, the
server sends ``TOKEN_EXPIRED`` and sets the socket's accountability to
``null``. Its items handler then builds services with no accountability, and
Directus skips every permission check for such a service. Until the socket
authenticates again (or ``WEBSOCKETS_REST_AUTH_TIMEOUT`` closes it, 10 s), it
may create (stored with ``user_created`` null), read, update and delete items
of any collection, and its subscriptions are re-read unchecked. Directus 12.4
already treats such a socket as the public; this guard gives 11.x the same
rule, so the chat's permissions hold on the socket too.

It is a hook extension of a few lines: when a websocket connects, its
``accountability`` becomes a property that turns ``null`` into the public's
accountability (no user, no role, no admin, the same IP). The kit writes it
into the ``extensions`` folder of every local Directus 11 it starts; on a
server you run yourself, copy the folder :func:`write_guard` makes into your
``EXTENSIONS_PATH``. :func:`guard_missing` tells whether a server needs it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..errors import DirectusError
from ..rest import DirectusRest

__all__ = ["GUARD_NAME", "guard_missing", "needs_guard", "write_guard"]

logger = logging.getLogger(__name__)

GUARD_NAME = "directus-extension-chat-socket-guard"

_MANIFEST: dict[str, Any] = {
    "name": GUARD_NAME,
    "version": "1.0.0",
    "description": "directus-chat-widget: a websocket whose token expired acts as the public",
    "type": "module",
    "directus:extension": {
        "type": "hook",
        "path": "index.js",
        "source": "index.js",
        "host": "^11.0.0",
    },
}

_SOURCE = """\
// Written by directus-chat-widget (local/guard.py); rewritten on every start.
// Directus 11 sets a websocket's accountability to null when its token
// expires, and a service without accountability checks no permission at all.
// Here null becomes the public's accountability, as Directus 12 does.
function publicAccess(before) {
  return {
    role: null,
    user: null,
    roles: [],
    admin: false,
    app: false,
    ip: before?.ip ?? null,
    userAgent: before?.userAgent,
    origin: before?.origin,
  };
}

export default ({ action }) => {
  action("websocket.connect", ({ client }) => {
    let current = client.accountability ?? publicAccess(null);
    Object.defineProperty(client, "accountability", {
      configurable: true,
      enumerable: true,
      get() {
        return current;
      },
      set(value) {
        current = value ?? publicAccess(current);
      },
    });
  });
};
"""


def needs_guard(version: str) -> bool:
    """Whether Directus ``version`` leaves an expired socket unchecked (11.x does)."""
    return version.split(".", 1)[0] == "11"


def write_guard(extensions_dir: Path) -> Path:
    """Write the guard extension into ``extensions_dir``; returns its folder."""
    folder = extensions_dir / GUARD_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps(_MANIFEST, indent=2) + "\n")
    (folder / "index.js").write_text(_SOURCE)
    return folder


async def guard_missing(rest: DirectusRest, token: str) -> str | None:
    """A warning when the server is a Directus 11 without the guard loaded, else None.

    Asks ``/server/info`` (the version) and ``/extensions`` with an admin token;
    a server that does not tell gets no warning (nothing to go by).
    """
    try:
        info = await rest.request("GET", "/server/info", token=token)
        version = str((info or {}).get("version") or "")
        if not needs_guard(version):
            return None
        loaded = await rest.request("GET", "/extensions", token=token)
    except DirectusError as exc:
        logger.debug("could not tell whether the socket guard is loaded: %s", exc)
        return None
    names = {
        str((entry.get("schema") or {}).get("name") or entry.get("name"))
        for entry in loaded or []
        if isinstance(entry, dict)
    }
    if GUARD_NAME in names:
        return None
    return (
        f"Directus {version} lets a websocket whose token expired act without any "
        "permission check until it authenticates again (up to 10 s): it could post "
        "anonymously or edit anyone's message. The kit's client never sends in that "
        f"window, but other clients may. Install the {GUARD_NAME} extension "
        "(directus_chat_widget.local.guard.write_guard(<your EXTENSIONS_PATH>)) "
        "or run Directus 12."
    )
