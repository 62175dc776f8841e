"""LocalRedis: the event bus (and rate-limit, cache and lock store) of a local cluster.

Runs the machine's ``redis-server`` (Debian's ``redis-server`` package) on
127.0.0.1 with a password and no persistence: what Directus keeps there is
pub/sub traffic, counters and cache entries, all disposable. Its settings come
from :func:`.topology.redis_settings`, written to a private config file.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from .ports import HOST
from .process import ServerProcess, require_program
from .topology import redis_settings

__all__ = ["LocalRedis"]


class LocalRedis(ServerProcess):
    """``redis-server`` on 127.0.0.1 with ``password``."""

    name = "redis"

    def __init__(
        self, folder: Path, password: str, *, port: int = 0, startup_timeout: float = 30
    ) -> None:
        super().__init__(folder, port=port, startup_timeout=startup_timeout)
        self.password = password
        self.binary = require_program(
            "redis-server", "/usr/bin/redis-server", what="Redis", package="redis-server"
        )

    @property
    def config_path(self) -> Path:
        return self.folder / "redis.conf"

    def url(self) -> str:
        return f"redis://:{self.password}@{HOST}:{self.port}"

    def prepare(self) -> None:
        assert self.port is not None
        lines = [f"{name} {value}" for name, value in redis_settings(self.port, self.password)]
        lines += [f"bind {HOST}", "protected-mode yes", "daemonize no", f"dir {self.folder}"]
        # The password is in here, so the file is the owner's alone (not on a command line).
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")

    def command(self, port: int) -> list[str]:
        return [self.binary, str(self.config_path)]

    def ready(self, port: int) -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=1.0) as conn:
                conn.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                reply = b""
                while b"PONG" not in reply and b"-" not in reply:
                    chunk = conn.recv(256)
                    if not chunk:
                        break
                    reply += chunk
        except OSError:
            return False
        return b"+PONG" in reply
