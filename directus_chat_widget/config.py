"""Where the Directus server is: from an argument, the environment, or a ``.env`` file.

The tutorial keeps the URL in ``.env`` as ``PUBLIC_DIRECTUS_URL``; the kit reads
that name too, after its own ``DIRECTUS_URL``. ``directus-chat up`` writes
``DIRECTUS_URL`` for you (with :func:`write_env_value`).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values

from .errors import ConfigError

__all__ = [
    "COLLECTION_VARIABLE",
    "DEFAULT_COLLECTION",
    "URL_VARIABLES",
    "ChatConfig",
    "find_dotenv",
    "load_config",
    "normalise_url",
    "write_env_value",
]

URL_VARIABLES = ("DIRECTUS_URL", "PUBLIC_DIRECTUS_URL")
COLLECTION_VARIABLE = "DIRECTUS_COLLECTION"
DEFAULT_COLLECTION = "messages"

_HOW_TO_FIX = "pass a URL, set DIRECTUS_URL (environment or .env), or run `directus-chat up`"
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Values made only of these characters need no quotes in a .env file.
_BARE_VALUE = re.compile(r"[A-Za-z0-9_./:@%+,=~-]*")
# Names, IDN (\w is Unicode), IPv4 and IPv6 (brackets already removed by urlsplit).
_HOST = re.compile(r"[\w.~%:-]+")
# The user:password@ part of a URL, so an error message never repeats a password.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#@]*@")


@dataclass(frozen=True)
class ChatConfig:
    """Where the chat lives.

    The URL is checked and normalised on construction, so a ``ChatConfig`` made
    by hand is as trustworthy as one from :func:`load_config`.

    Attributes:
        url: the Directus base URL, ``http(s)://host[:port][/path]`` without a
            trailing slash.
        collection: the collection that holds the messages.

    Raises:
        ConfigError: the URL is malformed (see :func:`normalise_url`), or the
            collection name is empty.
    """

    url: str
    collection: str = DEFAULT_COLLECTION

    def __post_init__(self) -> None:
        # Frozen: object.__setattr__ is the documented way to normalise in __post_init__.
        object.__setattr__(self, "url", normalise_url(self.url, source="ChatConfig(url=...)"))
        if not self.collection.strip():
            raise ConfigError(f"the collection name is empty: set {COLLECTION_VARIABLE} or omit it")
        object.__setattr__(self, "collection", self.collection.strip())

    @property
    def websocket_url(self) -> str:
        """The realtime endpoint: ``ws://`` for ``http://``, ``wss://`` for ``https://``."""
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, f"{parts.path}/websocket", "", ""))


def _shown(value: str) -> str:
    return repr(_USERINFO.sub(r"\1***@", value))


