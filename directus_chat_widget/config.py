"""Where the Directus server is: from an argument, the environment, or a ``.env`` file.

The tutorial keeps the URL in ``.env`` as ``PUBLIC_DIRECTUS_URL``; the kit reads
that name too, after its own ``DIRECTUS_URL``. ``directus-chat up`` writes
``DIRECTUS_URL`` for you.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values

from .errors import ConfigError

__all__ = ["URL_VARIABLES", "ChatConfig", "find_dotenv", "load_config", "write_env_value"]

URL_VARIABLES = ("DIRECTUS_URL", "PUBLIC_DIRECTUS_URL")
COLLECTION_VARIABLE = "DIRECTUS_COLLECTION"
DEFAULT_COLLECTION = "messages"

_HOW_TO_FIX = "set DIRECTUS_URL (environment or .env), or run `directus-chat up`"


@dataclass(frozen=True)
class ChatConfig:
    """Where the chat lives.

    Attributes:
        url: the Directus base URL, ``http(s)://host[:port][/path]`` without a
            trailing slash.
        collection: the collection that holds the messages.
    """

    url: str
    collection: str = DEFAULT_COLLECTION

    @property
    def websocket_url(self) -> str:
        """The realtime endpoint: ``ws://`` for ``http://``, ``wss://`` for ``https://``."""
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, f"{parts.path}/websocket", "", ""))


def normalise_url(raw: str, *, source: str = "the argument") -> str:
    """Check a Directus URL and return it without a trailing slash.

    Raises:
        ConfigError: empty, not http(s), without a host, or with a query or fragment.
    """
    value = raw.strip()
    if not value:
        raise ConfigError(f"the Directus URL from {source} is empty: {_HOW_TO_FIX}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"the Directus URL from {source} must start with http:// or https://, got {value!r}"
        )
    if not parts.hostname:
        raise ConfigError(f"the Directus URL from {source} has no host: {value!r}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ConfigError(f"the Directus URL from {source} has a bad port: {value!r}") from exc
    if parts.query or parts.fragment:
        raise ConfigError(
            f"the Directus URL from {source} must not have a query or fragment: {value!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def find_dotenv(start: Path | None = None) -> Path | None:
    """The nearest ``.env`` in ``start`` (default: the current folder) or above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def load_config(
    url: str | None = None,
    *,
    collection: str | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | os.PathLike[str] | None = None,
) -> ChatConfig:
    """Build a :class:`ChatConfig` from the first place that has a URL.

    Order: the ``url`` argument; ``DIRECTUS_URL`` then ``PUBLIC_DIRECTUS_URL``
    in ``environ`` (default ``os.environ``); the same names in a ``.env`` file
    (``dotenv_path``, else the nearest one up from the current folder). The
    environment is only read, never changed.

    Raises:
        ConfigError: no URL anywhere, or a malformed one.
    """
    env = os.environ if environ is None else environ
    dotenv_file = Path(dotenv_path) if dotenv_path is not None else find_dotenv()
    from_file: dict[str, str | None] = {}
    if dotenv_file is not None:
        if not dotenv_file.is_file():
            raise ConfigError(f"the .env file {dotenv_file} does not exist")
        from_file = dict(dotenv_values(dotenv_file))
    chosen_collection = (
        collection
        or env.get(COLLECTION_VARIABLE)
        or from_file.get(COLLECTION_VARIABLE)
        or DEFAULT_COLLECTION
    )
    if url is not None:
        return ChatConfig(normalise_url(url), chosen_collection)
    for name in URL_VARIABLES:
        if env.get(name):
            return ChatConfig(normalise_url(env[name], source=name), chosen_collection)
    for name in URL_VARIABLES:
        value = from_file.get(name)
        if value:
            source = f"{name} in {dotenv_file}"
            return ChatConfig(normalise_url(value, source=source), chosen_collection)
    raise ConfigError(f"no Directus URL found: {_HOW_TO_FIX}")


def write_env_value(path: str | os.PathLike[str], key: str, value: str) -> None:
    """Set ``KEY=value`` in a ``.env`` file, keeping every other line; create it if missing.

    A new file is created readable by its owner only: ``.env`` files tend to
    collect secrets.
    """
    target = Path(path)
    lines = target.read_text().splitlines() if target.is_file() else []
    entry = f"{key}={value}"
    replaced = False
    for index, line in enumerate(lines):
        name = line.split("=", 1)[0].strip()
        if name.startswith("export "):
            name = name[len("export ") :].strip()
        if name == key and "=" in line and not line.lstrip().startswith("#"):
            lines[index] = entry
            replaced = True
    if not replaced:
        lines.append(entry)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    target.write_text("\n".join(lines) + "\n")
