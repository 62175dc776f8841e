"""LocalBalancer: HAProxy in front of a local cluster's Directus instances.

HAProxy (Debian's ``haproxy`` package) rather than nginx: its active health
checks take a dead instance out of the rotation within two seconds, and a
connection refused by a dead instance is retried on a live one, so a client
that reconnects right after a crash is not sent back to the corpse. Its
configuration comes from :func:`.topology.haproxy_config`, like the Compose
recipe's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .ports import HOST, directus_answers
from .process import ServerProcess, require_program
from .topology import haproxy_config

__all__ = ["LocalBalancer"]


class LocalBalancer(ServerProcess):
    """HAProxy on 127.0.0.1, round robin over ``backends`` (``(name, port)`` pairs)."""

    name = "haproxy"

    def __init__(
        self,
        folder: Path,
        backends: Sequence[tuple[str, int]],
        *,
        port: int = 0,
        startup_timeout: float = 30,
    ) -> None:
        super().__init__(folder, port=port, startup_timeout=startup_timeout)
        self.backends = list(backends)
        self.binary = require_program(
            "haproxy", "/usr/sbin/haproxy", what="HAProxy", package="haproxy"
        )

    @property
    def config_path(self) -> Path:
        return self.folder / "haproxy.cfg"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def prepare(self) -> None:
        assert self.port is not None
        servers = [(name, f"{HOST}:{port}") for name, port in self.backends]
        self.config_path.write_text(haproxy_config(f"{HOST}:{self.port}", servers))

    def command(self, port: int) -> list[str]:
        # -db: stay in the foreground, so the kit owns the process and its output.
        return [self.binary, "-db", "-f", str(self.config_path)]

    def ready(self, port: int) -> bool:
        # Through HAProxy, Directus' own ping: ready once it reaches a live instance.
        return directus_answers(port)
