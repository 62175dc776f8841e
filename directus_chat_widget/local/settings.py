"""The per-data-folder settings of a local Directus: version, secrets, admin login.

One JSON file per data folder, readable by its owner only. KEY and SECRET are
random per folder (Directus signs tokens with SECRET), so two data folders never
accept each other's tokens.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import DataFolderMismatch

__all__ = [
    "ADMIN_EMAIL",
    "ServerSettings",
    "default_data_dir",
    "last_port",
    "load_or_create_settings",
    "private_folder",
    "write_private_json",
]

SETTINGS_FILE = "directus-chat.json"
ADMIN_EMAIL = "admin@example.com"


def default_data_dir() -> Path:
    """Where the local Directus keeps its database unless told otherwise.

    ``DIRECTUS_CHAT_DATA`` overrides the platform's user data folder.
    """
    override = os.environ.get("DIRECTUS_CHAT_DATA")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("directus-chat-widget")) / "default"


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) if missing; only its owner may enter it."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def write_private_json(path: Path, record: Mapping[str, Any], *, tmp: Path) -> None:
    """Write ``record`` to ``path``, owner-only, whole or not at all (through ``tmp``)."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=2)
    tmp.replace(path)


@dataclass(frozen=True)
class ServerSettings:
    """What a data folder remembers between starts."""

    version: str
    key: str = field(repr=False)
    secret: str = field(repr=False)
    admin_email: str
    admin_password: str = field(repr=False)
    port: int | None = None

    @classmethod
    def new(cls, version: str) -> ServerSettings:
        """Fresh random KEY, SECRET and admin password for a new folder."""
        return cls(
            version=version,
            key=secrets.token_hex(16),
            secret=secrets.token_urlsafe(32),
            admin_email=ADMIN_EMAIL,
            admin_password=secrets.token_urlsafe(18),
        )

    def with_port(self, port: int) -> ServerSettings:
        return ServerSettings(
            self.version, self.key, self.secret, self.admin_email, self.admin_password, port
        )

    def save(self, data_dir: Path) -> None:
        path = data_dir / SETTINGS_FILE
        write_private_json(path, asdict(self), tmp=path.with_suffix(".tmp"))


def last_port(data_dir: Path) -> int | None:
    """The port the folder's server last started on; None for a new folder.

    Read without creating anything, so asking about a folder never makes one.
    """
    path = data_dir / SETTINGS_FILE
    try:
        port = json.loads(path.read_text()).get("port")
    except (OSError, ValueError, AttributeError):
        # Missing, unreadable or not a JSON object: no last port to go back to
        # (starting the server reports a broken file in a sentence of its own).
        return None
    return int(port) if isinstance(port, int) and port > 0 else None


def load_or_create_settings(data_dir: Path, version: str) -> tuple[ServerSettings, bool]:
    """Read the folder's settings, or make new ones; returns ``(settings, created)``.

    Raises:
        DataFolderMismatch: the folder belongs to another Directus version.
    """
    path = data_dir / SETTINGS_FILE
    if path.is_file():
        settings = ServerSettings(**json.loads(path.read_text()))
        if settings.version != version:
            raise DataFolderMismatch(
                f"data folder {data_dir} was made by Directus {settings.version}, not {version}: "
                f"use version={settings.version!r}, or another data folder"
            )
        return settings, False
    private_folder(data_dir)
    settings = ServerSettings.new(version)
    settings.save(data_dir)
    return settings, True
