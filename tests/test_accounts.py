"""chat_logins(): the tutorial's two people, from the environment or .env, else the demo users."""

from __future__ import annotations

from pathlib import Path

import pytest

from directus_chat_widget.config import write_env_value
from directus_chat_widget.errors import ConfigError
from directus_chat_widget.local import DEMO_USERS, chat_logins

OWN = {
    "DIRECTUS_EMAIL": "lin@example.com",
    "DIRECTUS_PASSWORD": "lin's long password",
    "DIRECTUS_EMAIL_2": "sam@example.com",
    "DIRECTUS_PASSWORD_2": "sam's long password",
}


def test_without_settings_the_demo_users(tmp_path: Path) -> None:
    first, second = chat_logins(environ={}, dotenv_path=tmp_path / "none.env")
    assert (first.email, second.email) == (DEMO_USERS[0].email, DEMO_USERS[1].email)
    assert first.password == DEMO_USERS[0].password and not first.from_environment


def test_your_accounts_from_the_environment(tmp_path: Path) -> None:
    first, second = chat_logins(environ=OWN, dotenv_path=tmp_path / "none.env")
    assert (first.email, second.password) == ("lin@example.com", "sam's long password")
    assert first.from_environment and second.from_environment
    assert "long password" not in repr(first)
    # demo=True: a private server the notebook started has only the demo users.
    assert chat_logins(demo=True, environ=OWN)[0].email == DEMO_USERS[0].email


def test_your_accounts_from_the_dotenv_file_the_environment_first(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    for key, value in OWN.items():
        write_env_value(env_file, key, value)
    first, second = chat_logins(environ={"DIRECTUS_EMAIL": "env@example.com"}, dotenv_path=env_file)
    assert (first.email, first.password) == ("env@example.com", "lin's long password")
    assert second.email == "sam@example.com"


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (("DIRECTUS_PASSWORD",), "DIRECTUS_EMAIL is set but DIRECTUS_PASSWORD is not"),
        (("DIRECTUS_EMAIL_2",), "DIRECTUS_PASSWORD_2 is set but DIRECTUS_EMAIL_2 is not"),
        (("DIRECTUS_EMAIL_2", "DIRECTUS_PASSWORD_2"), "needs a second chat user too"),
        (("DIRECTUS_EMAIL", "DIRECTUS_PASSWORD"), "name the first chat user too"),
    ],
)
def test_half_a_setting_is_a_clear_error(
    tmp_path: Path, drop: tuple[str, ...], message: str
) -> None:
    environ = {key: value for key, value in OWN.items() if key not in drop}
    with pytest.raises(ConfigError, match=message) as caught:
        chat_logins(environ=environ, dotenv_path=tmp_path / "none.env")
    assert "long password" not in str(caught.value)
