"""What a local cluster's folder remembers: secrets, the admin login, ports, bootstrapped or not.

One JSON file (``cluster.json``), readable by its owner only, like a single
server's ``directus-chat.json``: the secrets are random per cluster folder.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import DataFolderMismatch
from .settings import ServerSettings, private_folder, write_private_json
from .topology import Secrets

__all__ = ["CLUSTER_FILE", "ClusterSettings"]

CLUSTER_FILE = "cluster.json"


@dataclass
class ClusterSettings:
    """What a cluster folder remembers: secrets, admin login, ports, whether bootstrapped."""

    version: str
    key: str = field(repr=False)
    secret: str = field(repr=False)
    admin_email: str
    admin_password: str = field(repr=False)
    db_password: str = field(repr=False)
    redis_password: str = field(repr=False)
    ports: dict[str, int] = field(default_factory=dict)
    bootstrapped: bool = False
    #: How many Directus instances the cluster last started with; 0 before its first start.
    instances: int = 0

    @classmethod
    def load(cls, folder: Path) -> ClusterSettings | None:
        """The folder's settings as stored, whatever their version; None without a file."""
        path = folder / CLUSTER_FILE
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        ports = dict(record.get("ports") or {})
        # Folders written before `instances` had a field of its own kept it among the ports.
        record["instances"] = record.get("instances") or ports.pop("instances", 0)
        record["ports"] = ports
        return cls(**record)

    @classmethod
    def load_or_create(cls, folder: Path, version: str) -> ClusterSettings:
        """The folder's settings, created on first use.

        Raises:
            DataFolderMismatch: the folder was made by another Directus version.
        """
        settings = cls.load(folder)
        if settings is not None:
            if settings.version != version:
                raise DataFolderMismatch(
                    f"cluster folder {folder} was made by Directus {settings.version}, "
                    f"not {version}: use --directus-version {settings.version}, "
                    "or another folder"
                )
            return settings
        private_folder(folder)
        # The single server's fresh secrets, and the two only a cluster has.
        fresh = ServerSettings.new(version)
        settings = cls(
            fresh.version,
            fresh.key,
            fresh.secret,
            fresh.admin_email,
            fresh.admin_password,
            db_password=secrets.token_urlsafe(18),
            redis_password=secrets.token_urlsafe(18),
        )
        settings.save(folder)
        return settings

    def save(self, folder: Path) -> None:
        path = folder / CLUSTER_FILE
        write_private_json(path, asdict(self), tmp=folder / f"{CLUSTER_FILE}.tmp")

    @property
    def server(self) -> ServerSettings:
        """What each instance's own settings file holds: the cluster's secrets and admin."""
        return ServerSettings(
            self.version, self.key, self.secret, self.admin_email, self.admin_password
        )

    @property
    def secrets(self) -> Secrets:
        return Secrets(self.key, self.secret, self.db_password, self.redis_password)
