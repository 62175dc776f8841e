"""Config: where the URL comes from, and how a bad one is refused (pure: no network).

The environment is passed as ``environ`` and every ``.env`` lives in ``tmp_path``,
so no test depends on the machine's variables or on a ``.env`` above the repo;
only the walk-up test moves the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dotenv import dotenv_values

from directus_chat_widget.config import (
    ChatConfig,
    find_dotenv,
    load_config,
    normalise_url,
    write_env_value,
)
from directus_chat_widget.errors import ConfigError

NO_ENV: dict[str, str] = {}


@pytest.fixture
def empty_dotenv(tmp_path: Path) -> Path:
    """An explicit, empty .env: the tests that use it never read one from the cwd."""
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


# -- where the URL comes from ------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "environ", "expected"),
    [
        ("http://argument:1", {"DIRECTUS_URL": "http://env:2"}, "http://argument:1"),
        (
            None,
            {"DIRECTUS_URL": "http://env:2", "PUBLIC_DIRECTUS_URL": "http://pub:3"},
            "http://env:2",
        ),
        (None, {"PUBLIC_DIRECTUS_URL": "http://pub:3"}, "http://pub:3"),
        (None, {"DIRECTUS_URL": "", "PUBLIC_DIRECTUS_URL": "http://pub:3"}, "http://pub:3"),
        (None, {}, "http://file-own:4"),
    ],
    ids=["argument", "DIRECTUS_URL", "PUBLIC_DIRECTUS_URL", "empty-is-unset", "dotenv"],
)
def test_precedence_argument_environment_then_file(
    tmp_path: Path, argument: str | None, environ: dict[str, str], expected: str
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PUBLIC_DIRECTUS_URL=http://file-public:5\nDIRECTUS_URL=http://file-own:4\n")
    assert load_config(argument, environ=environ, dotenv_path=dotenv).url == expected


def test_dotenv_public_name_is_read_when_own_name_is_absent(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# from the Astro tutorial\nPUBLIC_DIRECTUS_URL='https://chat.example.org/'\n"
    )
    assert load_config(environ=NO_ENV, dotenv_path=dotenv).url == "https://chat.example.org"


def test_environ_replaces_os_environ_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one use of setenv: proving that a passed ``environ`` shuts os.environ out.
    monkeypatch.setenv("DIRECTUS_URL", "http://from-os-environ:1")
    dotenv = tmp_path / ".env"
    dotenv.write_text("DIRECTUS_URL=http://from-file:2\nDIRECTUS_COLLECTION=room\n")
    before = dict(os.environ)
    config = load_config(environ=NO_ENV, dotenv_path=dotenv)
    assert (config.url, config.collection) == ("http://from-file:2", "room")
    assert dict(os.environ) == before


def test_dotenv_values_are_taken_literally(tmp_path: Path) -> None:
    # No ${...} expansion: it would read os.environ behind the caller's back.
    dotenv = tmp_path / ".env"
    dotenv.write_text("HOST=example.org\nDIRECTUS_URL=http://${HOST}\n")
    with pytest.raises(ConfigError, match=r"\$\{HOST\}"):
        load_config(environ=NO_ENV, dotenv_path=dotenv)


def test_find_dotenv_walks_up_to_the_nearest(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DIRECTUS_URL=http://outer:1\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".env").write_text("DIRECTUS_URL=http://inner:2\n")
    nested = tmp_path / "a" / "b" / "c"
    nested.mkdir(parents=True)
    assert find_dotenv(nested) == (tmp_path / "a" / ".env").resolve()
    assert find_dotenv(tmp_path) == (tmp_path / ".env").resolve()
    (tmp_path / "a" / "b" / ".env").mkdir()  # a folder named .env is not a file
    assert find_dotenv(nested) == (tmp_path / "a" / ".env").resolve()


def test_load_config_finds_the_dotenv_above_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("DIRECTUS_URL=https://chat.example.org:8443/cms/\n")
    nested = tmp_path / "notebooks" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    config = load_config(environ=NO_ENV)
    assert config.url == "https://chat.example.org:8443/cms"
    assert config.websocket_url == "wss://chat.example.org:8443/cms/websocket"


def test_missing_url_says_where_it_looked_and_how_to_fix(empty_dotenv: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=NO_ENV, dotenv_path=empty_dotenv)
    message = str(caught.value)
    assert str(empty_dotenv) in message
    assert "set DIRECTUS_URL" in message and "directus-chat up" in message
    assert "\n" not in message


def test_a_dotenv_path_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.env is missing"):
        load_config("http://h:1", environ=NO_ENV, dotenv_path=tmp_path / "missing.env")


# -- what a good URL is --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("localhost:8055", r"has no scheme: 'localhost:8055'; write it as 'http://localhost:8055'"),
        ("127.0.0.1:8055", r"write it as 'http://127\.0\.0\.1:8055'"),
        ("ftp://example.org", r"must start with http:// or https://"),
        ("ws://example.org", r"must start with http:// or https://"),
        ("http://", r"has no host"),
        ("http://:8055", r"has no host"),
        ("http://example.org:port", r"bad port"),
        ("http://example.org:99999", r"bad port"),
        ("http://example.org/?x=1", r"query or fragment"),
        ("http://example.org/#top", r"query or fragment"),
        ("http://exa mple.org", r"contains a space"),
        ("http://${HOST}:8055", r"malformed host name"),
        ("   ", r"is empty"),
        ("", r"is empty"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as caught:
        normalise_url(raw, source="the argument")
    assert "the argument" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_password_in_the_url_is_refused_and_never_repeated() -> None:
    with pytest.raises(ConfigError, match="user name or password") as caught:
        normalise_url("http://bob:hunter2@example.org")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError) as no_scheme:
        normalise_url("bob:hunter2@example.org")
    assert "hunter2" not in str(no_scheme.value)


@pytest.mark.parametrize(
    ("environ", "file_text", "source"),
    [
        ({"DIRECTUS_URL": "example.org"}, "", r"DIRECTUS_URL in the environment"),
        ({"PUBLIC_DIRECTUS_URL": "ftp://x"}, "", r"PUBLIC_DIRECTUS_URL in the environment"),
        ({}, "DIRECTUS_URL=example.org\n", r"DIRECTUS_URL in .*chat\.env"),
    ],
)
def test_a_bad_value_names_where_it_came_from(
    tmp_path: Path, environ: dict[str, str], file_text: str, source: str
) -> None:
    dotenv = tmp_path / "chat.env"
    dotenv.write_text(file_text)
    with pytest.raises(ConfigError, match=source):
        load_config(environ=environ, dotenv_path=dotenv)


def test_an_empty_argument_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DIRECTUS_URL=http://file:1\n")
    with pytest.raises(ConfigError, match="from the argument is empty"):
        load_config("", environ=NO_ENV, dotenv_path=dotenv)


@pytest.mark.parametrize(
    ("url", "normal", "websocket"),
    [
        ("http://127.0.0.1:8055", "http://127.0.0.1:8055", "ws://127.0.0.1:8055/websocket"),
        ("http://localhost:8055/", "http://localhost:8055", "ws://localhost:8055/websocket"),
        ("https://x.org", "https://x.org", "wss://x.org/websocket"),
        ("https://x.org/cms//", "https://x.org/cms", "wss://x.org/cms/websocket"),
        ("HTTPS://X.org:443/a/b", "https://X.org:443/a/b", "wss://X.org:443/a/b/websocket"),
        ("http://[::1]:8055", "http://[::1]:8055", "ws://[::1]:8055/websocket"),
        ("  http://h:1  ", "http://h:1", "ws://h:1/websocket"),
    ],
)
def test_url_is_normalised_and_mapped_to_ws_or_wss(url: str, normal: str, websocket: str) -> None:
    config = ChatConfig(url)
    assert config.url == normal
    assert config.websocket_url == websocket


def test_chat_config_made_by_hand_is_checked_and_frozen() -> None:
    with pytest.raises(ConfigError, match=r"ChatConfig\(url=\.\.\.\)"):
        ChatConfig("localhost:8055")
    with pytest.raises(ConfigError, match="collection name is empty"):
        ChatConfig("http://h:1", collection=" ")
    config = ChatConfig("http://h:1")
    with pytest.raises(AttributeError):
        config.url = "http://other:2"  # type: ignore[misc]


def test_collection_from_argument_environment_file_or_default(tmp_path: Path) -> None:
    url = "http://h:1"
    dotenv = tmp_path / ".env"
    dotenv.write_text("")
    assert load_config(url, environ=NO_ENV, dotenv_path=dotenv).collection == "messages"
    dotenv.write_text("DIRECTUS_COLLECTION=from_file\n")
    assert load_config(url, environ=NO_ENV, dotenv_path=dotenv).collection == "from_file"
    env = {"DIRECTUS_COLLECTION": "from_env"}
    assert load_config(url, environ=env, dotenv_path=dotenv).collection == "from_env"
    chosen = load_config(url, collection="room", environ=env, dotenv_path=dotenv)
    assert chosen.collection == "room"


# -- writing .env ----------------------------------------------------------------------


def test_write_env_value_creates_a_private_file(tmp_path: Path) -> None:
    dotenv = tmp_path / "new" / ".env"
    write_env_value(dotenv, "DIRECTUS_URL", "http://a:1")
    assert dotenv.read_text() == "DIRECTUS_URL=http://a:1\n"
    assert dotenv.stat().st_mode & 0o777 == 0o600


def test_write_env_value_keeps_other_lines_comments_and_mode(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# mine\n"
        "OTHER=keep # trailing comment\n"
        "\n"
        "export DIRECTUS_URL=http://old:1\n"
        "#DIRECTUS_URL=commented-out\n"
        "DIRECTUS_URL_EXTRA=not-the-same-key\n"
        "DIRECTUS_URL=http://duplicate:3\n"
    )
    dotenv.chmod(0o644)
    write_env_value(dotenv, "DIRECTUS_URL", "http://new:2")
    assert dotenv.read_text().splitlines() == [
        "# mine",
        "OTHER=keep # trailing comment",
        "",
        "export DIRECTUS_URL=http://new:2",
        "#DIRECTUS_URL=commented-out",
        "DIRECTUS_URL_EXTRA=not-the-same-key",
    ]
    assert dotenv.stat().st_mode & 0o777 == 0o644
    write_env_value(dotenv, "ADDED", "yes")
    assert dotenv.read_text().splitlines()[-1] == "ADDED=yes"
    assert load_config(environ=NO_ENV, dotenv_path=dotenv).url == "http://new:2"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary left behind


def test_write_env_value_keeps_windows_line_endings(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_bytes(b"A=1\r\nDIRECTUS_URL=http://old:1\r\n")
    write_env_value(dotenv, "DIRECTUS_URL", "http://new:2")
    assert dotenv.read_bytes() == b"A=1\r\nDIRECTUS_URL=http://new:2\r\n"


@pytest.mark.parametrize(
    "value",
    ["plain", "with space", "hash # not a comment", "it's", 'say "hi"', "$HOME", "back\\slash", ""],
)
def test_write_env_value_round_trips_through_dotenv(tmp_path: Path, value: str) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("BEFORE=1\n")
    write_env_value(dotenv, "KEY", value)
    assert dotenv_values(dotenv) == {"BEFORE": "1", "KEY": value}


@pytest.mark.parametrize(("key", "value"), [("1BAD", "x"), ("A B", "x"), ("K", "two\nlines")])
def test_write_env_value_refuses_what_would_corrupt_the_file(
    tmp_path: Path, key: str, value: str
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("KEEP=1\n")
    with pytest.raises(ValueError):
        write_env_value(dotenv, key, value)
    assert dotenv.read_text() == "KEEP=1\n"
