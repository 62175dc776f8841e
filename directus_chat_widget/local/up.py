"""One call that gives a notebook or the CLI a ready chat server.

``chat_server()`` adopts a local Directus that already runs for the data
folder, or starts one; applies the chat schema and demo users; and writes
``DIRECTUS_URL`` into a ``.env`` file so every later notebook finds it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import find_dotenv, write_env_value
from .install import DEFAULT_DIRECTUS_VERSION, Progress
from .schema import DEMO_USERS, SchemaReport
from .server import DEFAULT_PORT, LocalDirectus, port_is_free

__all__ = ["chat_server"]


def _env_file_default() -> Path:
    """``DIRECTUS_CHAT_ENV_FILE``, else the nearest existing .env up from here, else ./.env."""
    override = os.environ.get("DIRECTUS_CHAT_ENV_FILE")
    if override:
        return Path(override)
    return find_dotenv() or Path.cwd() / ".env"


def chat_server(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    port: int | None = None,
    version: str = DEFAULT_DIRECTUS_VERSION,
    env_file: str | os.PathLike[str] | None = None,
    demo_users: bool = True,
    progress: Progress | None = print,
) -> tuple[LocalDirectus, SchemaReport]:
    """Return a running local Directus set up for the chat, and what setting it up changed.

    Args:
        data_dir: the server's data folder (default: per user, or ``DIRECTUS_CHAT_DATA``).
        port: ``None`` tries 8055 (or ``DIRECTUS_CHAT_PORT``) and takes a free port if
            that is taken; a number insists on it; ``0`` always takes a free one.
        env_file: where to write ``DIRECTUS_URL`` (default: ``DIRECTUS_CHAT_ENV_FILE``,
            else the nearest ``.env`` up from the current folder, else ``./.env``).
        demo_users: create the two demo accounts.
        progress: where progress lines go (``print`` by default, ``None`` for silence).

    Raises:
        NodeNotFound, InstallFailed, DataFolderMismatch, PortInUse, StartupFailed,
        PermissionRefused: see :class:`LocalDirectus` and ``apply_chat_schema``.
    """
    if port is None:
        wanted = int(os.environ.get("DIRECTUS_CHAT_PORT", DEFAULT_PORT))
        port = wanted if wanted == 0 or port_is_free(wanted) else 0
    server = LocalDirectus(data_dir, port=port, version=version, progress=progress)
    if not server.attach():
        server.start()
    report = server.setup_chat(demo_users=DEMO_USERS if demo_users else ())
    target = Path(env_file) if env_file is not None else _env_file_default()
    write_env_value(target, "DIRECTUS_URL", server.url)
    return server, report
