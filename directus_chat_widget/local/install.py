"""Install a pinned Directus into a per-version cache folder, once.

The first install takes minutes (npm fetches ~1,400 packages and compiles
sqlite3 and isolated-vm); every later start reuses the cache. The install runs
in a scratch folder that is renamed into place only when npm succeeded, under
a file lock, so two processes (a notebook and a test run, say) never see or
build a half-installed tree.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import IO

import platformdirs

from ..errors import InstallFailed
from .node import NodeRuntime, find_node

__all__ = [
    "DEFAULT_DIRECTUS_VERSION",
    "Progress",
    "cache_root",
    "directus_cli",
    "ensure_installed",
    "install_dir",
    "pinned_versions",
]

logger = logging.getLogger(__name__)

DEFAULT_DIRECTUS_VERSION = "11.17.4"

Progress = Callable[[str], None]

_PROGRESS_EVERY_S = 5.0


def cache_root() -> Path:
    """The folder that holds one Directus install per version.

    ``DIRECTUS_CHAT_CACHE`` overrides the platform's user cache folder.
    """
    override = os.environ.get("DIRECTUS_CHAT_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("directus-chat-widget"))


def pinned_versions() -> list[str]:
    """Directus versions shipped with a committed ``package.json`` and lock file."""
    folder = resources.files("directus_chat_widget.local") / "npm"
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir())


def install_dir(version: str) -> Path:
    return cache_root() / f"directus-{version}"


def directus_cli(version: str) -> Path:
    """Path of Directus' ``cli.js`` in the cache (whether installed or not)."""
    return install_dir(version) / "node_modules" / "directus" / "cli.js"


def is_installed(version: str) -> bool:
    return (install_dir(version) / ".installed").is_file()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_manifest(target: Path, version: str) -> bool:
    """Write package.json (and the lock file when pinned); True when a lock was written."""
    shipped = resources.files("directus_chat_widget.local") / "npm" / version
    if shipped.is_dir():
        for name in ("package.json", "package-lock.json"):
            (target / name).write_bytes((shipped / name).read_bytes())
        return True
    manifest = {
        "name": "directus-chat-widget-server",
        "private": True,
        "dependencies": {"directus": version},
    }
    (target / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return False


def _count_locked_packages(target: Path) -> int | None:
    lock = target / "package-lock.json"
    if not lock.is_file():
        return None
    packages = json.loads(lock.read_text()).get("packages", {})
    return sum(1 for key in packages if key)


class _NpmOutput:
    """Reads npm's output on a thread: the log file, the last lines, packages fetched."""

    def __init__(self, stream: IO[str], log: IO[str]) -> None:
        self.tail: deque[str] = deque(maxlen=25)
        self.fetched = 0
        self.last_fetch = time.monotonic()
        self._stream, self._log = stream, log
        self._thread = threading.Thread(target=self._read, name="npm-output", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self._log.write(line)
            self.tail.append(line.rstrip())
            if "fetch GET" in line and ".tgz" in line:  # one tarball: one package
                self.fetched += 1
                self.last_fetch = time.monotonic()

    def join(self) -> None:
        self._thread.join()


def _run_npm(
    runtime: NodeRuntime, target: Path, args: list[str], total: int | None, progress: Progress
) -> None:
    log_path = target / "npm-install.log"
    started = time.monotonic()
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            runtime.npm_command(*args),
            cwd=target,
            env=runtime.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as proc,
    ):
        assert proc.stdout is not None
        output = _NpmOutput(proc.stdout, log)
        while True:
            try:
                code = proc.wait(timeout=_PROGRESS_EVERY_S)
                break
            except subprocess.TimeoutExpired:
                # npm prints nothing while it compiles sqlite3 and isolated-vm:
                # a quiet stretch after the downloads is that build.
                now = time.monotonic()
                quiet = now - output.last_fetch >= _PROGRESS_EVERY_S
                phase = "building native modules" if quiet and output.fetched else "fetching"
                of_total = f" of ~{total}" if total else ""
                progress(
                    f"  ... {now - started:4.0f} s: {phase}, "
                    f"{output.fetched}{of_total} packages fetched"
                )
        output.join()
    if code != 0:
        raise InstallFailed(
            f"npm exited with code {code} while installing Directus (log: {log_path})",
            log_tail="\n".join(output.tail),
        )


def ensure_installed(
    version: str = DEFAULT_DIRECTUS_VERSION,
    *,
    progress: Progress | None = None,
    runtime: NodeRuntime | None = None,
) -> Path:
    """Install Directus ``version`` into the cache unless it is there; return its ``cli.js``.

    Pinned versions (see :func:`pinned_versions`) install with ``npm ci`` from
    the committed lock file; other versions with ``npm install`` (unpinned
    transitive dependencies, said in a warning).

    Raises:
        NodeNotFound: no Node >= 22.
        InstallFailed: npm failed; ``log_tail`` holds its last lines.
    """
    report = progress or (lambda message: logger.info("%s", message))
    final = install_dir(version)
    if is_installed(version):
        return directus_cli(version)
    with _locked(cache_root() / f"directus-{version}.lock"):
        if is_installed(version):  # another process finished it while we waited
            return directus_cli(version)
        runtime = runtime or find_node()
        scratch = final.with_name(f"{final.name}.partial-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        pinned = _write_manifest(scratch, version)
        if not pinned:
            logger.warning(
                "Directus %s has no committed lock file; its dependencies are not pinned", version
            )
        total = _count_locked_packages(scratch)
        report(
            f"Installing Directus {version} with Node {runtime.version_text} into {final} "
            "(first time only; about 3-5 minutes and 840 MB)"
        )
        started = time.monotonic()
        command = "ci" if pinned else "install"
        _run_npm(
            runtime,
            scratch,
            [command, "--no-audit", "--no-fund", "--loglevel=http", "--omit=dev"],
            total,
            report,
        )
        (scratch / ".installed").write_text(f"{version}\n")
        shutil.rmtree(final, ignore_errors=True)
        scratch.rename(final)
        report(f"Installed Directus {version} in {time.monotonic() - started:.0f} s")
    return directus_cli(version)
