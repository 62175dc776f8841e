"""LocalCluster: several Directus instances on one Postgres and one Redis, behind HAProxy.

    from directus_chat_widget.local.cluster import LocalCluster

    with LocalCluster(instances=2, port=0) as cluster:   # Postgres, Redis, 2 x Directus, HAProxy
        cluster.setup_chat()
        print(cluster.url)                                 # the balancer: clients need nothing else

The parts start in dependency order (database, bus, the first instance, which
bootstraps the empty database once, the other instances side by side, then the
balancer) and stop in reverse. Every part runs in a process group of its own
with a pid file in its folder, so ``directus-chat down`` from another process
stops them all, and a failed start stops what it had started. What each part
is told comes from :mod:`.topology`, shared with the Compose recipe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from ..errors import StartupFailed
from .balancer import LocalBalancer
from .cluster_settings import CLUSTER_FILE, ClusterSettings
from .install import DEFAULT_DIRECTUS_VERSION, Progress, ensure_installed
from .pids import pid_from_file, signal_group
from .ports import HOST, free_port, port_is_free
from .postgres import LocalPostgres, postgres_bin_dir, unprivileged_user
from .process import ServerProcess, find_program
from .redis import LocalRedis
from .schema import DEMO_USERS, DemoUser, SchemaReport, setup_chat_as_admin
from .server import PID_FILE as DIRECTUS_PID_FILE
from .server import LocalDirectus
from .settings import default_data_dir
from .supervisor import StartStop
from .topology import directus_env

__all__ = ["CLUSTER_FILE", "LocalCluster", "PartStatus", "default_cluster_dir", "missing_programs"]

logger = logging.getLogger(__name__)

# Where Postgres keeps its files when the kit runs as root (see _postgres_data).
_ROOT_PG_HOME = Path("/var/lib/directus-chat-widget")


def default_cluster_dir() -> Path:
    """The default cluster's folder: ``cluster`` beside the single server's default folder."""
    return default_data_dir().parent / "cluster"


def missing_programs() -> list[str]:
    """What this machine lacks to run a local cluster, as Debian package names."""
    missing = []
    if postgres_bin_dir() is None:
        missing.append("postgresql")
    if find_program("redis-server", "/usr/bin/redis-server") is None:
        missing.append("redis-server")
    if find_program("haproxy", "/usr/sbin/haproxy") is None:
        missing.append("haproxy")
    return missing


@dataclass(frozen=True)
class PartStatus:
    """One part of a cluster as ``status`` shows it."""

    name: str
    running: bool
    port: int | None
    pid: int | None
    rss_bytes: int


class LocalCluster(StartStop):
    """Postgres + Redis + ``instances`` Directus + HAProxy on 127.0.0.1.

    Args:
        data_dir: the cluster's folder (default :func:`default_cluster_dir`).
        instances: how many Directus instances (at least 2); None: as many as
            the folder last ran, else 2.
        port: the balancer's port: ``None`` reuses the folder's last one (else
            a free one), ``0`` takes a free one.
        env: extra Directus settings for every instance, applied last.
        progress: one line at a time while starting; logs at INFO by default.

    Raises:
        ValueError: fewer than 2 instances.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        instances: int | None = None,
        port: int | None = None,
        version: str = DEFAULT_DIRECTUS_VERSION,
        env: dict[str, str] | None = None,
        progress: Progress | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        if instances is not None and instances < 2:
            raise ValueError("a cluster has at least 2 instances; use LocalDirectus for one")
        self.data_dir = Path(data_dir) if data_dir is not None else default_cluster_dir()
        self.version = version
        self.instances = instances
        self.extra_env = dict(env or {})
        self.startup_timeout = startup_timeout
        self._progress = progress or (lambda message: logger.info("%s", message))
        self._requested_port = port
        self._settings: ClusterSettings | None = None
        self._stored: ClusterSettings | None = None
        self.postgres: LocalPostgres | None = None
        self.redis: LocalRedis | None = None
        self.directus: list[LocalDirectus] = []
        self.balancer: LocalBalancer | None = None

    def __repr__(self) -> str:
        return f"<LocalCluster {self.version} x{len(self.directus) or '?'} {self.data_dir}>"

    # -- what it is -------------------------------------------------------------------

    @property
    def settings(self) -> ClusterSettings:
        """The folder's settings, created on first use.

        Raises:
            DataFolderMismatch: the folder was made by another Directus version.
        """
        if self._settings is None:
            self._settings = ClusterSettings.load_or_create(self.data_dir, self.version)
        return self._settings

    @property
    def folder_version(self) -> str:
        """The Directus version the cluster folder was made by (``version`` for a new one)."""
        return self._stored_settings().version

    def _stored_settings(self) -> ClusterSettings:
        """The folder's settings without the version check: enough to find and stop parts."""
        if self._settings is not None:
            return self._settings
        if self._stored is None:
            self._stored = ClusterSettings.load(self.data_dir)
        return self._stored if self._stored is not None else self.settings

    @property
    def url(self) -> str:
        """The balancer's URL: the one address clients use.

        Raises:
            StartupFailed: the cluster is not running.
        """
        if self.balancer is None or self.balancer.port is None:
            raise StartupFailed("the cluster is not running: call start() first")
        return self.balancer.url

    @property
    def admin_email(self) -> str:
        return self.settings.admin_email

    @property
    def admin_password(self) -> str:
        return self.settings.admin_password

    def parts(self) -> list[tuple[str, ServerProcess | LocalDirectus]]:
        """Every part, in start order."""
        named: list[tuple[str, ServerProcess | LocalDirectus]] = []
        if self.postgres is not None:
            named.append(("postgres", self.postgres))
        if self.redis is not None:
            named.append(("redis", self.redis))
        named += [(f"directus-{i}", d) for i, d in enumerate(self.directus, 1)]
        if self.balancer is not None:
            named.append(("haproxy", self.balancer))
        return named

    def status(self) -> list[PartStatus]:
        """Each part: running or not, port, pid, resident memory."""
        self._build()
        out = []
        for name, part in self.parts():
            running = part.attach() if not part.is_running() else True
            out.append(PartStatus(name, running, part.port, part.pid, part.memory_rss_bytes()))
        return out

    # -- lifecycle ----------------------------------------------------------------------

    def attach(self) -> bool:
        """Adopt a cluster started by another process; True when its balancer answers."""
        if not (self.data_dir / CLUSTER_FILE).is_file():
            return False
        self._build()
        assert self.balancer is not None
        if not self.balancer.attach():
            return False
        for part in (self.postgres, self.redis, *self.directus):
            assert part is not None
            part.attach()
        return True

    def start(self) -> Self:
        """Start every part not yet running and wait for each; returns self.

        Raises:
            StartupFailed: a part would not start (its own log's tail included);
                everything started so far is stopped again.
            NodeNotFound, InstallFailed, PortInUse
        """
        self.settings  # noqa: B018  (raises DataFolderMismatch before anything starts)
        if self.attach():
            if self.instances is None or self.instances == len(self.directus):
                return self
            # Started again with another count: the whole cluster restarts with it,
            # so no instance of the old count is left running unrecorded.
            self._progress(
                f"The cluster runs {len(self.directus)} instances, {self.instances} asked: "
                "restarting it"
            )
        missing = missing_programs()
        if missing:
            raise StartupFailed(
                "a local cluster needs "
                + ", ".join(missing)
                + ": `apt-get install "
                + " ".join(missing)
                + "` (Debian/Ubuntu)"
            )
        ensure_installed(self.version, progress=self._progress)
        # A half-running cluster (a part crashed, say) is stopped and started whole,
        # on fresh ports where the old ones were taken meanwhile.
        self.stop()
        self._forget_parts()
        self._build(fresh=True)
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every part, balancer first and database last; nothing is left running."""
        if not self.parts():
            if not (self.data_dir / CLUSTER_FILE).is_file():
                return
            self._build()
        for name, part in reversed(self.parts()):
            part.stop()
            if isinstance(part, LocalDirectus):
                # stop() finds a server through /server/ping: a hung one answers
                # nothing, so its pid file is the last word.
                leftover = pid_from_file(part.data_dir / DIRECTUS_PID_FILE)
                if leftover is not None:
                    logger.warning("%s did not answer; killing pid %d", name, leftover)
                    signal_group(leftover, signal.SIGKILL)
                    with contextlib.suppress(FileNotFoundError):
                        (part.data_dir / DIRECTUS_PID_FILE).unlink()

    def remove(self) -> None:
        """Stop, then delete the cluster's folder and its database files."""
        self.stop()
        shutil.rmtree(self._postgres_data(), ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def setup_chat(
        self,
        demo_users: tuple[DemoUser, ...] = DEMO_USERS,
        *,
        public_read: bool = False,
        registration: bool = True,
    ) -> SchemaReport:
        """Apply the chat schema, permissions and demo users once, through the balancer.

        ``registration``: as :meth:`LocalDirectus.setup_chat` (public sign-up, on).

        Raises:
            StartupFailed: not running. PermissionRefused: see ``apply_chat_schema``.
        """
        return setup_chat_as_admin(
            self, demo_users, public_read=public_read, registration=registration
        )

    # -- internals ---------------------------------------------------------------------------

    def _postgres_data(self) -> Path:
        # Postgres refuses root, and the user it runs as instead cannot enter a
        # root-owned private folder: as root, its files live under /var/lib.
        if unprivileged_user() is None:
            return self.data_dir / "postgres" / "data"
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        return _ROOT_PG_HOME / f"pg-{digest}"

    def _port(self, name: str, wanted: int | None = None, *, fresh: bool = False) -> int:
        last = self._stored_settings().ports.get(name)
        if wanted is not None and wanted != 0:
            return wanted
        if wanted is None and last and (not fresh or port_is_free(last)):
            return last
        return free_port()

    def _forget_parts(self) -> None:
        self.postgres = self.redis = self.balancer = None
        self.directus = []

    def _build(self, *, fresh: bool = False) -> None:
        """Make the part objects (nothing starts) with the folder's ports and secrets.

        ``fresh``: about to start, so a remembered port that is taken is replaced,
        the instance count asked for is used and all of it is saved. Otherwise (to
        adopt, stop or show a cluster) the folder is read as it is, whatever its
        version, with the count it last started: nothing is saved.
        """
        if self.parts():
            return
        s = self.settings if fresh else self._stored_settings()
        if unprivileged_user() is not None:
            _ROOT_PG_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)
        first, then = (self.instances, s.instances) if fresh else (s.instances, self.instances)
        count = first or then or 2
        ports = {
            "postgres": self._port("postgres", fresh=fresh),
            "redis": self._port("redis", fresh=fresh),
            "balancer": self._port("balancer", self._requested_port, fresh=fresh),
            **{
                f"directus-{i}": self._port(f"directus-{i}", fresh=fresh)
                for i in range(1, count + 1)
            },
        }
        self.postgres = LocalPostgres(
            self.data_dir / "postgres", self._postgres_data(), s.db_password, port=ports["postgres"]
        )
        self.redis = LocalRedis(self.data_dir / "redis", s.redis_password, port=ports["redis"])
        balancer_url = f"http://{HOST}:{ports['balancer']}"
        shared = directus_env(
            s.secrets,
            db_host=HOST,
            db_port=ports["postgres"],
            redis_host=HOST,
            redis_port=ports["redis"],
            public_url=balancer_url,
        )
        shared["STORAGE_LOCAL_ROOT"] = str(self.data_dir / "uploads")
        self.directus = []
        for i in range(1, count + 1):
            folder = self.data_dir / f"directus-{i}"
            folder.mkdir(parents=True, exist_ok=True)
            # The instance's own settings file carries the cluster's secrets and
            # admin: the first instance bootstraps with this admin.
            s.server.save(folder)
            self.directus.append(
                LocalDirectus(
                    folder,
                    port=ports[f"directus-{i}"],
                    version=s.version,
                    env={**shared, **self.extra_env},
                    progress=self._progress,
                    startup_timeout=self.startup_timeout,
                    bootstrap=i == 1 and not s.bootstrapped,
                )
            )
        backends = [(f"directus-{i}", ports[f"directus-{i}"]) for i in range(1, count + 1)]
        self.balancer = LocalBalancer(self.data_dir / "haproxy", backends, port=ports["balancer"])
        if fresh:
            s.ports, s.instances = ports, count
            s.save(self.data_dir)

    def _start_parts(self) -> None:
        assert self.postgres and self.redis and self.balancer
        self._progress(f"Starting Postgres and Redis for a cluster in {self.data_dir}")
        self.postgres.start()
        self.postgres.ensure_database()
        self.redis.start()
        first, rest = self.directus[0], self.directus[1:]
        if first.bootstrap:
            # The empty database is bootstrapped by one instance before the others start.
            first.start()
            self.settings.bootstrapped = True
            self.settings.save(self.data_dir)
            for later in self.directus:
                later.bootstrap = False
        else:
            rest = self.directus
        self._progress(f"Starting {len(rest)} Directus instance(s)")
        with ThreadPoolExecutor(max_workers=len(rest)) as pool:
            for future in [pool.submit(server.start) for server in rest]:
                future.result()
        self.balancer.start()
        self._progress(f"Cluster ready at {self.balancer.url}")