def normalise_url(raw: str, *, source: str = "the argument") -> str:
    """Check a Directus URL and return it without a trailing slash.

    Args:
        raw: the URL as written.
        source: where it came from, named in the error (``"DIRECTUS_URL in ./.env"``).

    Raises:
        ConfigError: empty, not http(s), without a host, with a bad port, with
            credentials, or with a query or fragment. The message names ``source``.
    """
    value = raw.strip()
    where = f"the Directus URL from {source}"
    if not value:
        raise ConfigError(f"{where} is empty: {_HOW_TO_FIX}")
    if any(char.isspace() for char in value):
        raise ConfigError(f"{where} contains a space: {_shown(value)}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        if "://" not in value:
            raise ConfigError(
                f"{where} has no scheme: {_shown(value)}; write it as 'http://{value}'"
                if "@" not in value
                else f"{where} has no scheme: {_shown(value)}; start it with http://"
            )
        raise ConfigError(f"{where} must start with http:// or https://, not {_shown(value)}")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and error messages; log in instead.
        raise ConfigError(
            f"{where} must not contain a user name or password ({_shown(value)}): "
            "log in with your email and password instead"
        )
    if not parts.hostname:
        raise ConfigError(f"{where} has no host: {_shown(value)}; e.g. 'http://localhost:8055'")
    if not _HOST.fullmatch(parts.hostname):
        raise ConfigError(f"{where} has a malformed host name: {_shown(value)}")
    try:
        parts.port  # noqa: B018 - the property raises on a malformed port
    except ValueError as exc:
        raise ConfigError(f"{where} has a bad port: {_shown(value)}") from exc
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{where} must not have a query or fragment: {_shown(value)}; "
            "give the server's base URL only"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def find_dotenv(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest ``.env`` file in ``start`` (default: the current folder) or above it."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise ConfigError(
            f"the .env file {path} is missing (or not a file): create it or fix the path"
        )
    try:
        # interpolate=False: values are taken as written, so the result never
        # depends on os.environ when the caller passed ``environ``.
        values = dotenv_values(path, interpolate=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the .env file {path}: {exc}") from exc
    return {key: value for key, value in values.items() if value is not None}


def load_config(
    url: str | None = None,
    *,
    collection: str | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | os.PathLike[str] | None = None,
) -> ChatConfig:
    """Build a :class:`ChatConfig` from the first place that has a URL.

    Order for the URL: the ``url`` argument; ``DIRECTUS_URL`` then
    ``PUBLIC_DIRECTUS_URL`` in ``environ`` (default ``os.environ``); the same
    names in a ``.env`` file (``dotenv_path``, else the nearest ``.env`` found
    walking up from the current folder). The collection comes from
    ``collection``, then ``DIRECTUS_COLLECTION`` in the same places, else
    ``"messages"``. Empty variables count as unset (an empty ``url`` argument
    is an error). Nothing is written to ``os.environ``.

    Raises:
        ConfigError: no URL anywhere, a malformed one (the message says where
            it came from), or a ``dotenv_path`` that does not exist.
    """
    env = os.environ if environ is None else environ
    dotenv_file = Path(dotenv_path) if dotenv_path is not None else find_dotenv()
    from_file = _read_dotenv(dotenv_file) if dotenv_file is not None else {}

    chosen_collection = (
        collection
        or env.get(COLLECTION_VARIABLE)
        or from_file.get(COLLECTION_VARIABLE)
        or DEFAULT_COLLECTION
    )
    candidates: list[tuple[str | None, str]] = [(url, "the argument")]
    candidates += [(env.get(name), f"{name} in the environment") for name in URL_VARIABLES]
    candidates += [(from_file.get(name), f"{name} in {dotenv_file}") for name in URL_VARIABLES]
    for value, source in candidates:
        # An explicit argument is checked even when empty; unset-or-empty
        # variables just let the next place speak.
        if value is None or (not value.strip() and source != "the argument"):
            continue
        return ChatConfig(normalise_url(value, source=source), chosen_collection)
    searched = (
        f"the environment or {dotenv_file}"
        if dotenv_file is not None
        else "the environment (and no .env file was found)"
    )
    raise ConfigError(f"no Directus URL in {searched}: {_HOW_TO_FIX}")


def _env_line_key(line: str) -> tuple[str, str] | None:
    """``(prefix, key)`` of an assignment line (prefix ``"export "`` or ``""``), else None."""
    stripped = line.strip()
    if stripped.startswith("#") or "=" not in stripped:
        return None
    name = stripped.split("=", 1)[0].strip()
    prefix = ""
    if name.startswith("export "):
        prefix, name = "export ", name[len("export ") :].strip()
    return (prefix, name) if _ENV_KEY.fullmatch(name) else None


def _quoted(value: str) -> str:
    if _BARE_VALUE.fullmatch(value):
        return value
    if "'" not in value:
        # Single quotes: no escapes and no ${...} expansion in python-dotenv.
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_env_value(path: str | os.PathLike[str], key: str, value: str) -> None:
    """Set ``KEY=value`` in a ``.env`` file, keeping every other line; create it if missing.

    The first assignment of ``key`` is replaced in place (an ``export`` prefix
    is kept) and later duplicates are dropped, since the last one would win.
    Comments, blank lines and other keys stay as they were. Values that need
    it are quoted. The file is replaced atomically; a new one is readable by
    its owner only (``.env`` files tend to collect secrets), an existing one
    keeps its mode.

    Raises:
        ValueError: ``key`` is not a valid variable name, or ``value`` has a
            line break or NUL.
        OSError: the file or its folder cannot be written.
    """
    if not _ENV_KEY.fullmatch(key):
        raise ValueError(f"not a valid .env variable name: {key!r}")
    if any(char in value for char in "\r\n\0"):
        raise ValueError(f"the value for {key} must be a single line")
    target = Path(path).resolve()  # resolved: replacing a symlink would detach it
    text = ""
    if target.is_file():
        # newline="": keep \r\n visible, to write the file back the way it was.
        with open(target, encoding="utf-8", newline="") as stream:
            text = stream.read()
    newline = "\r\n" if "\r\n" in text else "\n"
    lines: list[str] = []
    replaced = False
    for line in text.splitlines():
        found = _env_line_key(line)
        if found is None or found[1] != key:
            lines.append(line)
        elif not replaced:
            lines.append(f"{found[0]}{key}={_quoted(value)}")
            replaced = True
    if not replaced:
        lines.append(f"{key}={_quoted(value)}")

    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o600
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".env.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(newline.join(lines) + newline)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
