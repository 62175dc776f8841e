"""Sign-up on a real Directus: the local setup opens it, ``DirectusRest.register`` uses it.

One server of this module's own: Directus lets one address sign up 5 times a
minute (``RATE_LIMITER_REGISTRATION_POINTS``), which these tests would use up
on the shared one, and one test turns sign-up off and on again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from support import TIMEOUT

from directus_chat_widget.errors import (
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    RegistrationClosed,
    RegistrationRefused,
)
from directus_chat_widget.local import CHAT_POLICY_NAME, DemoUser, LocalDirectus
from directus_chat_widget.local.registration import CHAT_ROLE_NAME
from directus_chat_widget.rest import DirectusRest
from directus_chat_widget.session import RealtimeSession
from directus_chat_widget.store import MessageStatus
from directus_chat_widget.widget import ChatWidget

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDirectus]:
    own = LocalDirectus(
        tmp_path_factory.mktemp("directus-signup"),
        port=0,
        env={"RATE_LIMITER_REGISTRATION_POINTS": "1000"},
        startup_timeout=12 * TIMEOUT,
    )
    own.start()
    try:
        own.setup_chat()
        yield own
    finally:
        own.stop()


def new_email() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.com"


def admin_get(server: LocalDirectus, path: str, **params: str) -> object:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        login = http.post(
            "/auth/login", json={"email": server.admin_email, "password": server.admin_password}
        )
        token = login.json()["data"]["access_token"]
        reply = http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 200, reply.text
        return reply.json()["data"]


def test_setup_opens_signup_into_a_role_holding_the_chat_policy(server: LocalDirectus) -> None:
    settings = admin_get(server, "/settings")
    assert isinstance(settings, dict)
    assert settings["public_registration"] is True
    assert settings["public_registration_verify_email"] is False
    roles = admin_get(server, "/roles", **{"filter[name][_eq]": CHAT_ROLE_NAME, "fields": "id"})
    assert isinstance(roles, list) and len(roles) == 1
    assert settings["public_registration_role"] == roles[0]["id"]
    held = admin_get(
        server, "/access", **{"filter[role][_eq]": roles[0]["id"], "fields": "policy.name"}
    )
    assert held == [{"policy": {"name": CHAT_POLICY_NAME}}]


async def test_the_public_can_see_that_signup_is_open(server: LocalDirectus) -> None:
    async with DirectusRest(server.url) as rest:
        registration = await rest.registration()
    assert registration.allowed and not registration.verify_email


async def test_a_new_account_chats_with_the_chat_policy_and_no_more(
    server: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    email = new_email()
    async with DirectusRest(server.url) as rest:
        await rest.register(email, "a-long-new-password", first_name="Newt")
        tokens = await rest.login(email, "a-long-new-password")
        me = await rest.me(tokens.access_token)
        assert me["first_name"] == "Newt"
        ada = demo_users[0]
        theirs = await rest.login(ada.email, ada.password)
        other = await rest.request(
            "POST", "/items/messages", token=theirs.access_token, json={"content": "Ada's"}
        )
        with pytest.raises(Forbidden):
            await rest.request(
                "PATCH",
                f"/items/messages/{other['id']}",
                token=tokens.access_token,
                json={"content": "not yours"},
            )
        with pytest.raises(Forbidden):
            await rest.request(
                "GET", "/users", token=tokens.access_token, params={"fields": "email"}
            )
    session = RealtimeSession(server.url)
    try:
        await session.login(email, "a-long-new-password")
        made = await session.create({"content": "hello from a new account"})
        rows = await session.read(None, {"filter": {"id": {"_eq": made["id"]}}})
        assert [row["content"] for row in rows] == ["hello from a new account"]
    finally:
        await session.close()


async def test_a_taken_email_is_answered_like_a_new_one_and_keeps_its_password(
    server: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    ada = demo_users[0]
    async with DirectusRest(server.url) as rest:
        # Directus hides which emails exist: no error, and nothing changes.
        await rest.register(ada.email, "someone-elses-password")
        with pytest.raises(InvalidCredentials):
            await rest.login(ada.email, "someone-elses-password")
        await rest.login(ada.email, ada.password)


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("fresh@example.com", "", '"password" is not allowed to be empty'),
        ("not-an-email", "a-long-new-password", '"email" must be a valid email'),
        ("", "a-long-new-password", '"email" is not allowed to be empty'),
    ],
)
async def test_bad_details_are_refused_with_the_servers_reason(
    server: LocalDirectus, email: str, password: str, reason: str
) -> None:
    async with DirectusRest(server.url) as rest:
        with pytest.raises(RegistrationRefused) as caught:
            await rest.register(email, password)
    assert reason in str(caught.value)
    assert caught.value.code == "INVALID_PAYLOAD"


def admin_patch_settings(server: LocalDirectus, values: dict[str, object]) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        login = http.post(
            "/auth/login", json={"email": server.admin_email, "password": server.admin_password}
        )
        token = login.json()["data"]["access_token"]
        reply = http.patch("/settings", json=values, headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 200, reply.text


async def test_a_weak_password_is_refused_and_never_echoed(server: LocalDirectus) -> None:
    admin_patch_settings(server, {"auth_password_policy": "/^.{12,}$/"})
    try:
        async with DirectusRest(server.url) as rest:
            with pytest.raises(RegistrationRefused) as caught:
                await rest.register(new_email(), "short-pw")
    finally:
        admin_patch_settings(server, {"auth_password_policy": None})
    assert caught.value.code == "FAILED_VALIDATION"
    assert 'field "password"' in str(caught.value)
    # Directus puts the password in extensions.invalid; the kit keeps only the message.
    assert "short-pw" not in str(caught.value) and "short-pw" not in repr(caught.value.args)


async def test_with_signup_off_registering_is_a_clear_error(server: LocalDirectus) -> None:
    report = server.setup_chat(registration=False)
    try:
        assert "public sign-up off" in report.modified
        async with DirectusRest(server.url) as rest:
            assert not (await rest.registration()).allowed
            with pytest.raises(RegistrationClosed, match="does not let people sign up"):
                await rest.register(new_email(), "a-long-new-password")
    finally:
        again = server.setup_chat()
    assert any(line.startswith("public sign-up on") for line in again.modified)
    assert not server.setup_chat().changed


async def test_the_widget_signs_up_logs_in_and_chats(server: LocalDirectus) -> None:
    chat = ChatWidget(url=server.url)
    try:
        await chat.settle()  # it asked the server whether sign-up is open
        assert chat.login_form.can_register
        email = new_email()
        await chat.register(email, "a-long-new-password", "Newt")
        assert chat.is_logged_in and chat.user is not None
        assert chat.user["first_name"] == "Newt"
        sent = await chat.send_message("first words of a new account")
        assert sent.status is MessageStatus.SENT
        await chat.logout()
        with pytest.raises(EmailTaken):
            await chat.register(email, "another-password")
        assert "exists already" in chat.login_form.error
        with pytest.raises(RegistrationRefused):
            await chat.register("not-an-email", "a-long-new-password")
        assert '"email" must be a valid email' in chat.login_form.error
    finally:
        await chat.aclose()
        chat.close()


async def test_with_signup_off_the_widget_hides_it(server: LocalDirectus) -> None:
    server.setup_chat(registration=False)
    chat = ChatWidget(url=server.url)
    try:
        assert not await chat.check_signup()
        assert not chat.login_form.can_register
        with pytest.raises(RegistrationClosed):
            await chat.register(new_email(), "a-long-new-password")
        assert "does not let people sign up" in chat.login_form.error
    finally:
        server.setup_chat()
        chat.close()
