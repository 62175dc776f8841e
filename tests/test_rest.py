"""REST: error translation (pure, with httpx.MockTransport) and a real server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import TIMEOUT

from directus_chat_widget.errors import (
    Forbidden,
    InvalidCredentials,
    ServerError,
    ServerUnreachable,
    SessionClosed,
    TokenExpired,
)
from directus_chat_widget.local import DemoUser, LocalDirectus
from directus_chat_widget.local.server import free_port
from directus_chat_widget.rest import DirectusRest, Tokens, encode_query


def _answering(status: int, body: Any) -> DirectusRest:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return DirectusRest(
        "http://d", client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )


def _error(code: str, message: str = "nope") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (401, _error("INVALID_CREDENTIALS"), InvalidCredentials, "INVALID_CREDENTIALS"),
        (401, _error("TOKEN_EXPIRED"), TokenExpired, "TOKEN_EXPIRED"),
        (401, _error("INVALID_TOKEN"), TokenExpired, "INVALID_TOKEN"),
        (403, _error("FORBIDDEN"), Forbidden, "FORBIDDEN"),
        (400, _error("INVALID_PAYLOAD", "bad field"), ServerError, "INVALID_PAYLOAD"),
        (503, {"unexpected": True}, ServerError, None),
    ],
)
async def test_error_answers_become_our_errors(
    status: int, body: Any, error: type[Exception], code: str | None
) -> None:
    async with _answering(status, body) as rest:
        with pytest.raises(error) as caught:
            await rest.request("GET", "/anything")
    assert getattr(caught.value, "code", None) == code


async def test_invalid_credentials_read_like_a_login_form() -> None:
    async with _answering(401, _error("INVALID_CREDENTIALS", "Invalid user credentials.")) as rest:
        with pytest.raises(InvalidCredentials, match=r"^Invalid email or password$"):
            await rest.login("a@b.c", "x")


async def test_server_message_is_kept() -> None:
    async with _answering(400, _error("INVALID_QUERY", "Unknown field 'nope'")) as rest:
        with pytest.raises(ServerError, match="Unknown field 'nope'"):
            await rest.request("GET", "/items/x")


async def test_a_login_answer_without_tokens_is_a_server_error() -> None:
    async with _answering(200, {"data": {"expires": 5}}) as rest:
        with pytest.raises(ServerError, match="no tokens"):
            await rest.login("a@b.c", "x")


async def test_closed_client_refuses_precisely() -> None:
    rest = _answering(200, {"data": []})
    await rest.aclose()
    await rest.aclose()  # twice is fine
    with pytest.raises(SessionClosed, match="closed"):
        await rest.request("GET", "/x")


def test_query_encoding_matches_directus() -> None:
    params = encode_query(
        {"fields": ["id", "user_created.first_name"], "filter": {"id": {"_gt": 3}}, "limit": 20}
    )
    assert params == {
        "fields": "id,user_created.first_name",
        "filter": json.dumps({"id": {"_gt": 3}}, separators=(",", ":")),
        "limit": "20",
    }


def test_tokens_never_show_in_repr() -> None:
    tokens = Tokens("secret-access", "secret-refresh", 900_000, received_at=100.0)
    assert "secret" not in repr(tokens)
    assert tokens.expires_at == 1000.0


async def test_unreachable_server_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with DirectusRest(url, timeout=TIMEOUT) as rest:
        with pytest.raises(ServerUnreachable, match=url):
            await rest.login("a@b.c", "x")


@pytest.mark.integration
async def test_login_me_refresh_logout_against_a_real_server(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    grace = demo_users[1]
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        tokens = await rest.login(grace.email, grace.password)
        me = await rest.me(tokens.access_token, fields=("id", "first_name"))
        assert me["first_name"] == grace.first_name
        renewed = await rest.refresh(tokens.refresh_token)
        assert renewed.refresh_token != tokens.refresh_token
        with pytest.raises(TokenExpired):  # refresh tokens rotate: the old one is spent
            await rest.refresh(tokens.refresh_token)
        await rest.logout(renewed.refresh_token)
        with pytest.raises(TokenExpired):
            await rest.refresh(renewed.refresh_token)


@pytest.mark.integration
async def test_wrong_password_and_forbidden_collection(
    directus: LocalDirectus, demo_users: list[DemoUser]
) -> None:
    async with DirectusRest(directus.url, timeout=TIMEOUT) as rest:
        with pytest.raises(InvalidCredentials):
            await rest.login(demo_users[0].email, "wrong password")
        assert isinstance(await rest.read_items("messages", token=None), list)
        with pytest.raises(Forbidden):
            await rest.read_items("no_such_collection", token=None)
