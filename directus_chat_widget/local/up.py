"""One call that gives a notebook or the CLI a ready chat server.

``chat_server()`` adopts a local Directus that already runs for the data
folder, or starts one; applies the chat schema, permissions and demo users
(the public may read only with ``public_read=True``); and writes
``DIRECTUS_URL`` into a ``.env`` file so every later notebook finds it.

A data folder keeps its port between starts: notebooks and widgets opened
earlier hold the old URL and keep reconnecting to it, so moving costs them a
kernel restart. When the port must change anyway (the old one is taken), the
move is announced in one warning line, never done silently.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..config import find_dotenv, write_env_value
from .install import DEFAULT_DIRECTUS_VERSION, Progress
from .ports import HOST, port_is_free
from .schema import DEMO_USERS, SchemaReport
from .server import DEFAULT_PORT, LocalDirectus
from .settings import default_data_dir, last_port

__all__ = ["chat_server"]

logger = logging.getLogger(__name__)


def _env_file_default() -> Path:
    """``DIRECTUS_CHAT_ENV_FILE``, else the nearest existing .env up from here, else ./.env."""
    override = os.environ.get("DIRECTUS_CHAT_ENV_FILE")
    if override:
        return Path(override)
    return find_dotenv() or Path.cwd() / ".env"


def _port_to_start_on(port: int | None, last: int | None) -> int:
    """An asked-for port wins; then the folder's last port while it is free; then the default."""
    if port is not None:
        return port
    if last is not None and port_is_free(last):
        return last
    wanted = int(os.environ.get("DIRECTUS_CHAT_PORT", DEFAULT_PORT))
    return wanted if wanted == 0 or port_is_free(wanted) else 0


def _announce_move(
    server: LocalDirectus, last: int, asked: bool, env_file: Path, progress: Progress | None
) -> None:
    why = "a port was asked for" if asked else f"port {last} is in use by something else"
    message = (
        f"WARNING: the Directus URL changed from http://{HOST}:{last} to {server.url} ({why}). "
        f"Notebooks and widgets opened before keep trying the old URL: restart their kernels "
        f"(DIRECTUS_URL in {env_file} now holds the new one)."
    )
    if progress is not None:
        progress(message)
    else:
        logger.warning("%s", message)


def chat_server(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    port: int | None = None,
    version: str = DEFAULT_DIRECTUS_VERSION,
    env_file: str | os.PathLike[str] | None = None,
    demo_users: bool = True,
    public_read: bool = False,
    registration: bool = True,
    progress: Progress | None = print,
) -> tuple[LocalDirectus, SchemaReport]:
    """Return a running local Directus set up for the chat, and what setting it up changed.

    Args:
        data_dir: the server's data folder (default: per user, or ``DIRECTUS_CHAT_DATA``).
        port: ``None`` reuses the port the data folder last ran on while it is free,
            else tries 8055 (or ``DIRECTUS_CHAT_PORT``), else takes a free one; a
            number insists on it; ``0`` always takes a free one. A URL that differs
            from the folder's last one is announced as a warning through ``progress``
            (or the log when ``progress`` is None).
        env_file: where to write ``DIRECTUS_URL`` (default: ``DIRECTUS_CHAT_ENV_FILE``,
            else the nearest ``.env`` up from the current folder, else ``./.env``).
        demo_users: create the two demo accounts.
        public_read: let anyone read messages and chat members' names without
            logging in (a display wall); False takes that away again.
        registration: let anyone sign up as a chat user (no email check: a
            local server sends no mail); False turns sign-up off.
        progress: where progress lines go (``print`` by default, ``None`` for silence).

    Raises:
        NodeNotFound, InstallFailed, DataFolderMismatch, PortInUse, StartupFailed,
        PermissionRefused: see :class:`LocalDirectus` and ``apply_chat_schema``.
    """
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    last = last_port(folder)
    target = Path(env_file) if env_file is not None else _env_file_default()
    server = LocalDirectus(
        folder, port=_port_to_start_on(port, last), version=version, progress=progress
    )
    if not server.attach():
        server.start()
        if last is not None and server.port != last:
            _announce_move(server, last, port is not None, target.resolve(), progress)
    report = server.setup_chat(
        DEMO_USERS if demo_users else (), public_read=public_read, registration=registration
    )
    write_env_value(target, "DIRECTUS_URL", server.url)
    return server, report
