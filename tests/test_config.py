"""Config: where the URL comes from, and how a bad one is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from directus_chat_widget.config import ChatConfig, load_config, write_env_value
from directus_chat_widget.errors import ConfigError

NO_ENV: dict[str, str] = {}


def test_argument_wins_over_environment_and_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DIRECTUS_URL=http://from-file:1\n")
    config = load_config(
        "http://from-argument:3/", environ={"DIRECTUS_URL": "http://env:2"}, dotenv_path=dotenv
    )
    assert config.url == "http://from-argument:3"


def test_environment_wins_over_file_and_directus_url_over_public(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DIRECTUS_URL=http://from-file:1\n")
    env = {"PUBLIC_DIRECTUS_URL": "http://public:2", "DIRECTUS_URL": "http://own:3"}
    assert load_config(environ=env, dotenv_path=dotenv).url == "http://own:3"
    assert (
        load_config(environ={"PUBLIC_DIRECTUS_URL": "http://public:2"}, dotenv_path=dotenv).url
        == "http://public:2"
    )


def test_file_is_found_walking_up_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("# comment\nPUBLIC_DIRECTUS_URL='https://chat.example.org/'\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    config = load_config(environ=NO_ENV)
    assert config.url == "https://chat.example.org"
    assert config.websocket_url == "wss://chat.example.org/websocket"


def test_missing_url_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="set DIRECTUS_URL"):
        load_config(environ=NO_ENV)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("localhost:8055", "must start with http"),
        ("ftp://example.org", "must start with http"),
        ("http://", "has no host"),
        ("http://example.org:port", "bad port"),
        ("http://example.org/?x=1", "query or fragment"),
        ("   ", "empty"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        load_config(raw, environ=NO_ENV)


def test_bad_value_names_where_it_came_from(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DIRECTUS_URL=example.org\n")
    with pytest.raises(ConfigError, match=r"DIRECTUS_URL in .*\.env"):
        load_config(environ=NO_ENV, dotenv_path=dotenv)


def test_websocket_url_keeps_port_and_path() -> None:
    assert ChatConfig("http://127.0.0.1:8055").websocket_url == "ws://127.0.0.1:8055/websocket"
    assert ChatConfig("https://x.org/cms").websocket_url == "wss://x.org/cms/websocket"


def test_collection_from_argument_environment_or_default(tmp_path: Path) -> None:
    url = "http://h:1"
    assert load_config(url, environ=NO_ENV, dotenv_path=None).collection == "messages"
    assert load_config(url, environ={"DIRECTUS_COLLECTION": "chat"}).collection == "chat"
    assert load_config(url, collection="room", environ={"DIRECTUS_COLLECTION": "x"}).collection == (
        "room"
    )


def test_write_env_value_keeps_other_lines_and_is_private(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    write_env_value(dotenv, "DIRECTUS_URL", "http://a:1")
    assert dotenv.stat().st_mode & 0o077 == 0
    dotenv.write_text("# mine\nOTHER=keep\nexport DIRECTUS_URL=http://old:1\n#DIRECTUS_URL=x\n")
    write_env_value(dotenv, "DIRECTUS_URL", "http://new:2")
    assert dotenv.read_text().splitlines() == [
        "# mine",
        "OTHER=keep",
        "DIRECTUS_URL=http://new:2",
        "#DIRECTUS_URL=x",
    ]
    write_env_value(dotenv, "ADDED", "yes")
    assert dotenv.read_text().splitlines()[-1] == "ADDED=yes"
    assert load_config(environ=NO_ENV, dotenv_path=dotenv).url == "http://new:2"
